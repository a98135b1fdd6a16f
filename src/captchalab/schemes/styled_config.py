"""Configuration of the styled scheme: the frozen :class:`Style` and its strict YAML loader.

A scheme file (see ``configs/schemes/``) looks like::

    name: myscheme
    charset: "@alnum"         # "@name" of a named set, or the symbols themselves
    case_sensitive: true
    length: [4, 6]            # or one number
    size: [160, 60]           # width, height; each also a [low, high] range per image
    style:                    # every key optional: the fields of Style
      fonts: [fonts/a.ttf]    # relative paths are resolved against the YAML file's folder
      font_size: [30, 42]     # ranges are [low, high] or one number
      rotation: 20
      warp: 0.1
      noise_dots: 40
      noise_lines: 3
      colours: {background: [[230, 255], [230, 255], [230, 255]], text: [[0, 120], 0, 0]}

Every option is described in ``docs/yaml-schemes.md``.
Colours are three channel entries, each a [low, high] range or one value. The file is read
strictly (:mod:`captchalab.strict_config`): unknown keys and wrong types anywhere are errors
that name the file, the key, the expected type and the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator

from captchalab.charset import Charset
from captchalab.schemes.fonts import shipped_fonts
from captchalab.schemes.styled_glyphs import GLYPH_STYLES, GlyphStyle
from captchalab.schemes.styled_render import ColourRange
from captchalab.strict_config import STRICT, read_yaml, validate

N = TypeVar("N", int, float)


def _pair(value: object) -> object:
    """YAML ``[low, high]`` or one number (meaning ``[n, n]``) -> a tuple to validate."""
    if isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value, value)
    return value


# A (low, high) range; in YAML also one number.
Range = Annotated[tuple[N, N], BeforeValidator(_pair)]
Channel = Annotated[tuple[int, int], BeforeValidator(_pair)]
ColourSpec = tuple[Channel, Channel, Channel]


def default_fonts() -> tuple[str, ...]:
    """The fonts shipped with captchalab, so images do not depend on the system's fonts."""
    return shipped_fonts()


_LIGHT: ColourRange = ((220, 255), (220, 255), (220, 255))
_DARK: ColourRange = ((0, 120), (0, 120), (0, 120))
_DARKER: ColourRange = ((0, 60), (0, 60), (0, 60))
_GREY: ColourRange = ((150, 200), (150, 200), (150, 200))
_ANY: ColourRange = ((0, 255), (0, 255), (0, 255))
_BLACK: ColourRange = ((0, 30), (0, 30), (0, 30))


@dataclass(frozen=True)
class Colours:
    """Per-channel (red, green, blue) ranges; ``noise=None`` and ``lines=None`` draw noise
    and lines through the text in text colours. ``outline`` also colours the sides of
    ``extrude`` glyphs; ``blobs`` and ``letterbox`` colour those backgrounds."""

    __pydantic_config__ = STRICT

    background: ColourSpec = _LIGHT
    text: ColourSpec = _DARK
    noise: ColourSpec | None = None
    outline: ColourSpec = _DARKER
    grid: ColourSpec = _GREY
    blobs: ColourSpec = _ANY
    letterbox: ColourSpec = _BLACK
    lines: ColourSpec | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            ranges = getattr(self, item.name)
            if ranges is not None and (
                len(ranges) != 3 or any(not 0 <= low <= high <= 255 for low, high in ranges)
            ):
                raise ValueError(f"colours.{item.name}: need 3 channels, 0 <= low <= high <= 255")


