"""Datasets yielding ``(image (C, H, W) float32, text)`` pairs.

- :class:`SyntheticDataset`: endless, rendered on the fly from a scheme; sample ``i`` depends
  only on ``(seed, i)``. :class:`StepBatches` says which samples each training step reads, so
  a step's batch is a pure function of ``(seed, step)`` whatever the number of DataLoader
  workers or DDP ranks.
- :class:`FolderDataset`: labelled images on disk (``labels.csv``, or the label in the name;
  see ``data.labels``, which reads them without torch).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from captchalab.charset import Charset
from captchalab.data.formats import IMAGE_SUFFIXES
from captchalab.data.labels import read_labels
from captchalab.data.preprocess import Preprocessing, preprocess, to_array
from captchalab.schemes import Scheme

__all__ = [
    "IMAGE_SUFFIXES",
    "FolderDataset",
    "StepBatches",
    "SyntheticDataset",
    "collate",
    "read_labels",
]

Sample = tuple[np.ndarray, str]


class SyntheticDataset(Dataset[Sample]):
    """Endless rendered captchas: ``dataset[i]`` is sample ``i`` of ``(scheme, seed)``.

    It has no length; read it through :class:`StepBatches` (or any sampler of indices).
    """

    def __init__(self, scheme: Scheme, preprocessing: Preprocessing, seed: int) -> None:
        self.scheme, self.preprocessing, self.seed = scheme, preprocessing, seed

    def __getitem__(self, index: int) -> Sample:
        image, text = self.scheme.sample_at(self.seed, index)
        return to_array(image, self.preprocessing), text


class StepBatches(Sampler[list[int]]):
    """Sample indices per training step, from ``start_step`` on, without end.

    Step ``s`` on rank ``r`` of ``world_size`` reads samples
    ``(s * world_size + r) * batch_size + k`` for ``k < batch_size``: ranks never overlap and
    the batch does not depend on which DataLoader worker renders it (the DataLoader returns
    batches in sampler order).
    """

    def __init__(
        self, batch_size: int, start_step: int = 0, rank: int = 0, world_size: int = 1
    ) -> None:
        if batch_size < 1 or start_step < 0 or not 0 <= rank < world_size:
            raise ValueError(
                f"need batch_size >= 1, start_step >= 0 and 0 <= rank < world_size; got "
                f"{batch_size}, {start_step}, {rank}, {world_size}"
            )
        self.batch_size, self.start_step = batch_size, start_step
        self.rank, self.world_size = rank, world_size

    def indices(self, step: int) -> list[int]:
        first = (step * self.world_size + self.rank) * self.batch_size
        return list(range(first, first + self.batch_size))

    def __iter__(self) -> Iterator[list[int]]:
        for step in itertools.count(self.start_step):
            yield self.indices(step)


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


def collate(batch: list[Sample]) -> tuple[torch.Tensor, list[str]]:
    """List of samples -> ``(B, C, H, W)`` float tensor and the list of texts."""
    images = torch.from_numpy(np.stack([image for image, _ in batch]))
    return images, [text for _, text in batch]
