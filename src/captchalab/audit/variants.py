"""Scheme factors the sensitivity analysis varies, one at a time.

Each factor is registered with a function that, given a scheme, returns a copy of it with
only that factor changed (a :class:`Variant`), or a sentence saying why the scheme cannot
vary it (python ``captcha`` draws its rotation, noise and warp with fixed settings, for
example). A factor the scheme cannot vary is reported as such, never faked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from captchalab.charset import DIGITS, LOWER, UPPER, Charset
from captchalab.registry import add_unique, lookup
from captchalab.schemes.base import Scheme
from captchalab.schemes.fonts import shipped_fonts
from captchalab.schemes.imagecaptcha import ImageCaptchaScheme
from captchalab.schemes.styled import Colours, Style, StyledScheme


@dataclass(frozen=True)
class Variant:
    scheme: Scheme
    change: str  # what was changed, in words a designer reads ("removes rotation")


Vary = Callable[[Scheme], Variant | str]


@dataclass(frozen=True)
class Factor:
    name: str
    label: str
    vary: Vary


FACTORS: dict[str, Factor] = {}
MAX_LENGTH = 8  # the shipped default model reads at most 8 symbols
_FIXED_BY_CAPTCHA = "drawn by the python captcha library with fixed settings: not variable"


def register_factor(name: str, label: str) -> Callable[[Vary], Vary]:
    def wrap(vary: Vary) -> Vary:
        add_unique(FACTORS, "factor", name, Factor(name, label, vary))
        return vary

    return wrap


def vary(factor: str, scheme: Scheme) -> Variant | str:
    """The variant of ``scheme`` for ``factor``, or the reason it cannot be varied."""
    entry = lookup(FACTORS, "factor", factor)
    if not isinstance(scheme, StyledScheme | ImageCaptchaScheme):
        return f"{type(scheme).__name__} schemes are not re-rendered by the audit"
    return entry.vary(scheme)


def _renamed(scheme: Scheme, factor: str, **changes: Any) -> Scheme:
    return replace(scheme, name=f"{scheme.name}-{factor}", **changes)


def _styled(scheme: Scheme, factor: str, change: str, **style: Any) -> Variant | str:
    if not isinstance(scheme, StyledScheme):
        return _FIXED_BY_CAPTCHA
    return Variant(_renamed(scheme, factor, style=replace(scheme.style, **style)), change)


@register_factor("charset", "character set and case")
def _charset(scheme: Scheme) -> Variant | str:
    symbols = scheme.charset.symbols
    letters = {c for c in symbols if c.isalpha()}
    has_lower = any(c in LOWER for c in letters)
    has_upper = any(c in UPPER for c in letters)
    if not letters:
        new, change = symbols + UPPER, "adds the 26 upper-case letters"
    elif has_lower and has_upper and scheme.charset.case_sensitive:
        new, change = "".join(c for c in symbols if c not in LOWER), "drops lower case"
    elif has_upper and not has_lower:
        new, change = symbols + LOWER, "adds lower case (case-sensitive)"
    else:
        new = "".join(dict.fromkeys(symbols + DIGITS + UPPER))
        change = "adds digits and upper case"
    charset = Charset(new, scheme.charset.case_sensitive)
    return Variant(_renamed(scheme, "charset", charset=charset), change)


@register_factor("length", "length")
def _length(scheme: Scheme) -> Variant | str:
    low, high = scheme.min_length, scheme.max_length
    if high + 2 <= MAX_LENGTH:
        new, change = (low + 2, high + 2), f"makes it 2 symbols longer ({low + 2}-{high + 2})"
    elif low > 2:
        new, change = (low - 2, high - 2), f"makes it 2 symbols shorter ({low - 2}-{high - 2})"
    else:
        return "already spans the lengths the attacker reads"
    return Variant(_renamed(scheme, "length", min_length=new[0], max_length=new[1]), change)


@register_factor("rotation", "rotation")
def _rotation(scheme: Scheme) -> Variant | str:
    if isinstance(scheme, StyledScheme) and scheme.style.rotation >= 10:
        return _styled(scheme, "rotation", "removes rotation", rotation=0.0)
    return _styled(scheme, "rotation", "tilts glyphs up to 30 degrees", rotation=30.0)


@register_factor("overlap", "glyph overlap and spacing")
def _overlap(scheme: Scheme) -> Variant | str:
    if isinstance(scheme, StyledScheme) and scheme.style.spacing[0] < 0:
        return _styled(scheme, "overlap", "separates the glyphs", spacing=(0.05, 0.2))
    return _styled(scheme, "overlap", "overlaps the glyphs", spacing=(-0.3, -0.1))


@register_factor("noise_dots", "noise dots")
def _dots(scheme: Scheme) -> Variant | str:
    if isinstance(scheme, StyledScheme) and scheme.style.noise_dots[1] > 0:
        return _styled(scheme, "noise_dots", "removes the noise dots", noise_dots=(0, 0))
    return _styled(scheme, "noise_dots", "adds 40-80 noise dots", noise_dots=(40, 80))


@register_factor("lines", "lines and arcs")
def _lines(scheme: Scheme) -> Variant | str:
    style = scheme.style if isinstance(scheme, StyledScheme) else None
    if style is not None and (style.noise_lines[1] > 0 or style.noise_arcs[1] > 0):
        return _styled(
            scheme, "lines", "removes lines and arcs", noise_lines=(0, 0), noise_arcs=(0, 0)
        )
    return _styled(
        scheme, "lines", "adds 2-4 lines and 1-2 arcs", noise_lines=(2, 4), noise_arcs=(1, 2)
    )


@register_factor("warp", "warp")
def _warp(scheme: Scheme) -> Variant | str:
    if isinstance(scheme, StyledScheme) and scheme.style.warp > 0:
        return _styled(scheme, "warp", "removes the warp", warp=0.0)
    return _styled(scheme, "warp", "adds a sine warp of 12% of the height", warp=0.12)


@register_factor("contrast", "contrast and colour")
def _contrast(scheme: Scheme) -> Variant | str:
    if not isinstance(scheme, StyledScheme):
        return _FIXED_BY_CAPTCHA
    colours = scheme.style.colours
    background = sum(sum(r) / 2 for r in colours.background) / 3
    text = sum(sum(r) / 2 for r in colours.text) / 3
    if abs(background - text) > 100:
        grey = ((110, 160), (110, 160), (110, 160))
        new, change = replace(colours, text=grey, noise=None), "lowers text contrast (grey text)"
    else:
        new = Colours(background=((220, 255),) * 3, text=((0, 60),) * 3)
        change = "raises contrast (dark text on light)"
    return _styled(scheme, "contrast", change, colours=new)


@register_factor("font", "font family")
def _font(scheme: Scheme) -> Variant | str:
    fonts = shipped_fonts()
    if isinstance(scheme, ImageCaptchaScheme):
        if scheme.fonts:
            return Variant(_renamed(scheme, "font", fonts=()), "uses captcha's one default font")
        change = f"draws from {len(fonts)} fonts instead of captcha's one"
        return Variant(_renamed(scheme, "font", fonts=fonts), change)
    assert isinstance(scheme, StyledScheme)
    if len(scheme.style.fonts) > 1:
        return _styled(scheme, "font", "uses a single font", fonts=scheme.style.fonts[:1])
    return _styled(scheme, "font", f"draws from {len(fonts)} fonts", fonts=fonts)


@register_factor("background", "background texture")
def _background(scheme: Scheme) -> Variant | str:
    if isinstance(scheme, StyledScheme) and (scheme.style.gradient or scheme.style.grid != (0, 0)):
        return _styled(scheme, "background", "plain background", gradient=False, grid=(0, 0))
    return _styled(
        scheme, "background", "gradient background ruled with a grid", gradient=True, grid=(6, 12)
    )


__all__ = ["FACTORS", "Factor", "Style", "Variant", "register_factor", "vary"]
