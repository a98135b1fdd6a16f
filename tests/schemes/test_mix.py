"""The ``mix`` scheme, the shipped fonts, and the held-out grid and blur style options."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import captcha.image as captcha_image
import pytest
from PIL import Image, ImageDraw

from captchalab.charset import DIGITS, LOWER, UPPER, Charset
from captchalab.schemes import get_scheme
from captchalab.schemes.fonts import SHIPPED_FONT_FILES, fonts_dir, shipped_fonts
from captchalab.schemes.imagecaptcha import captcha_random
from captchalab.schemes.mix import FAMILIES, MixScheme, _ImageCaptcha
from captchalab.schemes.mix_word import glyph
from captchalab.schemes.styled import Style, StyledScheme, load_scheme_file
from captchalab.schemes.styled_config import default_fonts
from captchalab.schemes.styled_render import load_font

REPO = Path(__file__).resolve().parents[2]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def only(family: str) -> MixScheme:
    weights = tuple(1.0 if name == family else 0.0 for name in FAMILIES)
    return MixScheme("mix", Charset.from_spec("@alnum"), 3, 8, 250, 100, family_weights=weights)


def test_mix_preset_declares_its_ranges() -> None:
    scheme = get_scheme("mix")
    assert isinstance(scheme, MixScheme) and scheme.variable_size
    assert not get_scheme("hku").variable_size
    assert scheme.size == (250, 100) and (scheme.min_width, scheme.min_height) == (80, 30)
    assert (scheme.min_length, scheme.max_length) == (3, 8)
    assert scheme.charset.symbols == DIGITS + UPPER + LOWER and scheme.charset.case_sensitive


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_is_reproducible_and_in_range(family: str) -> None:
    first, second = only(family), only(family)
    for index in range(4):
        image, text = first.sample_at(11, index)
        again, text_again = second.sample_at(11, index)
        assert text == text_again and png_bytes(image) == png_bytes(again)
        assert image.mode == "RGB"
        assert 80 <= image.width <= 250 and 30 <= image.height <= 100
        assert 3 <= len(text) <= 8 and first.charset.validate(text) == text


def test_mix_samples_vary_in_size_and_cover_every_length() -> None:
    scheme = get_scheme("mix")
    samples = [scheme.sample_at(0, index) for index in range(24)]
    assert len({image.size for image, _ in samples}) > 10
    texts = [scheme.sample_text(random.Random(index)) for index in range(600)]
    assert {len(text) for text in texts} == set(range(3, 9))
    assert all(set(text) <= set(scheme.charset.symbols) for text in texts)
    single_class = [t for t in texts if any(set(t) <= set(g) for g in (DIGITS, UPPER, LOWER))]
    assert 0.05 < len(single_class) / len(texts) < 0.2  # ~10% by design, plus chance


def test_word_glyphs_keep_lower_case_smaller_than_upper_case() -> None:
    for path in shipped_fonts():
        font = load_font(path, 40)
        heights = {}
        for char in "oO":
            image, baseline = glyph(char, font, (0, 0, 0), 0.0, (0, (0, 0, 0), False))
            heights[char] = image.height
            assert 0.8 * image.height <= baseline <= image.height  # sits on the baseline
        assert heights["o"] < 0.88 * heights["O"], path


def ink_height(image: Image.Image) -> int:
    box = image.getchannel("A").getbbox()
    assert box is not None
    return box[3] - box[1]


def test_imagecaptcha_keeps_case_unless_faithful() -> None:
    font = load_font(shipped_fonts()[0], 40)
    scratch = ImageDraw.Draw(Image.new("RGB", (4, 4)))
    for faithful, smaller in ((False, True), (True, False)):
        generator = _ImageCaptcha(160, 60, [font], faithful)
        heights = []
        for char in "oO":
            with captcha_random(random.Random(3)):
                heights.append(ink_height(generator._draw_character(char, scratch, (0, 0, 0))))
        assert (heights[0] < 0.85 * heights[1]) is smaller


def test_captcha_random_swaps_the_library_random_and_restores_it_on_errors() -> None:
    own = captcha_image.random
    seeded = random.Random(5)
    with captcha_random(seeded):
        assert captcha_image.random is seeded
    assert captcha_image.random is own
    with pytest.raises(RuntimeError), captcha_random(seeded):
        raise RuntimeError("drawing failed")
    assert captcha_image.random is own


def test_shipped_fonts_exist_are_small_and_licensed() -> None:
    paths = shipped_fonts()
    assert 10 <= len(paths) <= 16 and default_fonts() == paths
    folder = fonts_dir()
    on_disk = {p.name for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf")}
    assert set(SHIPPED_FONT_FILES) <= on_disk  # the rest: broad's set (tests/schemes/test_broad.py)
    sizes = [Path(path).stat().st_size for path in paths]
    assert max(sizes) < 2_000_000 and sum(sizes) < 8_000_000
    licences = (folder / "LICENSES.md").read_text(encoding="utf-8")
    rows = [line for line in licences.splitlines() if line.startswith("| `")]
    assert set(SHIPPED_FONT_FILES) <= {row.split("`")[1] for row in rows}
    for row in rows:  # each font's row names licence texts that are shipped beside it
        texts = re.findall(r"`licenses/([^`]+)`", row)
        assert texts and all((folder / "licenses" / name).is_file() for name in texts), row


def test_grid_and_blur_style_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="grid"):
        Style(grid=(1, 4))
    with pytest.raises(ValueError, match="blur"):
        Style(blur=-1.0)
    charset = Charset.from_spec("@digits")
    plain = StyledScheme("t", charset, 4, 4, 96, 40)
    image = plain.sample_at(0, 0)[0]
    for style in (Style(grid=(6, 8)), Style(blur=1.5)):
        varied = StyledScheme("t", charset, 4, 4, 96, 40, style=style).sample_at(0, 0)[0]
        assert varied.size == image.size and png_bytes(varied) != png_bytes(image)
    path = tmp_path / "s.yaml"
    path.write_text(
        'name: t\ncharset: "@digits"\nlength: 4\nsize: [96, 40]\n'
        "style: {grid: [5, 9], blur: 0.8, colours: {grid: [100, 100, 100]}}\n",
        encoding="utf-8",
    )
    style = load_scheme_file(path).style
    assert style.grid == (5, 9) and style.blur == 0.8
    assert style.colours.grid == ((100, 100), (100, 100), (100, 100))


def test_heldout_schemes_exist() -> None:
    names = {path.stem for path in (REPO / "configs" / "schemes").glob("heldout_*.yaml")}
    assert {"heldout_grid", "heldout_blur", "heldout_speckle"} <= names