@dataclass(frozen=True)
class Style:
    """How a ``StyledScheme`` draws. Ranges are inclusive (low, high) pairs.

    ``rotation``: largest per-character tilt in degrees. ``warp``: sine warp amplitude as a
    fraction of image height; ``warp_period`` as a fraction of image width. ``spacing``: gap
    after each character as a fraction of its width (negative overlaps). ``outline``: stroke
    width in pixels (0: none). ``colour_per``: one text colour per ``"char"`` or per
    ``"word"``. ``noise_*``: counts; ``dot_size``: dot diameters; ``line_width``: width of
    noise lines and arcs, in pixels. ``grid``: spacing (low, high) of background grid lines
    in pixels, (0, 0) for none. ``blur``: radius of a Gaussian blur (0: none).

    Options that are off by default (see ``docs/yaml-schemes.md``): ``glyph_style``
    (``fill``; ``hollow``, ``double``, ``thin``, ``extrude``) with ``stroke_width`` (ring
    width or pixels eroded) and ``extrude_depth`` / ``extrude_angle`` (pixels, degrees; 0 is
    right, 90 down); ``colour_jitter``: each channel of each character moved up to this much
    from the word colour; ``baseline_wave``: amplitude of a sine baseline as a fraction of
    the tallest glyph, ``baseline_period`` in characters; ``placement``: ``anywhere`` or
    ``centre`` (moved up to ``placement_jitter`` of the free room); ``blobs``: count of
    filled ellipses behind the text, ``blob_radius`` a fraction of the height;
    ``letterbox``: height of bars across top and bottom, a fraction of the height;
    ``text_lines``: count of lines crossing the whole text, ``text_line_width`` pixels,
    ``text_line_dotted``; then, in this order after the blur: ``invert``, ``downscale``
    (factor < 1 of a shrink and enlarge back), ``gif_colours`` (palette size, 0: none) and
    ``jpeg_quality`` (1-95, 0: none).
    """

    __pydantic_config__ = STRICT

    fonts: tuple[str, ...] = field(default_factory=default_fonts)
    font_size: Range[int] = (30, 42)
    rotation: float = 20.0
    warp: float = 0.0
    warp_period: Range[float] = (0.5, 1.5)
    spacing: Range[float] = (-0.1, 0.05)
    outline: int = 0
    gradient: bool = False
    colour_per: Literal["char", "word"] = "char"
    noise_dots: Range[int] = (0, 0)
    dot_size: Range[int] = (1, 2)
    noise_lines: Range[int] = (0, 0)
    noise_arcs: Range[int] = (0, 0)
    line_width: Range[int] = (1, 2)
    grid: Range[int] = (0, 0)
    blur: float = 0.0
    colours: Colours = field(default_factory=Colours)
    glyph_style: GlyphStyle = "fill"
    stroke_width: Range[int] = (2, 2)
    extrude_depth: Range[int] = (4, 6)
    extrude_angle: Range[float] = (30.0, 60.0)
    colour_jitter: int = 0
    baseline_wave: float = 0.0
    baseline_period: Range[float] = (3.0, 5.0)
    placement: Literal["anywhere", "centre"] = "anywhere"
    placement_jitter: float = 0.3
    blobs: Range[int] = (0, 0)
    blob_radius: Range[float] = (0.15, 0.4)
    letterbox: Range[float] = (0.0, 0.0)
    text_lines: Range[int] = (0, 0)
    text_line_width: Range[int] = (1, 2)
    text_line_dotted: bool = False
    invert: bool = False
    downscale: Range[float] = (1.0, 1.0)
    gif_colours: Range[int] = (0, 0)
    jpeg_quality: Range[int] = (0, 0)

    def __post_init__(self) -> None:
        missing = [font for font in self.fonts if not Path(font).is_file()]
        if not self.fonts or missing:
            raise ValueError(f"style.fonts: need existing font files; missing: {missing}")
        if self.colour_per not in ("char", "word"):
            raise ValueError(f"style.colour_per: {self.colour_per!r} is not 'char' or 'word'")
        minimum = {"font_size": 4, "warp_period": 0.01, "spacing": -0.9, "dot_size": 1}
        minimum["line_width"] = 1
        for name in ("font_size", "warp_period", "spacing", "dot_size", "line_width"):
            _check_range(name, getattr(self, name), minimum[name])
        for name in ("noise_dots", "noise_lines", "noise_arcs"):
            _check_range(name, getattr(self, name), 0)
        if self.grid != (0, 0):
            _check_range("grid", self.grid, 2)
        if self.rotation < 0 or self.warp < 0 or self.outline < 0 or self.blur < 0:
            raise ValueError("style: rotation, warp, outline and blur must not be negative")
        if self.rotation > 180:
            raise ValueError(f"style.rotation: at most 180 degrees, got {self.rotation}")
        self._check_options()

    def _check_options(self) -> None:
        """The options that are off by default."""
        if self.glyph_style not in GLYPH_STYLES:
            raise ValueError(
                f"style.glyph_style: {self.glyph_style!r} is not one of {GLYPH_STYLES}"
            )
        if self.placement not in ("anywhere", "centre"):
            raise ValueError(f"style.placement: {self.placement!r} is not 'anywhere' or 'centre'")
        for name, minimum in (
            ("stroke_width", 1),
            ("extrude_depth", 1),
            ("extrude_angle", -360.0),
            ("baseline_period", 0.5),
            ("blobs", 0),
            ("blob_radius", 0.01),
            ("text_lines", 0),
            ("text_line_width", 1),
        ):
            _check_range(name, getattr(self, name), minimum)
        _check_bounded("extrude_angle", self.extrude_angle, -360.0, 360.0)
        _check_bounded("letterbox", self.letterbox, 0.0, 0.35)
        _check_bounded("downscale", self.downscale, 0.05, 1.0)
        if self.gif_colours != (0, 0):
            _check_bounded("gif_colours", self.gif_colours, 2, 256)
        if self.jpeg_quality != (0, 0):
            _check_bounded("jpeg_quality", self.jpeg_quality, 1, 95)
        for name, low, high in (
            ("colour_jitter", 0, 255),
            ("baseline_wave", 0.0, 2.0),
            ("placement_jitter", 0.0, 1.0),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"style.{name}: need {low} <= value <= {high}, got {value}")


