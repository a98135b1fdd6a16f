"""Which files a ``solve`` command means: files as given, folders expanded to their images."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from captchalab.data.formats import IMAGE_SUFFIXES

STDIN = "-"


def expand_inputs(paths: Sequence[str | Path]) -> list[str]:
    """Each folder becomes its image files (by suffix, sorted, not recursive); files and ``-``
    (standard input) stay as given, so a missing file is reported when it is read."""
    expanded: list[str] = []
    for path in paths:
        if str(path) != STDIN and Path(path).is_dir():
            images = (p for p in Path(path).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            expanded.extend(str(p) for p in sorted(images) if p.is_file())
        else:
            expanded.append(str(path))
    return expanded
