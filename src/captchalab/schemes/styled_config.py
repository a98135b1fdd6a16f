"""Configuration of the styled scheme: the frozen :class:`Style` and its strict YAML loader.

A scheme file (see ``configs/schemes/``) looks like::

    name: myscheme
    charset: "@alnum"         # "@name" of a named set, or the symbols themselves
    case_sensitive: true
    length: [4, 6]            # or one number
    size: [160, 60]           # width, height
    style:                    # every key optional: the fields of Style
      fonts: [fonts/a.ttf]    # relative paths are resolved against the YAML file's folder
      font_size: [30, 42]     # ranges are [low, high] or one number
      rotation: 20
      warp: 0.1
      noise_dots: 40
      noise_lines: 3
      colours: {background: [[230, 255], [230, 255], [230, 255]], text: [[0, 120], 0, 0]}

Colours are three channel entries, each a [low, high] range or one value. Unknown keys
anywhere are errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from captchalab.charset import Charset
from captchalab.schemes.fonts import shipped_fonts
from captchalab.schemes.styled_render import ColourRange


def default_fonts() -> tuple[str, ...]:
    """The fonts shipped with captchalab, so images do not depend on the system's fonts."""
    return shipped_fonts()


_LIGHT: ColourRange = ((220, 255), (220, 255), (220, 255))
_DARK: ColourRange = ((0, 120), (0, 120), (0, 120))
_DARKER: ColourRange = ((0, 60), (0, 60), (0, 60))
_GREY: ColourRange = ((150, 200), (150, 200), (150, 200))


@dataclass(frozen=True)
class Colours:
    """Per-channel (red, green, blue) ranges; ``noise=None`` draws noise in text colours."""

    background: ColourRange = _LIGHT
    text: ColourRange = _DARK
    noise: ColourRange | None = None
    outline: ColourRange = _DARKER
    grid: ColourRange = _GREY

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
    in pixels, (0, 0) for none. ``blur``: radius of a Gaussian blur applied last (0: none).
    """

    fonts: tuple[str, ...] = field(default_factory=default_fonts)
    font_size: tuple[int, int] = (30, 42)
    rotation: float = 20.0
    warp: float = 0.0
    warp_period: tuple[float, float] = (0.5, 1.5)
    spacing: tuple[float, float] = (-0.1, 0.05)
    outline: int = 0
    gradient: bool = False
    colour_per: Literal["char", "word"] = "char"
    noise_dots: tuple[int, int] = (0, 0)
    dot_size: tuple[int, int] = (1, 2)
    noise_lines: tuple[int, int] = (0, 0)
    noise_arcs: tuple[int, int] = (0, 0)
    line_width: tuple[int, int] = (1, 2)
    grid: tuple[int, int] = (0, 0)
    blur: float = 0.0
    colours: Colours = field(default_factory=Colours)

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


def _check_range(name: str, pair: tuple[float, float], minimum: float) -> None:
    low, high = pair
    if not minimum <= low <= high:
        raise ValueError(f"style.{name}: need {minimum} <= low <= high, got {list(pair)}")


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


# --- strict YAML parsing: each parser takes (value, key) and raises ValueError naming key ---


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    return float(value)


def _int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key}: expected an integer, got {value!r}")
    return value


def _range(item: Callable[[object, str], Any]) -> Callable[[object, str], tuple[Any, Any]]:
    def parse(value: object, key: str) -> tuple[Any, Any]:
        if isinstance(value, list):
            if len(value) != 2:
                raise ValueError(f"{key}: expected [low, high], got {value!r}")
            return (item(value[0], key), item(value[1], key))
        single = item(value, key)
        return (single, single)

    return parse


def _string(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string, got {value!r}")
    return value


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key}: expected true or false, got {value!r}")
    return value


def _colour(value: object, key: str) -> ColourRange:
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"{key}: expected 3 channels ([low, high] or one value), got {value!r}")
    red, green, blue = (_range(_int)(channel, key) for channel in value)
    return (red, green, blue)


def _mapping(value: object, key: str, allowed: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{key}: expected a mapping, got {value!r}")
    unknown = sorted(str(name) for name in value if name not in allowed)
    if unknown:
        prefix = f"{key}." if key != "scheme" else ""
        names = ", ".join(prefix + name for name in unknown)
        raise ValueError(f"unknown key(s) {names}; allowed: {', '.join(allowed)}")
    return value


_STYLE_PARSERS: dict[str, Callable[[object, str], Any]] = {
    "font_size": _range(_int),
    "rotation": _number,
    "warp": _number,
    "warp_period": _range(_number),
    "spacing": _range(_number),
    "outline": _int,
    "gradient": _bool,
    "colour_per": _string,
    "noise_dots": _range(_int),
    "dot_size": _range(_int),
    "noise_lines": _range(_int),
    "noise_arcs": _range(_int),
    "line_width": _range(_int),
    "grid": _range(_int),
    "blur": _number,
}


def parse_style(data: object, base_dir: Path) -> Style:
    """A :class:`Style` from the ``style:`` mapping; font paths are relative to ``base_dir``."""
    allowed = [item.name for item in fields(Style)]
    mapping = _mapping(data, "style", allowed)
    args = {
        name: _STYLE_PARSERS[name](value, f"style.{name}")
        for name, value in mapping.items()
        if name in _STYLE_PARSERS
    }
    if "fonts" in mapping:
        fonts = mapping["fonts"]
        if not isinstance(fonts, list):
            raise ValueError(f"style.fonts: expected a list of paths, got {fonts!r}")
        paths = [Path(_string(font, "style.fonts")).expanduser() for font in fonts]
        args["fonts"] = tuple(str(p if p.is_absolute() else base_dir / p) for p in paths)
    if "colours" in mapping:
        colours = _mapping(mapping["colours"], "style.colours", [f.name for f in fields(Colours)])
        args["colours"] = Colours(
            **{name: _colour(value, f"style.colours.{name}") for name, value in colours.items()}
        )
    return Style(**args)


def parse_scheme(data: object, base_dir: Path) -> SchemeConfig:
    """Validate the top-level mapping of a scheme file."""
    allowed = ["name", "charset", "case_sensitive", "length", "size", "style"]
    mapping = _mapping(data, "scheme", allowed)
    missing = [key for key in ("name", "charset", "length", "size") if key not in mapping]
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}")
    case_sensitive = _bool(mapping.get("case_sensitive", True), "case_sensitive")
    charset = Charset.from_spec(_string(mapping["charset"], "charset"), case_sensitive)
    min_length, max_length = _range(_int)(mapping["length"], "length")
    size = mapping["size"]
    if not isinstance(size, list) or len(size) != 2:
        raise ValueError(f"size: expected [width, height], got {size!r}")
    width, height = _int(size[0], "size"), _int(size[1], "size")
    style = parse_style(mapping.get("style") or {}, base_dir)
    name = _string(mapping["name"], "name")
    return SchemeConfig(name, charset, min_length, max_length, width, height, style)


def read_scheme_file(path: Path) -> SchemeConfig:
    """Load and validate a scheme file; every error is a ``ValueError`` naming ``path``."""
    path = Path(path)
    try:
        return parse_scheme(yaml.safe_load(path.read_text(encoding="utf-8")), path.parent)
    except (ValueError, yaml.YAMLError) as error:
        raise ValueError(f"scheme file {path}: {error}") from error
