"""Pre-render a scheme's samples once, as uint8 model-input arrays, in parallel.

Rendering costs milliseconds per image, often more than a training step on a CPU; a cache
lets training and evaluation reuse a fixed set. Caches are ``.npz`` files read without pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from captchalab.data import resize
from captchalab.data.preprocess import Preprocessing, to_array
from captchalab.schemes import get_scheme

Progress = Callable[[int], None]
Chunk = tuple[np.ndarray, list[str]]
_CHUNK = 256


def _render_chunk(job: tuple[str, dict, int, int, int]) -> Chunk:
    scheme_spec, spec_dict, seed, start, count = job
    scheme, spec = get_scheme(scheme_spec), Preprocessing.from_dict(spec_dict)
    images, texts = [], []
    for index in range(start, start + count):
        image, text = scheme.sample_at(seed, index)
        images.append(np.round(to_array(image, spec) * 255).astype(np.uint8))
        texts.append(text)
    return np.stack(images), texts


def render_arrays(
    scheme_spec: str,
    preprocessing: Preprocessing,
    seed: int,
    count: int,
    workers: int | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Samples ``0..count-1`` of ``(scheme, seed)`` -> ``(N, C, H, W)`` uint8 and labels."""
    jobs = [
        (scheme_spec, preprocessing.to_dict(), seed, start, min(_CHUNK, count - start))
        for start in range(0, count, _CHUNK)
    ]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    parts: list[Chunk] = []
    if workers == 1:
        iterator = map(_render_chunk, jobs)
        parts = _collect(iterator, progress)
    else:
        with get_context("spawn").Pool(workers) as pool:
            parts = _collect(pool.imap(_render_chunk, jobs), progress)
    images = np.concatenate([p[0] for p in parts])
    texts = [t for p in parts for t in p[1]]
    return images, texts


def _collect(iterator: Iterable[Chunk], progress: Progress | None) -> list[Chunk]:
    parts: list[Chunk] = []
    for part in iterator:
        parts.append(part)
        if progress:
            progress(len(part[1]))
    return parts


def cache_path(
    folder: Path, scheme_spec: str, preprocessing: Preprocessing, seed: int, count: int
) -> Path:
    """Where ``cached_arrays`` keeps this set. The name holds a hash of the scheme's full
    definition (:meth:`Scheme.fingerprint`: a YAML file's values, the renderer's version,
    the fonts, captchalab's version) and the preprocessing with its version
    (``resize.PREPROCESSING_VERSION``), so editing a scheme or the preprocessing code never
    reuses its old images."""
    fingerprint = get_scheme(scheme_spec).fingerprint()
    spec = [preprocessing.to_dict(), resize.PREPROCESSING_VERSION]
    key = json.dumps([scheme_spec, fingerprint, spec, seed, count], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    name = Path(scheme_spec).stem
    return Path(folder) / f"{name}-seed{seed}-n{count}-{digest}.npz"


def cached_arrays(
    folder: Path,
    scheme_spec: str,
    preprocessing: Preprocessing,
    seed: int,
    count: int,
    workers: int | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, list[str]]:
    """:func:`render_arrays`, stored under ``folder`` and reused on the next call."""
    path = cache_path(folder, scheme_spec, preprocessing, seed, count)
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            return data["images"], [str(t) for t in data["texts"]]
    images, texts = render_arrays(scheme_spec, preprocessing, seed, count, workers, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial.npz")  # DDP ranks may race here
    np.savez(partial, images=images, texts=np.array(texts, dtype=str))
    partial.replace(path)  # atomic: a killed run never leaves a truncated cache
    return images, texts
