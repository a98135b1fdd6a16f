"""The ``broad`` scheme, its ``hard`` family and the broad font set."""

from __future__ import annotations

import csv
import dataclasses
import io
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from captchalab.charset import DIGITS, LOWER, UPPER
from captchalab.cli import app
from captchalab.schemes import get_scheme
from captchalab.schemes.fonts import (
    BROAD_FONT_FILES,
    FONT_DIRS_ENV,
    SHIPPED_FONT_FILES,
    broad_fonts,
    fonts_dir,
    fonts_from_dirs,
    missing_glyphs,
)
from captchalab.schemes.mix import FAMILIES
from captchalab.schemes.mix_broad import BroadScheme
from captchalab.schemes.mix_hard import GLYPH_STYLES, _stem_width, _styled_glyph, render_hard
from captchalab.schemes.mix_word import glyph
from captchalab.schemes.styled_render import load_font

EXTREME_SIZES = [(60, 24), (780, 80), (780, 50), (200, 160), (100, 160), (130, 40)]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def broad() -> BroadScheme:
    scheme = get_scheme("broad")
    assert isinstance(scheme, BroadScheme)
    return scheme


def test_broad_preset_ranges_and_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FONT_DIRS_ENV, raising=False)
    scheme = broad()
    assert scheme.variable_size and scheme.size == (780, 160)
    assert (scheme.min_width, scheme.min_height) == (60, 24)
    assert (scheme.min_length, scheme.max_length) == (3, 8)
    assert scheme.charset.symbols == DIGITS + UPPER + LOWER and scheme.charset.case_sensitive
    assert scheme.fonts == broad_fonts() and len(scheme.fonts) == 59
    assert len(scheme.family_weights) == len(FAMILIES) and scheme.family_weights[-1] > 0


