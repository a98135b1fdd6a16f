"""Shared by the challenge tests: a served labelled folder whose answers the tests know."""

from __future__ import annotations

import base64
import csv
from pathlib import Path

from captchalab.schemes.generate import generate_dataset


def labelled_folder(folder: Path, count: int = 12, scheme: str = "hku") -> dict[bytes, str]:
    """Render ``count`` captchas into ``folder``; returns PNG bytes -> label."""
    generate_dataset(scheme, count, folder, seed=0, workers=1)
    with (folder / "labels.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {(folder / row["filename"]).read_bytes(): row["label"] for row in rows}


def challenge_file(path: Path, **values: object) -> Path:
    lines = [f"{key}: {value}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def label_of(challenge: dict[str, str], labels: dict[bytes, str]) -> str:
    return labels[base64.b64decode(challenge["image"])]