def _check_range(name: str, pair: tuple[float, float], minimum: float) -> None:
    low, high = pair
    if not minimum <= low <= high:
        raise ValueError(f"style.{name}: need {minimum} <= low <= high, got {list(pair)}")


def _check_bounded(name: str, pair: tuple[float, float], minimum: float, maximum: float) -> None:
    low, high = pair
    if not minimum <= low <= high <= maximum:
        raise ValueError(
            f"style.{name}: need {minimum} <= low <= high <= {maximum}, got {list(pair)}"
        )


@dataclass(frozen=True)
class SchemeConfig:
    """The validated contents of a scheme file."""

    name: str
    charset: Charset
    min_length: int
    max_length: int
    width: int
    height: int
    style: Style
    min_width: int | None = None
    min_height: int | None = None


@dataclass(frozen=True)
class _SchemeFile:
    """The top level of a scheme file, as written (validated strictly by pydantic)."""

    __pydantic_config__ = STRICT

    name: str
    charset: str
    length: Range[int]
    size: tuple[Range[int], Range[int]]
    case_sensitive: bool = True
    style: Style = field(default_factory=Style)


def _resolve_fonts(data: Any, base_dir: Path) -> Any:
    """Font paths in ``style.fonts`` are relative to the YAML file's folder."""
    if not isinstance(data, dict) or not isinstance(data.get("style"), dict):
        return data
    fonts = data["style"].get("fonts")
    if not isinstance(fonts, list) or not all(isinstance(font, str) for font in fonts):
        return data  # the validator reports the wrong type
    paths = [Path(font).expanduser() for font in fonts]
    resolved = [str(p if p.is_absolute() else base_dir / p) for p in paths]
    return {**data, "style": {**data["style"], "fonts": resolved}}


def parse_style(data: object, base_dir: Path, source: str = "scheme") -> Style:
    """A :class:`Style` from the ``style:`` mapping; font paths are relative to ``base_dir``."""
    resolved = _resolve_fonts({"style": data}, base_dir)["style"]
    return validate(Style, resolved, source, prefix="style.")


def parse_scheme(data: object, base_dir: Path, source: str = "scheme") -> SchemeConfig:
    """Validate the top-level mapping of a scheme file."""
    if isinstance(data, dict) and data.get("style") is None:
        data = {key: value for key, value in data.items() if key != "style"}
    parsed = validate(_SchemeFile, _resolve_fonts(data, base_dir), source)
    (min_length, max_length), ((min_width, width), (min_height, height)) = (
        parsed.length,
        parsed.size,
    )
    if not 8 <= min_width <= width or not 8 <= min_height <= height:
        raise ValueError(f"{source}: size: need 8 <= low <= high, got {list(parsed.size)}")
    try:
        charset = Charset.from_spec(parsed.charset, parsed.case_sensitive)
    except ValueError as error:
        raise ValueError(f"{source}: charset: {error}") from error
    return SchemeConfig(
        name=parsed.name,
        charset=charset,
        min_length=min_length,
        max_length=max_length,
        width=width,
        height=height,
        style=parsed.style,
        min_width=min_width if min_width != width else None,
        min_height=min_height if min_height != height else None,
    )


def read_scheme_file(path: Path) -> SchemeConfig:
    """Load and validate a scheme file; every error is a ``ValueError`` naming ``path``."""
    path = Path(path)
    return parse_scheme(read_yaml(path), path.parent, source=f"scheme file {path}")
