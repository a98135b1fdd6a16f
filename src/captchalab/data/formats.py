"""The image formats captchalab reads: one list for folders (CLI, datasets) and the service.

Pillow format name -> the file suffixes that name it. TIFF is left out on purpose: it is rarely
a captcha and its decoder is the largest attack surface Pillow has, so the service refuses it
and folders skip it (a TIFF named on the command line is still read).
"""

from __future__ import annotations

IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg"),
    "GIF": (".gif",),
    "WEBP": (".webp",),
    "BMP": (".bmp",),
}
PILLOW_FORMATS: tuple[str, ...] = tuple(IMAGE_FORMATS)
IMAGE_SUFFIXES: tuple[str, ...] = tuple(s for suffixes in IMAGE_FORMATS.values() for s in suffixes)
