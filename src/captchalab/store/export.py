"""Stored answers -> a labelled folder (the answer as label), the format ``generate`` writes:
``{index:06d}.png`` + ``labels.csv`` (``filename,label``), ready for ``harden finetune``."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from captchalab.schemes.generate import LABELS_FILE
from captchalab.store.records import ChallengeStore

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SAMPLE_NAME = re.compile(r"\d{6,}\.png")


@dataclass(frozen=True)
class ExportSummary:
    written: int
    skipped_empty: int
    flagged: int
    out_dir: Path


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``7d``, ``24h``, ``30m``, ``90s``, ``2w`` ago, or an ISO 8601 date/time (UTC if naive)."""
    now = now or datetime.now(timezone.utc)
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        return now - timedelta(seconds=float(match[1]) * _UNIT_S[match[2]])
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {value!r}: use a duration (30m, 24h, 7d) or an ISO time (2026-12-01T08:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def export_answers(
    store: ChallengeStore,
    out_dir: Path,
    since: datetime,
    flagged_only: bool = False,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write every answer stored since ``since`` (only length anomalies with ``flagged_only``).

    Empty answers are skipped (a label cannot be empty). ``labels.csv`` is written last, so
    an interrupted export leaves no label file; an existing dataset is refused unless
    ``overwrite``.
    """
    out_dir = Path(out_dir)
    _prepare(out_dir, overwrite)
    since_ms = int(since.timestamp() * 1000)
    rows: list[tuple[str, str]] = []
    skipped = flagged = 0
    for answer in store.answers(since_ms, flagged_only):
        if not answer.answer:
            skipped += 1
            continue
        name = f"{len(rows):06d}.png"
        (out_dir / name).write_bytes(answer.image_png)
        rows.append((name, answer.answer))
        flagged += answer.length_anomaly
        if progress is not None:
            progress(len(rows))
    partial = out_dir / f"{LABELS_FILE}.partial"
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["filename", "label"])
        writer.writerows(rows)
    partial.replace(out_dir / LABELS_FILE)
    return ExportSummary(len(rows), skipped, flagged, out_dir)


def _prepare(out_dir: Path, overwrite: bool) -> None:
    labels = out_dir / LABELS_FILE
    if labels.exists():
        if not overwrite:
            raise FileExistsError(
                f"{out_dir} already holds a dataset ({LABELS_FILE}); use --overwrite"
            )
        for path in out_dir.iterdir():
            if _SAMPLE_NAME.fullmatch(path.name):
                path.unlink()
        labels.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
