"""The styled renderer's optional looks: glyph styles, layouts, backgrounds, post-processing.

Each option must render deterministically by (seed, index), change the image when on, and
reject bad values with an error naming the key; every held-out scheme file must load and
render at its declared size.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from captchalab.charset import Charset
from captchalab.schemes import get_scheme
from captchalab.schemes.styled import Style, StyledScheme, load_scheme_file
from captchalab.schemes.styled_config import Colours
from captchalab.schemes.styled_glyphs import styled_glyph
from captchalab.schemes.styled_render import draw_glyph, load_font

SCHEMES = Path(__file__).resolve().parents[2] / "configs" / "schemes"
BOLD = str(Path(__file__).resolve().parents[2] / "src/captchalab/assets/fonts/DejaVuSans-Bold.ttf")

OPTIONS: dict[str, dict[str, Any]] = {
    "hollow": {"glyph_style": "hollow", "stroke_width": (1, 2)},
    "double": {"glyph_style": "double", "stroke_width": (1, 1)},
    "thin": {"glyph_style": "thin", "stroke_width": (1, 2)},
    "extrude": {"glyph_style": "extrude", "extrude_depth": (3, 5), "extrude_angle": (20, 70)},
    "colour_jitter": {"colour_per": "word", "colour_jitter": 60},
    "rotation90": {"rotation": 90.0},
    "wave": {"baseline_wave": 0.4, "baseline_period": (3.0, 4.0)},
    "centre": {"placement": "centre", "placement_jitter": 0.2, "font_size": (16, 18)},
    "blobs": {"blobs": (5, 8), "blob_radius": (0.2, 0.4)},
    "letterbox": {"letterbox": (0.15, 0.2)},
    "lines": {"text_lines": (2, 3), "text_line_width": (1, 2)},
    "dotted": {"text_lines": (2, 3), "text_line_width": (2, 3), "text_line_dotted": True},
    "invert": {"invert": True},
    "downscale": {"downscale": (0.4, 0.5)},
    "gif": {"gif_colours": (4, 6)},
    "jpeg": {"jpeg_quality": (10, 20)},
}


def scheme(width: int = 160, height: int = 60, **style: Any) -> StyledScheme:
    return StyledScheme(
        "t",
        Charset.from_spec("@alnum"),
        4,
        6,
        width,
        height,
        style=Style(**{"font_size": (28, 34), **style}),
    )


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_each_option_renders_deterministically_and_changes_the_image(option: str) -> None:
    first, again, plain = scheme(**OPTIONS[option]), scheme(**OPTIONS[option]), scheme()
    changed = 0
    for index in range(3):
        image, text = first.sample_at(5, index)
        image_again, text_again = again.sample_at(5, index)
        assert text == text_again and image.tobytes() == image_again.tobytes()
        assert image.mode == "RGB" and image.size == (160, 60)
        assert first.sample_at(6, index)[0].tobytes() != image.tobytes()  # the seed matters
        changed += image.tobytes() != plain.sample_at(5, index)[0].tobytes()
    assert changed == 3


def test_invert_inverts_the_same_draws() -> None:
    for index in range(3):
        normal, _ = scheme().sample_at(1, index)
        inverted, _ = scheme(invert=True).sample_at(1, index)
        assert np.array_equal(pixels(inverted), 255 - pixels(normal))


def test_letterbox_bars_cover_top_and_bottom_rows() -> None:
    dark = Colours(letterbox=((0, 0), (0, 0), (0, 0)))
    image = pixels(scheme(letterbox=(0.2, 0.2), colours=dark).sample_at(2, 0)[0])
    bar = round(0.2 * 60)
    assert (image[:bar] == 0).all() and (image[-bar:] == 0).all()
    assert image[bar : 60 - bar].mean() > 100  # the light band between them


def test_gif_palette_limits_the_colours() -> None:
    image = scheme(gradient=True, gif_colours=(5, 5)).sample_at(3, 0)[0]
    assert len(image.getcolors(maxcolors=1000) or []) <= 5


def test_downscale_loses_detail_and_keeps_the_size() -> None:
    low = scheme(downscale=(0.25, 0.25)).sample_at(3, 0)[0]
    sharp = scheme().sample_at(3, 0)[0]
    assert low.size == sharp.size
    # Enlarged back with nearest neighbour: runs of 4 equal columns.
    columns = pixels(low)[:, ::4]
    assert np.array_equal(columns, pixels(low)[:, 1::4][:, : columns.shape[1]])


def test_centre_placement_centres_the_text() -> None:
    big = scheme(400, 200, placement="centre", placement_jitter=0.0, font_size=(16, 18))
    for index in range(3):
        image = pixels(big.sample_at(4, index)[0]).mean(axis=2)
        ys, xs = np.nonzero(image < 150)
        assert (
            abs((xs.min() + xs.max()) / 2 - 200) < 12 and abs((ys.min() + ys.max()) / 2 - 100) < 12
        )


def test_wave_baseline_moves_characters_up_and_down() -> None:
    wavy = scheme(300, 100, baseline_wave=0.6, baseline_period=(3.0, 3.0), rotation=0.0)
    rows = []
    for index in range(4):
        image = pixels(wavy.sample_at(8, index)[0]).mean(axis=2) < 150
        columns = [c for c in range(image.shape[1]) if image[:, c].any()]
        centres = [np.nonzero(image[:, c])[0].mean() for c in columns]
        rows.append(max(centres) - min(centres))
    assert min(rows) > 10  # ink centres spread over more than a glyph's jitter


def test_glyph_styles_draw_what_they_name() -> None:
    font = load_font(BOLD, 60)
    filled = np.asarray(draw_glyph("O", font, (0, 0, 0), 0.0).getchannel("A")) > 128
    for style in ("hollow", "double", "thin"):
        glyph = styled_glyph("O", font, (0, 0, 0), 0.0, style, 2)  # type: ignore[arg-type]
        ink = np.asarray(glyph.getchannel("A")) > 128
        assert 0 < ink.sum() < filled.sum(), style
    hollow = np.asarray(styled_glyph("I", font, (0, 0, 0), 0.0, "hollow", 1).getchannel("A"))
    assert hollow[hollow.shape[0] // 2, hollow.shape[1] // 2] == 0  # the inside is empty
    extruded = styled_glyph("I", font, (0, 0, 0), 0.0, "extrude", 1, (200, 0, 0), (6, 45.0))
    rgba = np.asarray(extruded)
    side = (rgba[..., 3] == 255) & (rgba[..., 0] == 200)
    plain_i = draw_glyph("I", font, (0, 0, 0), 0.0)
    assert side.sum() > 20
    assert extruded.width > plain_i.width and extruded.height > plain_i.height


def test_size_ranges_give_variable_sizes_within_them(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "", size="[[100, 140], [40, 50]]")
    wide = load_scheme_file(path)
    assert wide.variable_size and wide.size == (140, 50)
    sizes = {wide.sample_at(0, index)[0].size for index in range(8)}
    assert len(sizes) > 1 and all(100 <= w <= 140 and 40 <= h <= 50 for w, h in sizes)
    assert not load_scheme_file(write_yaml(tmp_path, "")).variable_size


def write_yaml(tmp_path: Path, body: str, size: str = "[96, 40]") -> Path:
    path = tmp_path / "scheme.yaml"
    text = f'name: t\ncharset: "@digits"\nlength: [3, 4]\nsize: {size}\n{body}'
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("style:\n  glyph_style: bubble\n", "style.glyph_style"),
        ("style:\n  stroke_width: 0\n", "style.stroke_width"),
        ("style:\n  extrude_depth: [5, 2]\n", "style.extrude_depth"),
        ("style:\n  extrude_angle: [0, 400]\n", "style.extrude_angle"),
        ("style:\n  colour_jitter: 300\n", "style.colour_jitter"),
        ("style:\n  rotation: 200\n", "style.rotation"),
        ("style:\n  baseline_wave: -0.1\n", "style.baseline_wave"),
        ("style:\n  baseline_period: 0.1\n", "style.baseline_period"),
        ("style:\n  placement: left\n", "style.placement"),
        ("style:\n  placement_jitter: 2\n", "style.placement_jitter"),
        ("style:\n  blobs: [-1, 3]\n", "style.blobs"),
        ("style:\n  blob_radius: 0\n", "style.blob_radius"),
        ("style:\n  letterbox: 0.5\n", "style.letterbox"),
        ("style:\n  text_lines: [3, 1]\n", "style.text_lines"),
        ("style:\n  text_line_width: 0\n", "style.text_line_width"),
        ('style:\n  text_line_dotted: "yes"\n', "style.text_line_dotted"),
        ("style:\n  invert: 1\n", "style.invert"),
        ("style:\n  downscale: 1.5\n", "style.downscale"),
        ("style:\n  gif_colours: 1\n", "style.gif_colours"),
        ("style:\n  jpeg_quality: 100\n", "style.jpeg_quality"),
        ("style:\n  colours: {blobs: [0, 0, 300]}\n", "colours.blobs"),
        ("style:\n  colours: {lines: red}\n", "style.colours.lines"),
    ],
)
def test_bad_option_values_are_errors_naming_the_key(tmp_path: Path, body: str, key: str) -> None:
    path = write_yaml(tmp_path, body)
    with pytest.raises(ValueError) as error:
        load_scheme_file(path)
    assert key in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("size", ["[[120, 100], 40]", "[[4, 100], 40]", "[96, [40, 30]]"])
def test_bad_size_ranges_are_errors(tmp_path: Path, size: str) -> None:
    path = write_yaml(tmp_path, "", size=size)
    with pytest.raises(ValueError, match="size") as error:
        load_scheme_file(path)
    assert str(path) in str(error.value)


HELDOUT = sorted(SCHEMES.glob("heldout_*.yaml"))


@pytest.mark.parametrize("path", HELDOUT, ids=[path.stem for path in HELDOUT])
def test_every_heldout_scheme_loads_and_renders(path: Path) -> None:
    loaded = get_scheme(str(path))
    assert loaded.name == path.stem
    for index in range(2):
        image, text = loaded.sample_at(0, index)
        assert image.mode == "RGB" and loaded.charset.validate(text) == text
        assert image.width <= loaded.width and image.height <= loaded.height
        assert loaded.variable_size or image.size == loaded.size
        darkest, lightest = pixels(image).mean(axis=2).min(), pixels(image).mean(axis=2).max()
        assert lightest - darkest > 60  # there is contrast to read
        assert loaded.sample_at(0, index)[0].tobytes() == image.tobytes()


def test_the_heldout_families_are_all_there() -> None:
    names = {path.stem for path in HELDOUT}
    families = {"wide", "tall", "hollow", "double", "thin", "extrude", "blobs", "letterbox"}
    families |= {"lines", "dotted", "rotate90", "wavy", "inverted", "lowres_jpeg", "gif"}
    assert {f"heldout_{family}" for family in families} <= names


def test_options_draw_no_random_numbers_when_off() -> None:
    off = Style()
    assert (off.glyph_style, off.placement, off.invert) == ("fill", "anywhere", False)
    rng_a, rng_b = random.Random(3), random.Random(3)
    scheme().render("AB12", rng_a)
    StyledScheme(
        "t", Charset.from_spec("@alnum"), 4, 6, 160, 60, style=Style(font_size=(28, 34))
    ).render("AB12", rng_b)
    assert rng_a.random() == rng_b.random()


def test_every_style_and_colour_key_is_documented() -> None:
    from dataclasses import fields

    doc = (Path(__file__).resolve().parents[2] / "docs" / "yaml-schemes.md").read_text()
    keys = [item.name for item in fields(Style)] + [item.name for item in fields(Colours)]
    assert [key for key in keys if f"`{key}`" not in doc] == []
