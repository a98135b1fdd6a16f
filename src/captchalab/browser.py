"""Debian's Chromium as captchalab drives it (Playwright): where it is, and the flags it needs.

Nothing is downloaded: the browser is the system's ``chromium`` package. The flags keep a
headless run quiet on a closed network (no background fetches, no component updates, no sync)
and working as root (no sandbox).
"""

from __future__ import annotations

import shutil

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium_path() -> str:
    """The system Chromium's path, or a clear error saying how to install it."""
    path = shutil.which("chromium")
    if path is None:
        raise FileNotFoundError("Debian chromium is not installed (apt-get install -y chromium)")
    return path
