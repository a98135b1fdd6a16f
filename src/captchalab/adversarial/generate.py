"""Write hardened captchas of a scheme as a labelled folder: ``{index:06d}.png`` + ``labels.csv``.

Sample ``i`` is the scheme's sample ``i`` for ``seed`` and is hardened with the same seed, so
the same command writes byte-identical files.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from captchalab.adversarial.engine import Hardener
from captchalab.schemes import get_scheme

LABELS_FILE = "labels.csv"
CHUNK = 64


def harden_dataset(
    scheme: str,
    hardener: Hardener,
    count: int,
    out: Path,
    seed: int = 0,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Render ``count`` captchas, harden them, write them; returns the labels file."""
    if count < 1:
        raise ValueError("count must be at least 1")
    resolved = get_scheme(scheme)
    out = Path(out)
    labels = out / LABELS_FILE
    if labels.exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a labelled set; pass --overwrite to replace it")
    out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str]] = []
    for start in range(0, count, CHUNK):
        samples = [resolved.sample_at(seed, i) for i in range(start, min(count, start + CHUNK))]
        images = [image for image, _ in samples]
        texts = [text for _, text in samples]
        hardened = hardener.harden_detailed(images, texts, seed=seed * 1_000_003 + start)
        for offset, (item, text) in enumerate(zip(hardened, texts, strict=True)):
            name = f"{start + offset:06d}.png"
            item.image.save(out / name, format="PNG")
            rows.append((name, text))
        if progress:
            progress(len(rows))
    staging = labels.with_suffix(".csv.tmp")
    with staging.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["filename", "label"])
        writer.writerows(rows)
    staging.replace(labels)
    return labels
