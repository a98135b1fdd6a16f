"""The peer benchmark's fixed test sets, as encoded PNG bytes (what a solver receives).

Synthetic sets are samples ``0..count-1`` of the fixed test seed (``TEST_SEED``), disjoint
from every training stream, so numbers are comparable across commits. The Kaggle set is the
``test`` split of ``split.csv`` (640 images), read in place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import generators
from bench_common import SCHEME_FILES, display_path, package_version
from PIL import Image

from captchalab.schemes import get_scheme, list_schemes
from captchalab.training.config import TEST_SEED


@dataclass(frozen=True)
class BenchSet:
    """Labelled images plus what a peer may be told: the symbols that can occur."""

    name: str
    source: str  # where the images come from, for the report
    images: list[bytes]
    labels: list[str]
    symbols: str
    case_sensitive: bool = True


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def scheme_set(spec: str, count: int, seed: int = TEST_SEED, label: str | None = None) -> BenchSet:
    """A captchalab scheme (preset name or YAML path) sampled at the test seed."""
    scheme = get_scheme(spec)
    images, labels = [], []
    for index in range(count):
        image, text = scheme.sample_at(seed, index)
        images.append(png_bytes(image))
        labels.append(scheme.charset.normalize(text))
    source = f"captchalab scheme `{label or spec}`, seed {seed}"
    return BenchSet(
        scheme.name, source, images, labels, scheme.charset.symbols, scheme.charset.case_sensitive
    )


def generator_set(
    spec: generators.GeneratorSpec, render: generators.Render, count: int, seed: int = TEST_SEED
) -> BenchSet:
    """A PyPI generator sampled at the test seed."""
    samples = [generators.sample(spec, render, seed, index) for index in range(count)]
    version = package_version(spec.package)
    return BenchSet(
        spec.name,
        f"PyPI `{spec.package}` {version}, seed {seed}",
        [png_bytes(image) for image, _ in samples],
        [text for _, text in samples],
        spec.symbols,
    )


def kaggle_set(folder: Path, limit: int | None = None) -> BenchSet:
    """The ``test`` split of kaggle_captcha_v2; symbols are those of the whole set's labels."""
    with (folder / "split.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    test = [row for row in rows if row["split"] == "test"][:limit]
    symbols = "".join(sorted({c for row in rows for c in row["label"]}))
    return BenchSet(
        "kaggle_v2_test",
        f"`{display_path(folder)}` split.csv `test`",
        [(folder / row["filename"]).read_bytes() for row in test],
        [row["label"] for row in test],
        symbols,
    )


SetBuilder = tuple[str, Callable[[], BenchSet]]


def set_builders(
    count: int, kaggle_dir: Path | None, kaggle_limit: int | None, note: Callable[[str], None]
) -> Iterator[SetBuilder]:
    """``(name, build)`` for every set: presets (``mix`` too once registered), YAML
    schemes, PyPI generators, then Kaggle; missing sources get a note instead."""
    for name in list_schemes():
        yield name, partial(scheme_set, name, count)
    for path in sorted(SCHEME_FILES.glob("*.y*ml")):
        yield path.stem, partial(scheme_set, str(path), count, label=display_path(path))
    for spec, render in generators.available_generators(note):
        yield spec.name, partial(generator_set, spec, render, count)
    if kaggle_dir is None:
        return
    if (kaggle_dir / "split.csv").exists():
        yield "kaggle_v2_test", partial(kaggle_set, kaggle_dir, kaggle_limit)
    else:
        note(f"skipping kaggle_captcha_v2: no split.csv in {kaggle_dir}")
