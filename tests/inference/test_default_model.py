"""The shipped default model: present, small, self-describing, faithful to its checkpoint, and
able to read plainly printed text (a floor far below its benchmark accuracy, not a target)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PIL import Image, ImageDraw

from captchalab.charset import Charset
from captchalab.data.preprocess import preprocess_batch
from captchalab.inference import Solver
from captchalab.inference.solver import DEFAULT_MODEL, SHIPPED_MODELS
from captchalab.schemes.fonts import shipped_fonts
from captchalab.schemes.styled_render import load_font
from captchalab.training.pretrained import resolve_init

MAX_BYTES = 20 * 1024 * 1024
# Fixed in advance: mixed case, digits, lengths 3-8, each in a different shipped font.
PLAIN_TEXTS = (
    "k7Qm",
    "Hx4tP9",
    "29fRwe",
    "bNa",
    "Z3y8KcLd",
    "mE5s",
    "T2vG7",
    "qUx3Bn",
    "8rJe",
    "wY6h",
)


def _plain(text: str, font_path: str) -> Image.Image:
    """Dark text on a light background, no noise: the easiest captcha there is."""
    font = load_font(font_path, 34)
    image = Image.new("RGB", (40 + 26 * len(text), 56), (235, 238, 240))
    ImageDraw.Draw(image).text((20, 8), text, font=font, fill=(30, 30, 60))
    return image


def test_default_model_is_shipped_small_and_calibrated() -> None:
    assert DEFAULT_MODEL.exists(), "src/captchalab/assets/default.onnx is missing"
    assert DEFAULT_MODEL.stat().st_size < MAX_BYTES
    solver = Solver.load("default")
    assert solver.name == "default"
    # release_default.py fitted T on held-out images; the fit may be 1.0 itself, but an
    # export that skipped calibration stores no temperature at all
    assert "temperature" in solver.metadata.calibration
    assert set(Charset.from_spec("@alnum").symbols) <= set(solver.charset.symbols)


def test_the_int8_copy_is_the_same_model() -> None:
    """default-int8.onnx: the default's metadata, int8 weights, mostly the same answers."""
    import onnx

    from captchalab.training.quantize import check_agreement

    int8 = SHIPPED_MODELS["default-int8"]
    assert int8.exists(), "src/captchalab/assets/default-int8.onnx is missing"
    assert int8.stat().st_size < 0.5 * DEFAULT_MODEL.stat().st_size
    solver = Solver.load("default-int8")
    assert solver.name == "default-int8"
    assert solver.metadata == replace(Solver.load("default").metadata, batch_independent=False)
    assert "DynamicQuantizeLSTM" in {node.op_type for node in onnx.load(str(int8)).graph.node}
    batch = preprocess_batch([_plain(text, font) for text, font in _cases()], solver.preprocessing)
    assert check_agreement(DEFAULT_MODEL, int8, batch).rate >= 0.8


def test_default_onnx_matches_the_shipped_checkpoint() -> None:
    from captchalab.training.export import check_parity

    spec = Solver.load("default").preprocessing
    batch = preprocess_batch([_plain(text, font) for text, font in _cases()[:4]], spec)
    report = check_parity(resolve_init("default"), DEFAULT_MODEL, batch)
    assert report.ok(), report


def test_default_model_reads_plain_text() -> None:
    cases = _cases()
    images = [_plain(text, font) for text, font in cases]
    solver = Solver.load("default")
    read = [p.text for p in solver.solve(images)]
    folded = [p.text for p in solver.case_insensitive().solve(images)]
    right = sum(p == text for p, (text, _) in zip(read, cases, strict=True))
    right_folded = sum(p == text.lower() for p, (text, _) in zip(folded, cases, strict=True))
    # Measured on the shipped model: 7 of 10 exact (case slips v/V and J/j, and 9 read as g)
    # and 9 of 10 ignoring case; the previous release read 9 and 9.
    assert right >= 7, list(zip(read, [text for text, _ in cases], strict=True))
    assert right_folded >= 9, list(zip(folded, [text for text, _ in cases], strict=True))


def _cases() -> list[tuple[str, str]]:
    fonts = [f for f in shipped_fonts() if "Kaushan" not in Path(f).name]  # script: too hard
    return [(text, fonts[i % len(fonts)]) for i, text in enumerate(PLAIN_TEXTS)]
