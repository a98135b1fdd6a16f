"""Sharded generation: slice ``I/N`` of a (scheme, seed, count) dataset, and its assembly.

Shard ``I`` of ``N`` renders the contiguous indices ``[I*count//N, (I+1)*count//N)``, so the
shards are disjoint, cover every index once, and each file is the one an unsharded run writes.
Every shard writes its rows to ``.shards/<key>-IIIII-of-NNNNN.csv`` in the output folder; the
shard that finds all ``N`` row files present writes ``labels.csv`` (atomically, so shards that
finish together agree) and removes ``.shards``. The assembled folder is byte-identical to one
unsharded run. ``<key>`` names the scheme, count and seed, so mismatched shards never mix.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

SHARDS_DIR = ".shards"
_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Shard:
    """Slice ``index`` (0-based, as a Kubernetes Indexed Job numbers its pods) of ``total``."""

    index: int
    total: int

    def __post_init__(self) -> None:
        if self.total < 1 or not 0 <= self.index < self.total:
            raise ValueError(
                f"shard must be I/N with N >= 1 and 0 <= I < N, got {self.index}/{self.total}"
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/8"`` -> ``Shard(2, 8)``."""
        match = _SPEC.fullmatch(text)
        if not match:
            raise ValueError(f"shard must look like I/N (e.g. 0/4), got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def indices(self, count: int) -> range:
        """The sample indices of this shard among ``count``."""
        return range(self.index * count // self.total, (self.index + 1) * count // self.total)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def _key(scheme_name: str, count: int, seed: int) -> str:
    return f"{_UNSAFE.sub('_', scheme_name)}-n{count}-seed{seed}"


def _rows_file(folder: Path, key: str, index: int, total: int) -> Path:
    return folder / f"{key}-{index:05d}-of-{total:05d}.csv"


def _atomic_write_rows(path: Path, rows: list[tuple[str, str]], header: bool) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if header:
            writer.writerow(["filename", "label"])
        writer.writerows(rows)
    os.replace(temporary, path)


def write_labels(path: Path, rows: list[tuple[str, str]]) -> None:
    """``labels.csv`` (header ``filename,label``), written atomically."""
    _atomic_write_rows(path, rows, header=True)


def record_shard(
    out_dir: Path,
    labels_name: str,
    scheme_name: str,
    count: int,
    seed: int,
    shard: Shard,
    rows: list[tuple[str, str]],
) -> bool:
    """Store ``shard``'s rows; write ``labels.csv`` when every shard is in. True if complete."""
    folder = out_dir / SHARDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    key = _key(scheme_name, count, seed)
    _atomic_write_rows(_rows_file(folder, key, shard.index, shard.total), rows, header=False)
    paths = [_rows_file(folder, key, i, shard.total) for i in range(shard.total)]
    if not all(path.exists() for path in paths):
        return False
    merged: list[tuple[str, str]] = []
    try:
        for path in paths:
            with path.open(newline="", encoding="utf-8") as handle:
                merged.extend((name, label) for name, label in csv.reader(handle))
    except FileNotFoundError:  # another shard assembled and cleaned up first
        return (out_dir / labels_name).exists()
    if len(merged) != count:
        raise RuntimeError(f"{folder}: shards hold {len(merged)} rows, expected {count}")
    write_labels(out_dir / labels_name, merged)
    shutil.rmtree(folder, ignore_errors=True)
    return True
