"""Datasets yielding ``(image (C, H, W) float32, text)`` pairs.

- :class:`SyntheticDataset`: endless, rendered on the fly from a scheme; sample ``i`` depends
  only on ``(seed, i)``, so DataLoader workers and DDP ranks split one stream without overlap.
- :class:`FolderDataset`: labelled images on disk (``labels.csv``, or the label in the name).
- :class:`ArrayDataset`: pre-rendered uint8 arrays held in memory (see ``data.cache``).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from captchalab.charset import Charset
from captchalab.data.formats import IMAGE_SUFFIXES
from captchalab.data.preprocess import Preprocessing, preprocess, to_array
from captchalab.schemes import Scheme

Sample = tuple[np.ndarray, str]


class SyntheticDataset(IterableDataset[Sample]):
    """Endless stream of rendered captchas: index ``start + k * stride + offset``.

    ``rank``/``world_size`` split the stream across DDP processes; DataLoader workers split
    each rank's share again.
    """

    def __init__(
        self,
        scheme: Scheme,
        preprocessing: Preprocessing,
        seed: int,
        start: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.scheme, self.preprocessing, self.seed = scheme, preprocessing, seed
        self.start, self.rank, self.world_size = start, rank, world_size

    def __iter__(self) -> Iterator[Sample]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        stride = self.world_size * workers
        offset = self.rank * workers + worker
        for index in itertools.count(self.start + offset, stride):
            image, text = self.scheme.sample_at(self.seed, index)
            yield to_array(image, self.preprocessing), text


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


class FolderDataset(Dataset[Sample]):
    """Labelled images on disk; every label is checked against the charset up front."""

    def __init__(self, folder: Path, charset: Charset, preprocessing: Preprocessing) -> None:
        self.preprocessing = preprocessing
        self.items = [(p, charset.validate(t, where=str(p))) for p, t in read_labels(folder)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        path, text = self.items[index]
        return preprocess(path, self.preprocessing), text

    @property
    def max_length(self) -> int:
        return max(len(t) for _, t in self.items)


class ArrayDataset(Dataset[Sample]):
    """In-memory ``(N, C, H, W)`` uint8 images with labels."""

    def __init__(self, images: np.ndarray, texts: list[str]) -> None:
        if len(images) != len(texts):
            raise ValueError(f"{len(images)} images but {len(texts)} labels")
        self.images, self.texts = images, texts

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> Sample:
        return self.images[index].astype(np.float32) / 255.0, self.texts[index]


def collate(batch: list[Sample]) -> tuple[torch.Tensor, list[str]]:
    """List of samples -> ``(B, C, H, W)`` float tensor and the list of texts."""
    images = torch.from_numpy(np.stack([image for image, _ in batch]))
    return images, [text for _, text in batch]
