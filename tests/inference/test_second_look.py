"""``Solver.with_second_look``: other views of an image the model is unsure of, the most
confident reading kept; and the registry of views."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from captchalab.data.preprocess import ImageDecodeError
from captchalab.inference import Solver
from captchalab.inference.solver import DEFAULT_SECOND_LOOK
from captchalab.inference.views import VIEWS, register_view, resolve_views
from captchalab.schemes.fonts import shipped_fonts
from captchalab.schemes.styled_render import load_font


def _plain(text: str) -> Image.Image:
    font = load_font(str(shipped_fonts()[0]), 34)
    image = Image.new("RGB", (40 + 26 * len(text), 56), (235, 238, 240))
    ImageDraw.Draw(image).text((20, 8), text, font=font, fill=(30, 30, 60))
    return image


def _noise(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (48, 140, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


@pytest.fixture(scope="module")
def solver() -> Solver:
    return Solver.load("default", threads=1)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "1"])
def test_every_view_returns_an_image_the_model_reads(mode: str, solver: Solver) -> None:
    image = _plain("k7Qm").convert(mode)
    for name, view in VIEWS.items():
        out = view(image)
        assert isinstance(out, Image.Image) and out.mode in ("RGB", "L"), name
        assert isinstance(solver.solve(out).text, str)


def test_view_names_are_checked() -> None:
    assert resolve_views(None) == tuple(VIEWS)
    assert resolve_views(["blur", "pad"]) == ("blur", "pad")
    with pytest.raises(ValueError, match="unknown views"):
        resolve_views(["sharpen"])
    with pytest.raises(ValueError, match="at least one"):
        resolve_views([])
    with pytest.raises(ValueError, match="registered twice"):
        register_view("blur")(lambda image: image)


def test_threshold_is_checked_and_can_be_switched_off(solver: Solver) -> None:
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="threshold"):
            solver.with_second_look(bad)
    looking = solver.case_insensitive().restricted("abc123").with_second_look()
    assert looking.second_look is not None
    assert looking.second_look.threshold == DEFAULT_SECOND_LOOK
    assert looking.case == "insensitive" and looking.symbols == "123abc"
    assert "second_look=0.5" in repr(looking)
    off = looking.with_second_look(None)
    assert off.second_look is None and off.case == "insensitive"
    assert solver.second_look is None  # views never change the solver they came from


def test_a_view_that_reads_better_wins_only_below_the_threshold(
    solver: Solver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registered view that shows a clean 'k7Qm' for any input: an unsure reading of noise
    gives way to it; a confident reading, or a solver without the second look, does not."""
    clean = _plain("k7Qm")
    monkeypatch.setitem(VIEWS, "clean", lambda image: clean)
    noise = _noise(0)
    first = solver.solve(noise)
    assert first.text != "k7Qm" and first.confidence < 0.5
    looked = solver.with_second_look(0.5, views=["clean"]).solve(noise)
    assert looked.text == "k7Qm" and looked.confidence > first.confidence
    assert solver.solve(noise) == first
    confident = solver.solve(_plain("Hx4tP9"))
    assert confident.confidence >= 0.5
    kept = solver.with_second_look(confident.confidence, views=["clean"]).solve(_plain("Hx4tP9"))
    assert kept.text == confident.text


def test_the_second_look_is_the_most_confident_reading(solver: Solver) -> None:
    images = [_noise(1), _plain("29fRwe"), _noise(2).convert("L"), _plain("bNa")]
    looking = solver.with_second_look(1.0)  # every image looked at again
    answers = looking.solve(images)
    for image, answer in zip(images, answers, strict=True):
        readings = [solver.solve(image), *(solver.solve(v(image)) for v in VIEWS.values())]
        best = max(readings, key=lambda p: p.confidence)
        assert answer.text == best.text
        assert answer.confidence == pytest.approx(best.confidence, rel=1e-5)
    assert looking.solve(images[1]).text == answers[1].text  # one image as in a list


def test_solve_each_keeps_bad_inputs_in_place(solver: Solver) -> None:
    looking = solver.with_second_look(1.0)
    out = looking.solve_each([_plain("mE5s"), b"not an image", _noise(3)])
    assert isinstance(out[1], ImageDecodeError)
    assert [type(o).__name__ for o in out] == ["Prediction", "ImageDecodeError", "Prediction"]
    assert out[0] == looking.solve(_plain("mE5s"))