def test_broad_never_draws_with_a_third_party_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default model trains on ``broad``: it must not contain python ``captcha``."""
    import captchalab.schemes.mix as mix_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("broad drew with the python captcha library")

    monkeypatch.setattr(mix_module, "captcha_random", refuse)
    scheme = broad()
    assert scheme.family_weights[FAMILIES.index("imagecaptcha")] == 0
    for index in range(200):
        scheme.sample_at(0, index)
    with pytest.raises(AssertionError, match="python captcha"):  # the probe itself works
        dataclasses.replace(scheme, family_weights=(0.0, 1.0)).sample_at(0, 0)


def test_broad_is_a_pure_function_of_seed_and_index() -> None:
    first, second = broad(), broad()
    for index in (0, 1, 2, 3, 4, 5, 17, 40):
        image, text = first.sample_at(3, index)
        again, text_again = second.sample_at(3, index)
        assert text == text_again and png_bytes(image) == png_bytes(again)
    # Out of order gives the same sample; another seed gives another one.
    assert png_bytes(first.sample_at(3, 17)[0]) == png_bytes(second.sample_at(3, 17)[0])
    assert png_bytes(first.sample_at(4, 17)[0]) != png_bytes(first.sample_at(3, 17)[0])


def test_broad_sizes_cover_small_wide_and_tall_canvases() -> None:
    scheme = broad()
    rng = random.Random(0)
    sizes = [scheme.pick_size(rng.randint(3, 8), rng) for _ in range(400)]
    assert all(60 <= w <= 780 and 24 <= h <= 160 for w, h in sizes)
    assert any(w >= 700 for w, _ in sizes) and any(w < 80 and h < 30 for w, h in sizes)
    assert any(h >= 150 and w <= 220 for w, h in sizes)  # tall


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_renders_at_the_size_extremes(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tuple(1.0 if name == family else 0.0 for name in FAMILIES)
    scheme = dataclasses.replace(broad(), family_weights=weights)
    for index, size in enumerate(EXTREME_SIZES):
        monkeypatch.setattr(BroadScheme, "pick_size", lambda self, n, rng, size=size: size)
        for length in (3, 8):
            rng = random.Random(f"{family}:{index}:{length}")
            text = "".join(rng.choice(scheme.charset.symbols) for _ in range(length))
            image = scheme.render(text, rng)
            assert image.mode == "RGB" and image.size == size, (family, size)
            assert np.asarray(image.convert("L"), np.float32).std() > 5.0  # something drawn


def test_hard_family_varies_and_is_seeded_only_by_its_rng() -> None:
    fonts = broad_fonts()
    images = [render_hard("Ab3xYz", (200, 60), fonts, random.Random(i)) for i in range(12)]
    assert len({png_bytes(image) for image in images}) == 12
    again = render_hard("Ab3xYz", (200, 60), fonts, random.Random(5))
    assert png_bytes(again) == png_bytes(images[5])


def test_broad_fonts_draw_every_symbol_and_keep_case_visible() -> None:
    for path in broad_fonts():
        assert missing_glyphs(path) == "", path
        font = load_font(path, 40)
        heights = {}
        for char in "oO":
            image, _ = glyph(char, font, (0, 0, 0), 0.0, (0, (0, 0, 0), False))
            heights[char] = image.height
        assert heights["o"] < 0.88 * heights["O"], path


def test_missing_glyphs_are_detected(tmp_path: Path) -> None:
    # A font reports a character it cannot draw (a private-use code point) as missing.
    assert missing_glyphs(broad_fonts()[0], "A\ue000") == "\ue000"


def test_shipped_font_folder_is_small_complete_and_licensed() -> None:
    folder = fonts_dir()
    on_disk = {p.name for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf")}
    assert on_disk == set(SHIPPED_FONT_FILES) | set(BROAD_FONT_FILES)
    assert not set(SHIPPED_FONT_FILES) & set(BROAD_FONT_FILES)
    total = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    assert total <= 15 * 1024 * 1024, total
    licences = (folder / "LICENSES.md").read_text(encoding="utf-8")
    rows = [line for line in licences.splitlines() if line.startswith("| `")]
    assert sorted(row.split("`")[1] for row in rows) == sorted(on_disk)


def test_font_dirs_add_complete_fonts_and_change_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "fonts" / "nested"
    extra.mkdir(parents=True)
    shutil.copy(broad_fonts()[0], extra / "ExtraSans.ttf")
    (extra / "broken.ttf").write_bytes(b"not a font")
    (extra / "notes.txt").write_text("ignored")
    assert fonts_from_dirs([tmp_path / "fonts"]) == (str((extra / "ExtraSans.ttf").resolve()),)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fonts_from_dirs([tmp_path / "nowhere"])

    monkeypatch.delenv(FONT_DIRS_ENV, raising=False)
    plain = broad()
    monkeypatch.setenv(FONT_DIRS_ENV, f"{tmp_path / 'fonts'}")
    widened = broad()
    assert widened.fonts == (*plain.fonts, str((extra / "ExtraSans.ttf").resolve()))
    assert widened.fingerprint() != plain.fingerprint()
    assert (
        BroadScheme(
            "broad", plain.charset, 3, 8, 780, 160, font_dirs=(str(tmp_path / "fonts"),)
        ).fonts
        == widened.fonts
    )


def test_cli_generates_broad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FONT_DIRS_ENV, raising=False)
    out = tmp_path / "broad"
    result = CliRunner().invoke(
        app, ["generate", "--scheme", "broad", "-n", "8", "-o", str(out), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    with (out / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    for index, row in enumerate(rows):
        image, text = broad().sample_at(0, index)
        assert row["label"] == text
        with Image.open(out / row["filename"]) as written:
            assert written.size == image.size


@pytest.mark.parametrize("style", GLYPH_STYLES)
def test_every_glyph_style_draws_ink_on_a_baseline(style: str) -> None:
    for path in (broad_fonts()[0], broad_fonts()[-1]):
        for size in (12, 48):
            image, baseline = _styled_glyph(
                "g", load_font(path, size), (10, 20, 30), 0.0, style, (2, (200, 0, 0))
            )
            alpha = image.getchannel("A")
            assert alpha.getbbox() is not None and alpha.getextrema()[1] > 100, (style, size)
            assert 0.0 < baseline < image.height  # "g" descends below its baseline


def test_double_stroke_is_two_rings_not_a_filled_glyph() -> None:
    solid, _ = _styled_glyph(
        "O", load_font(broad_fonts()[0], 60), (0, 0, 0), 0.0, "solid", (2, (0, 0, 0))
    )
    double, _ = _styled_glyph(
        "O", load_font(broad_fonts()[0], 60), (0, 0, 0), 0.0, "double", (2, (0, 0, 0))
    )

    def runs(image: Image.Image) -> int:  # stretches of ink across the middle row
        row = (np.asarray(image.getchannel("A"))[image.height // 2] > 127).astype(np.int8)
        return int(np.count_nonzero(np.diff(np.concatenate(([0], row))) == 1))

    # A solid "O" crosses the middle row twice; doubled, each of its contours (outer and
    # hole, left and right) becomes two lines, the two inside the hole may touch.
    assert runs(solid) == 2 and runs(double) >= 7
    assert double.width > solid.width


@pytest.mark.parametrize(
    "name", ["DejaVuSans-Bold.ttf", "Roboto-Black.ttf", "LiberationSans-Regular.ttf"]
)
def test_thin_style_thins_any_face_to_the_stroke_asked_for(name: str) -> None:
    path = next(p for p in broad_fonts() if Path(p).name == name)
    for size, stroke in ((30, 1), (60, 1), (60, 2)):
        font = load_font(path, size)
        solid, _ = _styled_glyph("H", font, (0, 0, 0), 0.0, "solid", (stroke, (0, 0, 0)))
        thin, _ = _styled_glyph("H", font, (0, 0, 0), 0.0, "thin", (stroke, (0, 0, 0)))
        before, after = _stem_width(solid.getchannel("A")), _stem_width(thin.getchannel("A"))
        assert after <= stroke + 1.5 < before, (name, size, stroke, before, after)
        assert thin.getchannel("A").getextrema()[1] >= 128  # thinned, never erased


def test_mix_weights_must_be_sane() -> None:
    charset = broad().charset
    for weights in ((), (0.5, -0.1, 0.6), (0.0, 0.0), (0.2,) * (len(FAMILIES) + 1)):
        with pytest.raises(ValueError, match="weight"):
            BroadScheme("broad", charset, 3, 8, 780, 160, family_weights=weights)


def test_crowded_glyphs_overlap_and_renders_repeat_by_seed() -> None:
    from captchalab.schemes.mix_crowded import _crowd, render_crowded

    pieces = [Image.new("RGBA", (20, 30), (0, 0, 0, 255)) for _ in range(5)]
    touching = _crowd(pieces, 0.0, random.Random(0))
    crowded = _crowd(pieces, 0.35, random.Random(0))
    assert touching.width == 100 and crowded.width < 100
    assert touching.height >= 30
    fonts = broad_fonts()
    first = render_crowded("aB3xY", (160, 60), fonts, random.Random(5))
    again = render_crowded("aB3xY", (160, 60), fonts, random.Random(5))
    assert first.size == (160, 60) and first.tobytes() == again.tobytes()


def test_crowded_stretches_glyphs_to_one_height_and_may_space_them() -> None:
    from captchalab.schemes.mix_crowded import _crowd, _stretched

    rng = random.Random(0)
    small, big = Image.new("RGBA", (12, 14), "black"), Image.new("RGBA", (18, 30), "black")
    heights = [_stretched(piece, 40, rng).height for piece in (small, big) * 5]
    assert min(heights) >= 36 and max(heights) <= 40  # 90-100% of the common height
    wide = _stretched(small, 40, rng)
    assert wide.width < small.width * 40 / 14  # condensed, not only scaled
    pieces = [Image.new("RGBA", (20, 30), "black") for _ in range(5)]
    assert _crowd(pieces, -0.25, random.Random(0)).width > 100  # gaps between glyphs


def test_fit_and_place_squashes_a_long_line_sideways_only_when_asked() -> None:
    from captchalab.schemes.styled_render import fit_and_place

    strip = Image.new("RGBA", (400, 40), "black")  # too wide for the canvas, fits its height

    def ink_box(squash: bool) -> tuple[int, int]:
        layer = fit_and_place(strip, (100, 50), random.Random(0), (5, 5), squash=squash)
        left, top, right, bottom = layer.getchannel("A").getbbox() or (0, 0, 0, 0)
        return right - left, bottom - top

    assert ink_box(False) == (90, 9)  # aspect kept: the line comes out a quarter as tall
    assert ink_box(True) == (90, 40)  # squeezed sideways, full height kept
