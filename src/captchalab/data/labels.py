"""Labelled image folders: which files, with which labels (numpy-free, torch-free)."""

from __future__ import annotations

import csv
from pathlib import Path

from captchalab.data.formats import IMAGE_SUFFIXES


def read_labels(folder: Path) -> list[tuple[Path, str]]:
    """``(path, label)`` pairs from ``labels.csv`` (filename,label) or from file names.

    Without ``labels.csv`` the label is the file stem up to the first ``_``
    (``ANHMI_num46892.jpg`` -> ``ANHMI``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder {folder} does not exist")
    labels_file = folder / "labels.csv"
    if labels_file.exists():
        return _read_labels_csv(labels_file)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(
            f"{folder} holds no labels.csv and no images ({', '.join(IMAGE_SUFFIXES)})"
        )
    return [(p, p.stem.split("_")[0]) for p in files]


def _read_labels_csv(labels_file: Path) -> list[tuple[Path, str]]:
    pairs = []
    with labels_file.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["filename", "label"]:
            raise ValueError(f"{labels_file}: first row must be the header 'filename,label'")
        for line, row in enumerate(reader, start=2):
            if len(row) < 2:
                raise ValueError(f"{labels_file}:{line}: expected 'filename,label', got {row}")
            path = labels_file.parent / row[0]
            if not path.exists():
                raise FileNotFoundError(f"{labels_file}:{line}: image {row[0]!r} does not exist")
            pairs.append((path, row[1]))
    if not pairs:
        raise ValueError(f"{labels_file} lists no images")
    return pairs
