"""What a training run reads: charset, label length, preprocessing, train and validation sets."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from captchalab.charset import Charset
from captchalab.data.cache import cached_arrays
from captchalab.data.datasets import FolderDataset, StepBatches, SyntheticDataset, collate
from captchalab.data.labels import read_labels
from captchalab.data.preprocess import Preprocessing, input_widths, trim
from captchalab.schemes import get_scheme
from captchalab.training.checkpoint import CheckpointMeta
from captchalab.training.config import VALIDATION_SEED, TrainConfig

Batch = tuple[torch.Tensor, list[str]]
Progress = Callable[[str, int, int], None]  # (task, advance, total)
MIN_FOLDER_IMAGES = 2  # one to validate on, one (or more) to train on


@dataclass
class RunData:
    charset: Charset
    max_length: int
    preprocessing: Preprocessing
    val_images: np.ndarray  # (N, C, H, W) uint8
    val_texts: list[str]
    train_images: np.ndarray | None  # in-memory training set, or None for a synthetic stream
    train_texts: list[str] | None
    stream: SyntheticDataset | None


def preprocessing_of(config: TrainConfig) -> Preprocessing:
    return Preprocessing(
        config.height,
        config.width,
        config.channels,
        config.resize,
        config.median_filter,
        config.dynamic_width,
        config.min_width,
        config.crop_text,
    )


def reshaped_input(init: CheckpointMeta, wanted: Preprocessing) -> Preprocessing:
    """The input a fine-tuned model reads when its config sets ``reshape_input``.

    Only the width side may change (``width``, ``resize``, ``dynamic_width``, ``min_width``,
    ``median_filter``, ``crop_text``), and only for a CTC model, whose convolutions and
    recurrence do not depend on the width: its weights read the new input as the old one.
    """
    old = init.preprocessing
    if init.objective != "ctc":
        raise ValueError(
            f"reshape_input needs a width-free CTC model; {init.model_name!r} reads a fixed "
            f"{old.height}x{old.width} input"
        )
    if (wanted.height, wanted.channels) != (old.height, old.channels):
        raise ValueError(
            f"reshape_input keeps the height and channels of the initial model "
            f"({old.height} px, {old.channels} channel(s)); the config asks for "
            f"{wanted.height} px, {wanted.channels}"
        )
    return wanted


def label_needs(config: TrainConfig) -> tuple[str, int]:
    """The symbols the run's labels use and the longest label, read without rendering or
    decoding an image (a folder's labels, or a scheme's charset and length)."""
    if config.data:
        texts = [text for _, text in read_labels(Path(config.data))]
        return "".join(dict.fromkeys("".join(texts))), max(len(t) for t in texts)
    assert config.scheme is not None
    scheme = get_scheme(config.scheme)
    return scheme.charset.symbols, scheme.max_length


def prepare_data(
    config: TrainConfig,
    cache_dir: Path,
    charset: Charset | None = None,
    preprocessing: Preprocessing | None = None,
    max_length: int | None = None,
    progress: Progress | None = None,
) -> RunData:
    """Build the datasets. ``charset``/``preprocessing``/``max_length`` are fixed when
    fine-tuning (they come from the initial checkpoint)."""
    preprocessing = preprocessing or preprocessing_of(config)
    if config.data:
        return _folder_data(config, charset, preprocessing, max_length, progress)
    assert config.scheme is not None
    scheme = get_scheme(config.scheme)
    charset = charset or (
        Charset.from_spec(config.charset, config.case_sensitive)
        if config.charset
        else Charset(
            scheme.charset.symbols, config.case_sensitive and scheme.charset.case_sensitive
        )
    )
    for symbol in scheme.charset.symbols:
        charset.validate(symbol, where=f"scheme {scheme.name}")
    max_length = max_length or config.max_length or scheme.max_length

    def bar(task: str) -> Callable[[int], None] | None:
        return (lambda n: progress(task, n, 0)) if progress else None

    val_images, val_texts = cached_arrays(
        cache_dir,
        config.scheme,
        preprocessing,
        VALIDATION_SEED,
        config.val_size,
        progress=bar("render validation"),
    )
    train_images = train_texts = stream = None
    if config.cache_size:
        train_images, train_texts = cached_arrays(
            cache_dir,
            config.scheme,
            preprocessing,
            config.seed,
            config.cache_size,
            progress=bar("render training set"),
        )
    else:
        stream = SyntheticDataset(scheme, preprocessing, config.seed)
    return RunData(
        charset=charset,
        max_length=max_length,
        preprocessing=preprocessing,
        val_images=val_images,
        val_texts=val_texts,
        train_images=train_images,
        train_texts=train_texts,
        stream=stream,
    )


def _folder_data(
    config: TrainConfig,
    charset: Charset | None,
    preprocessing: Preprocessing,
    max_length: int | None,
    progress: Progress | None,
) -> RunData:
    """A labelled folder, split 90/10 by a fixed shuffle: at least one image each for
    validation and training, so a folder needs two images or more."""
    assert config.data is not None
    if charset is None:
        if not config.charset:
            raise ValueError("training from scratch on a folder needs --charset (or use --init)")
        charset = Charset.from_spec(config.charset, config.case_sensitive)
    folder = FolderDataset(Path(config.data), charset, preprocessing)
    if len(folder) < MIN_FOLDER_IMAGES:
        raise ValueError(
            f"{config.data} holds only {len(folder)} labelled image; training needs at least "
            f"{MIN_FOLDER_IMAGES} (one is held out to validate on). Add images, or render "
            "more with `captchalab generate`"
        )
    images = np.stack([np.round(folder[i][0] * 255).astype(np.uint8) for i in range(len(folder))])
    texts = [text for _, text in folder.items]
    longest = folder.max_length
    max_length = max_length or config.max_length or longest
    if longest > max_length:
        raise ValueError(
            f"{config.data} has labels of {longest} symbols; the model reads {max_length}"
        )
    order = list(range(len(texts)))
    random.Random(config.seed).shuffle(order)
    val_count = max(1, len(order) // 10)
    val, train = order[:val_count], order[val_count:]
    return RunData(
        charset=charset,
        max_length=max_length,
        preprocessing=preprocessing,
        val_images=images[val],
        val_texts=[texts[i] for i in val],
        train_images=images[train],
        train_texts=[texts[i] for i in train],
        stream=None,
    )


def batches(
    data: RunData, config: TrainConfig, start_step: int, rank: int = 0, world_size: int = 1
) -> Iterator[Batch]:
    """Training batches from ``start_step`` on; the same step always gets the same batch.

    A dynamic-width model gets each batch cut to its widest input width (only fill columns
    go), which saves the work of reading padding; from a pre-rendered set, batches are also
    drawn from images of similar widths (:func:`width_sorted`)."""
    spec = data.preprocessing
    if data.train_images is None:
        assert data.stream is not None
        loader = DataLoader(
            data.stream,
            batch_sampler=StepBatches(config.batch_size, start_step, rank, world_size),
            collate_fn=collate,
            num_workers=config.workers,
            # its own generator: starting a loader must not draw from the global RNG, which
            # dropout uses and checkpoints store (samples themselves depend on the index only)
            generator=torch.Generator().manual_seed(config.seed),
        )
        for images, texts in loader:
            yield torch.from_numpy(trim(images.numpy(), spec)), texts
        return
    assert data.train_texts is not None
    count = len(data.train_texts)
    per_epoch = max(1, count // (config.batch_size * world_size))
    widths = input_widths(data.train_images, spec) if spec.dynamic_width else None
    step = start_step
    while True:
        epoch, position = divmod(step, per_epoch)
        order = np.random.default_rng([config.seed, epoch]).permutation(count)
        if widths is not None:
            order = width_sorted(order, widths, config.batch_size * world_size, config.seed, epoch)
        begin = (position * world_size + rank) * config.batch_size
        chosen = order[begin : begin + config.batch_size]
        if len(chosen) < config.batch_size:  # tiny sets: wrap around
            chosen = np.resize(order, config.batch_size)
        chunk = np.ascontiguousarray(trim(data.train_images[chosen], spec))
        images = torch.from_numpy(chunk).float() / 255.0
        yield images, [data.train_texts[i] for i in chosen]
        step += 1


SORT_WINDOW = 32  # batches whose images are sorted by width together


def width_sorted(
    order: np.ndarray, widths: np.ndarray, batch: int, seed: int, epoch: int
) -> np.ndarray:
    """An epoch's shuffled ``order`` regrouped so each batch holds images of similar widths.

    Windows of ``SORT_WINDOW`` batches are sorted by width (stably) and cut into batches, and
    the batches of each window are shuffled: still a permutation of ``order``, still a pure
    function of ``(seed, epoch)``, and each batch's padding is small.
    """
    window = batch * SORT_WINDOW
    out = order.copy()
    rng = np.random.default_rng([seed, epoch, 1])
    for start in range(0, len(order) - batch + 1, window):
        whole = (len(order) - start) // batch * batch  # whole batches left from start
        stop = start + min(window, whole)
        part = order[start:stop]
        part = part[np.argsort(widths[part], kind="stable")]
        blocks = part.reshape(-1, batch)
        out[start:stop] = blocks[rng.permutation(len(blocks))].ravel()
    return out
