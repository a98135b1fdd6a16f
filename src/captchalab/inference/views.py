"""Other views of one captcha, for a second look at the answers a model is unsure of.

A view is a plain image-to-image function: a border, contrast stretched, a median filter,
colours inverted, half or twice the size, a light blur. Each view goes through the model's
one preprocessing path (``data.preprocess``) like any other image; the Solver's second look
(``Solver.with_second_look``) reads the views of an image whose calibrated confidence is
below a threshold and keeps the most confident answer, the first reading included.

Views are registered by name, so a caller can pick some (``views=("median3", "blur")``) and a
new one is one decorated function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PIL import Image, ImageFilter, ImageOps

from captchalab.registry import add_unique

View = Callable[[Image.Image], Image.Image]
VIEWS: dict[str, View] = {}
# Below this calibrated confidence the second look reads the views: the first answer is then
# more likely wrong than right.
DEFAULT_SECOND_LOOK = 0.5


def register_view(name: str) -> Callable[[View], View]:
    """Register ``function`` as the view ``name`` (names are unique)."""

    def add(function: View) -> View:
        add_unique(VIEWS, "view", name, function)
        return function

    return add


def resolve_views(names: Iterable[str] | None) -> tuple[str, ...]:
    """Check view names (``None``: every registered view, in registration order)."""
    chosen = tuple(VIEWS) if names is None else tuple(names)
    unknown = [n for n in chosen if n not in VIEWS]
    if unknown:
        raise ValueError(f"unknown views {unknown}; known: {', '.join(VIEWS)}")
    if not chosen:
        raise ValueError("a second look needs at least one view")
    return chosen


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


@register_view("pad")
def pad(image: Image.Image) -> Image.Image:
    """A border of the corner's colour: a tenth of the width left and right, a fifth of the
    height above and below (text that touches the edge)."""
    image = _rgb(image)
    border = (image.width // 10, image.height // 5)
    corner = image.getpixel((0, 0))
    fill = corner if isinstance(corner, (int, tuple)) else 0
    return ImageOps.expand(image, border=border, fill=fill)


@register_view("autocontrast")
def autocontrast(image: Image.Image) -> Image.Image:
    """Grey levels stretched to the full range, 2% clipped at each end (faint text)."""
    return ImageOps.autocontrast(image.convert("L"), cutoff=2)


@register_view("median3")
def median3(image: Image.Image) -> Image.Image:
    """A 3x3 median filter (speckle, dots, thin noise lines)."""
    return _rgb(image).filter(ImageFilter.MedianFilter(3))


@register_view("invert")
def invert(image: Image.Image) -> Image.Image:
    """Colours inverted (light text on a dark ground)."""
    return ImageOps.invert(_rgb(image))


@register_view("half")
def half(image: Image.Image) -> Image.Image:
    """Half the size, bilinear (fine texture averaged away)."""
    size = (max(8, image.width // 2), max(8, image.height // 2))
    return _rgb(image).resize(size, Image.Resampling.BILINEAR)


@register_view("double")
def double(image: Image.Image) -> Image.Image:
    """Twice the size, bicubic (small or low-resolution text)."""
    return _rgb(image).resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC)


@register_view("blur")
def blur(image: Image.Image) -> Image.Image:
    """A Gaussian blur of radius 1 (dithering, JPEG blocks, hatching)."""
    return _rgb(image).filter(ImageFilter.GaussianBlur(1))
