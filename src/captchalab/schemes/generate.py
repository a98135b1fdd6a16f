"""Write a scheme's samples to disk as a labelled folder: ``{index:06d}.png`` + ``labels.csv``.

Sample ``i`` is ``scheme.sample_at(seed, i)`` and PNGs are saved with fixed parameters, so a
(scheme, seed, count) triple gives byte-identical folders whatever the number of workers.
Workers are started with ``spawn`` (safe under threads, e.g. a progress bar) and receive the
scheme by name, YAML path, or pickle. ``shard=Shard(I, N)`` writes one disjoint slice of the
same folder (see ``captchalab.schemes.shards``), for many machines writing to shared storage.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from captchalab.schemes.base import Scheme
from captchalab.schemes.registry import get_scheme
from captchalab.schemes.shards import SHARDS_DIR, Shard, record_shard, write_labels

LABELS_FILE = "labels.csv"
_SAMPLE_NAME = re.compile(r"\d{6,}\.png")

logger = logging.getLogger(__name__)

SchemeSpec = Scheme | str | Path
"""A scheme object, a preset name, or a path to a YAML scheme file."""


@dataclass(frozen=True)
class _Job:
    scheme: Scheme
    out_dir: Path
    seed: int


# Per-process job, set once by ``_init_worker`` in each worker (or in this process).
_job: _Job | None = None


def _resolve(spec: SchemeSpec) -> Scheme:
    return spec if isinstance(spec, Scheme) else get_scheme(spec)


def _init_worker(spec: SchemeSpec, out_dir: Path, seed: int) -> None:
    global _job
    _job = _Job(_resolve(spec), out_dir, seed)


def _write_sample(index: int) -> tuple[str, str]:
    """Render sample ``index`` into the job's folder; returns (file name, label)."""
    if _job is None:
        raise RuntimeError("_write_sample called before _init_worker")
    image, label = _job.scheme.sample_at(_job.seed, index)
    filename = f"{index:06d}.png"
    # Fixed encoder settings (and no metadata) keep files byte-identical across runs.
    image.save(_job.out_dir / filename, format="PNG", optimize=False, compress_level=6)
    return filename, label


def _prepare(out_dir: Path, overwrite: bool) -> None:
    """Create ``out_dir``; refuse, or with ``overwrite`` clear, an existing dataset in it."""
    labels = out_dir / LABELS_FILE
    if labels.exists():
        if not overwrite:
            raise FileExistsError(
                f"{out_dir} already holds a dataset ({LABELS_FILE}); "
                "pass overwrite=True to replace it"
            )
        # Remove only what a previous run wrote, so no stale samples outlive the new labels.
        for path in out_dir.iterdir():
            if _SAMPLE_NAME.fullmatch(path.name):
                path.unlink()
        labels.unlink()
        shutil.rmtree(out_dir / SHARDS_DIR, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def _samples(
    spec: SchemeSpec, indices: Sequence[int], out_dir: Path, seed: int, workers: int
) -> Iterator[tuple[str, str]]:
    """(file name, label) for ``indices``, in order, written by ``workers`` processes."""
    if workers <= 1:
        _init_worker(spec, out_dir, seed)
        yield from map(_write_sample, indices)
        return
    chunksize = max(1, min(64, len(indices) // (4 * workers)))
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _init_worker, (spec, out_dir, seed)) as pool:
        yield from pool.imap(_write_sample, indices, chunksize=chunksize)


def generate_dataset(
    scheme: SchemeSpec,
    count: int,
    out_dir: Path,
    seed: int,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    overwrite: bool = False,
    shard: Shard | None = None,
) -> Path:
    """Render ``count`` samples of ``scheme`` into ``out_dir`` and return ``out_dir``.

    ``workers``: processes to render with (default: CPU count; 1 renders in this process).
    ``progress``: called with the number of images written so far, after each image.
    ``overwrite``: replace a dataset already in ``out_dir`` (its ``labels.csv`` and numbered
    PNGs); otherwise such a folder raises ``FileExistsError``. ``labels.csv`` (header
    ``filename,label``) is written last, so an interrupted run leaves no label file.
    ``shard``: render only that slice of the ``count`` samples; the shard that completes the
    set writes ``labels.csv``. A shard can be re-run (same bytes), but not with ``overwrite``.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if shard is not None and overwrite:
        raise ValueError("overwrite would delete other shards' files: clear the folder first")
    resolved = _resolve(scheme)  # fail fast on a bad name or YAML file
    # Workers rebuild presets and YAML schemes themselves; other schemes travel by pickle.
    spec: SchemeSpec = str(scheme) if isinstance(scheme, str | Path) else resolved
    out_dir = Path(out_dir)
    _prepare(out_dir, overwrite)
    indices = shard.indices(count) if shard is not None else range(count)
    workers = max(1, min(workers or os.cpu_count() or 1, len(indices)))
    rows = []
    for done, row in enumerate(_samples(spec, indices, out_dir, seed, workers), start=1):
        rows.append(row)
        if progress is not None:
            progress(done)
    if shard is None:
        write_labels(out_dir / LABELS_FILE, rows)
        logger.info("wrote %d samples of %s to %s", count, resolved.name, out_dir)
    else:
        complete = record_shard(out_dir, LABELS_FILE, resolved.name, count, seed, shard, rows)
        logger.info(
            "wrote shard %s (%d samples) of %s to %s%s",
            shard,
            len(rows),
            resolved.name,
            out_dir,
            "; all shards in, labels.csv written" if complete else "",
        )
    return out_dir
