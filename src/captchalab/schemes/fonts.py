"""The free fonts shipped in ``captchalab/assets/fonts`` (licences: ``LICENSES.md`` there).

Schemes draw from these rather than from the operating system's fonts, so an image depends
only on the seed, the package and the Pillow/FreeType version, not on what a machine has
installed.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

# Fixed order: schemes pick fonts with ``rng.choice``, so the order is part of reproducibility.
SHIPPED_FONT_FILES: tuple[str, ...] = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansCondensed-Oblique.ttf",
    "DejaVuSerifCondensed-Bold.ttf",
    "LiberationSans-Regular.ttf",
    "LiberationSerif-Italic.ttf",
    "LiberationMono-Bold.ttf",
    "OpenSans-CondBold.ttf",
    "Go-Medium-Italic.ttf",
    "Quicksand-Bold.ttf",
    "LeagueSpartan-Bold.otf",
    "CourierPrime-Regular.otf",
    "ComicNeue-Bold.otf",
    "KaushanScript-Regular.otf",
)


def fonts_dir() -> Path:
    """The folder holding the shipped font files and ``LICENSES.md``."""
    return Path(str(resources.files("captchalab") / "assets" / "fonts"))


@cache
def shipped_fonts() -> tuple[str, ...]:
    """Paths of the shipped font files, in the fixed order of :data:`SHIPPED_FONT_FILES`."""
    folder = fonts_dir()
    paths = tuple(str(folder / name) for name in SHIPPED_FONT_FILES)
    missing = [path for path in paths if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"shipped fonts missing (broken install?): {missing}")
    return paths
