"""The free fonts shipped in ``captchalab/assets/fonts`` (licences: ``LICENSES.md`` there).

Schemes draw from these rather than from the operating system's fonts, so an image depends
only on the seed, the package and the Pillow/FreeType version, not on what a machine has
installed. Two lists, both frozen: :data:`SHIPPED_FONT_FILES`, the core 15 that ``mix``, the
styled schemes' defaults and the audits use (changing it would change their images), and
:data:`BROAD_FONT_FILES`, the wider set that only the ``broad`` scheme adds. ``broad`` can also
take fonts from folders named by ``CAPTCHALAB_FONT_DIRS`` (see :func:`fonts_from_dirs`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageFont

from captchalab.charset import DIGITS, LOWER, UPPER

FONT_DIRS_ENV = "CAPTCHALAB_FONT_DIRS"
REQUIRED_GLYPHS = DIGITS + UPPER + LOWER
FONT_SUFFIXES = (".ttf", ".otf")

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

# Fixed order too; only ``broad`` uses these (after the core set).
BROAD_FONT_FILES: tuple[str, ...] = (
    "FreeSansBold.ttf",
    "FreeMonoOblique.ttf",
    "NimbusSansNarrow-Bold.otf",
    "URWGothic-Demi.otf",
    "C059-Bold.otf",
    "P052-Italic.otf",
    "URWBookman-Light.otf",
    "Z003-MediumItalic.otf",
    "NimbusMonoPS-Bold.otf",
    "Cousine-Regular.ttf",
    "Caladea-Regular.ttf",
    "Cantarell-Thin.otf",
    "Cantarell-ExtraBold.otf",
    "Roboto-Black.ttf",
    "Roboto-Thin.ttf",
    "RobotoCondensed-Light.ttf",
    "RobotoSlab-Bold.otf",
    "Lato-Hairline.ttf",
    "Play-Bold.ttf",
    "Tuffy_Bold.ttf",
    "Karla-ExtraBold.otf",
    "YanoneKaffeesatz-Regular.otf",
    "Comfortaa-Bold.ttf",
    "GenBasR.ttf",
    "AveriaGWF-Regular.ttf",
    "Inconsolata.otf",
    "FantasqueSansMono-Bold.otf",
    "FiraCode-Light.ttf",
    "3270-Regular.ttf",
    "LeagueMono-WideThin.otf",
    "LeagueMono-CondensedExtraBold.otf",
    "OCRB.otf",
    "DancingScript-Bold.otf",
    "lobster.otf",
    "LeckerliOne-Regular.ttf",
    "Kristi.ttf",
    "dkgBd.ttf",
    "Rufscript010.ttf",
    "CherryBomb-Regular.otf",
    "StayPuft.ttf",
    "CabinSketch-Bold.ttf",
    "NationalPark-Outline.otf",
    "NationalPark-Heavy.otf",
    "monof55.ttf",
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


@cache
def broad_fonts() -> tuple[str, ...]:
    """The core set followed by :data:`BROAD_FONT_FILES`: every font captchalab ships."""
    folder = fonts_dir()
    paths = tuple(str(folder / name) for name in BROAD_FONT_FILES)
    missing = [path for path in paths if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"shipped fonts missing (broken install?): {missing}")
    return shipped_fonts() + paths


def missing_glyphs(path: str, chars: str = REQUIRED_GLYPHS) -> str:
    """The characters of ``chars`` that the font at ``path`` has no glyph for.

    Pillow does not expose a font's character map, so a glyph counts as missing when it
    draws nothing or draws exactly the font's "missing glyph" box.
    """
    font = ImageFont.truetype(path, 24)
    notdef = _ink(font, "\U0010fffd")
    return "".join(char for char in chars if _ink(font, char) in (b"", notdef))


def _ink(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    mask = font.getmask(char)
    if mask.size[0] == 0 or mask.size[1] == 0:
        return b""
    image = Image.frombytes("L", mask.size, bytes(mask))
    box = image.getbbox()
    return b"" if box is None else image.crop(box).tobytes() + repr(box).encode()


def font_dirs_from_env() -> tuple[str, ...]:
    """The folders named by ``CAPTCHALAB_FONT_DIRS`` (``os.pathsep``-separated), if set."""
    value = os.environ.get(FONT_DIRS_ENV, "")
    return tuple(part for part in value.split(os.pathsep) if part.strip())


def fonts_from_dirs(dirs: Iterable[str | Path], chars: str = REQUIRED_GLYPHS) -> tuple[str, ...]:
    """Every ``.ttf``/``.otf`` under ``dirs`` (recursively) that draws all of ``chars``.

    Sorted by path, so the result (and hence what a seed renders) depends only on the files
    present. Unreadable fonts and fonts missing a glyph are skipped; a folder that does not
    exist is an error, so a typo does not silently train on fewer fonts.
    """
    found: list[str] = []
    for folder in dirs:
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"font folder {str(folder)!r} does not exist")
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
                try:
                    complete = not missing_glyphs(str(path), chars)
                except OSError:  # not a font FreeType can read
                    continue
                if complete:
                    found.append(str(path.resolve()))
    return tuple(dict.fromkeys(sorted(found)))


def with_extra_fonts(base: Sequence[str], extra: Iterable[str]) -> tuple[str, ...]:
    """``base`` followed by the fonts of ``extra`` that it lacks (same file name = same font)."""
    names = {Path(path).name for path in base}
    return tuple(base) + tuple(path for path in extra if Path(path).name not in names)
