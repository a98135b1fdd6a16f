"""Where ``--init`` finds its starting weights."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def resolve_init(init: str) -> Path:
    """``default`` -> the shipped default model's checkpoint; anything else is a path."""
    if init == "default":
        folder = ASSETS / "default"
        if not (folder / "checkpoint.json").exists():
            raise FileNotFoundError(
                f"the shipped default checkpoint is missing from {folder}; reinstall captchalab"
            )
        return folder
    return Path(init)
