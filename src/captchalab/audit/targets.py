"""What an audit attacks: a scheme captchalab renders, or a labelled folder of real captchas.

Either way the attacker sees the same thing: a folder of ``N`` labelled captchas (a
``labels.csv`` naming the images) to train on, and a disjoint test set to be scored on.
Training-set sizes are nested (the first ``N`` of one fixed order), so a larger point of the
learning curve holds every captcha of the smaller ones.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from captchalab.charset import Charset
from captchalab.data.datasets import read_labels
from captchalab.data.preprocess import Preprocessing, load_image, to_array
from captchalab.schemes import get_scheme
from captchalab.schemes.base import Scheme
from captchalab.schemes.generate import generate_dataset
from captchalab.training.config import TEST_SEED

TRAIN_SEED = 0
SERIAL_RENDER = 1000
DATA_TEST_FRACTION = 0.2  # share of a labelled folder held out as the audit's test set


@dataclass
class AuditTarget:
    """A scheme (``scheme`` set) or a labelled folder (``folder`` set) under audit."""

    name: str
    charset: Charset
    max_length: int
    scheme: Scheme | None = None
    spec: str | None = None  # preset name or YAML path, when the scheme has one
    folder: Path | None = None
    _pairs: list[tuple[Path, str]] = field(default_factory=list, repr=False)
    _test_count: int = 0

    @property
    def kind(self) -> str:
        return "scheme" if self.scheme is not None else "data"

    def describe(self) -> str:
        if self.scheme is not None:
            return f"scheme {self.spec or self.name}"
        return f"labelled folder {self.folder}"

    # --- training data -----------------------------------------------------------------
    def available(self, wanted: int) -> int:
        """How many training captchas the target can give (a folder has a finite pool)."""
        if self.scheme is not None:
            return wanted
        return len(self._pairs) - self._test_count

    def training_folder(self, count: int, work: Path, workers: int | None = None) -> Path:
        """A folder whose ``labels.csv`` lists the first ``count`` training captchas."""
        pool = self.pool(count, work, workers)
        subset = work / f"train-{count}"
        subset.mkdir(parents=True, exist_ok=True)
        with (subset / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["filename", "label"])
            for path, label in pool[:count]:
                writer.writerow([str(path.resolve()), label])
        return subset

    def pool(self, count: int, work: Path, workers: int | None = None) -> list[tuple[Path, str]]:
        """The training pool, rendered (once) to hold at least ``count`` captchas."""
        if self.scheme is None:
            return self._pairs[self._test_count :]
        folder = work / "pool"
        labels = folder / "labels.csv"
        if labels.exists():
            pairs = read_labels(folder)
            if len(pairs) >= count:
                return pairs
        if count <= SERIAL_RENDER:
            workers = 1  # starting render processes costs more than drawing a few images
        generate_dataset(
            self.spec or self.scheme, count, folder, TRAIN_SEED, workers=workers, overwrite=True
        )
        return read_labels(folder)

    # --- test data ----------------------------------------------------------------------
    def test_images(self, count: int) -> tuple[list[Image.Image], list[str]]:
        """Raw test captchas and their labels (rendered at the test seed, or held out)."""
        if self.scheme is not None:
            samples = [self.scheme.sample_at(TEST_SEED, i) for i in range(count)]
            return [image for image, _ in samples], [text for _, text in samples]
        held_out = self._pairs[: self._test_count]
        return [load_image(path) for path, _ in held_out], [label for _, label in held_out]


def test_arrays(images: list[Image.Image], spec: Preprocessing) -> np.ndarray:
    """Raw images -> ``(N, C, H, W)`` uint8 model inputs through the one preprocessing path."""
    return np.stack([np.round(to_array(image, spec) * 255).astype(np.uint8) for image in images])


@dataclass
class ScoringImages:
    """An audit's test captchas, as model input for whichever preprocessing an attacker
    reads (the default model's input may differ from the from-scratch attackers'), each
    computed once."""

    images: list[Image.Image]
    _arrays: dict[Preprocessing, np.ndarray] = field(default_factory=dict, repr=False)

    def arrays(self, spec: Preprocessing) -> np.ndarray:
        if spec not in self._arrays:
            self._arrays[spec] = test_arrays(self.images, spec)
        return self._arrays[spec]

    def __len__(self) -> int:
        return len(self.images)


def scheme_target(spec: str) -> AuditTarget:
    scheme = get_scheme(spec)
    return from_scheme(scheme, spec)


def from_scheme(scheme: Scheme, spec: str | None = None) -> AuditTarget:
    return AuditTarget(scheme.name, scheme.charset, scheme.max_length, scheme=scheme, spec=spec)


def folder_target(folder: Path, test_size: int, seed: int = 0) -> AuditTarget:
    """A labelled folder: a fixed shuffle holds out ``min(test_size, 20%)`` as the test set."""
    folder = Path(folder)
    pairs = read_labels(folder)
    if len(pairs) < 10:
        raise ValueError(f"{folder} holds {len(pairs)} labelled images; an audit needs >= 10")
    empty = [path.name for path, label in pairs if not label]
    if empty:
        raise ValueError(f"{folder}: empty labels for {empty[:5]}")
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    shuffled = [pairs[i] for i in order]
    symbols = "".join(sorted({char for _, label in pairs for char in label}))
    test_count = max(1, min(test_size, round(DATA_TEST_FRACTION * len(pairs))))
    return AuditTarget(
        folder.name,
        Charset(symbols, True),
        max(len(label) for _, label in pairs),
        folder=folder,
        _pairs=shuffled,
        _test_count=test_count,
    )
