"""Training a dynamic-width model, and widening a fixed-width CTC model with ``reshape_input``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import CheckpointFactory

from captchalab.data.preprocess import input_widths
from captchalab.training.checkpoint import load_checkpoint
from captchalab.training.config import TrainConfig
from captchalab.training.run_data import batches, prepare_data, preprocessing_of, width_sorted
from captchalab.training.trainer import train

TINY = TrainConfig(
    model="crnn",
    scheme="mix",
    height=32,
    width=256,
    resize="pad",
    dynamic_width=True,
    min_width=48,
    batch_size=4,
    max_steps=2,
    val_size=4,
    eval_every=2,
    checkpoint_every=2,
    cache_size=8,
    threads=1,
    model_args={"channels": [8, 8, 16, 16], "hidden": 16},
)


def test_batches_are_cut_to_their_widest_input(tmp_path: Path) -> None:
    data = prepare_data(TINY, tmp_path / "cache")
    assert data.train_images is not None and data.train_images.shape[-1] == 256
    widest = int(input_widths(data.train_images, data.preprocessing).max())
    assert widest < 256  # mix images at 32 px high are narrower than the cap
    images, texts = next(batches(data, TINY, start_step=0))
    assert len(texts) == 4 and images.shape[-1] <= widest and images.shape[-1] % 16 == 0
    assert images.shape[-1] >= 48


def test_a_dynamic_width_run_trains_and_records_its_input(tmp_path: Path) -> None:
    metrics = train(TINY, tmp_path / "run")
    assert 0.0 <= metrics["exact_accuracy"] <= 1.0
    _, meta = load_checkpoint(tmp_path / "run")
    assert meta.preprocessing == preprocessing_of(TINY)
    assert meta.preprocessing.dynamic_width and meta.preprocessing.width == 256


def test_reshape_input_widens_a_fixed_ctc_model(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    start = make_checkpoint(tmp_path / "fixed")  # crnn, 32x96, digits
    _, before = load_checkpoint(start)
    assert not before.preprocessing.dynamic_width
    config = replace(TINY, scheme="digits5", init=str(start), reshape_input=True, width=192)
    train(config, tmp_path / "run")
    _, meta = load_checkpoint(tmp_path / "run")
    assert meta.preprocessing.dynamic_width and meta.preprocessing.width == 192
    assert meta.charset == before.charset  # the rest still comes from the initial model
    # without reshape_input the initial model's input is kept
    train(replace(config, reshape_input=False), tmp_path / "kept")
    assert load_checkpoint(tmp_path / "kept")[1].preprocessing == before.preprocessing


def test_reshape_input_refuses_what_the_weights_cannot_read(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    crnn = make_checkpoint(tmp_path / "crnn")
    taller = replace(TINY, scheme="digits5", init=str(crnn), reshape_input=True, height=48)
    with pytest.raises(ValueError, match="keeps the height and channels"):
        train(taller, tmp_path / "taller")
    multihead = make_checkpoint(tmp_path / "multihead", "multihead")
    fixed = replace(TINY, scheme="digits5", init=str(multihead), reshape_input=True)
    with pytest.raises(ValueError, match="needs a width-free CTC model"):
        train(fixed, tmp_path / "fixed")


def test_width_sorted_batches_are_a_permutation_of_similar_widths() -> None:
    rng = np.random.default_rng(0)
    widths = rng.choice([48, 64, 96, 128, 256], size=1000)
    order = rng.permutation(1000)
    sorted_order = width_sorted(order, widths, batch=8, seed=0, epoch=3)
    assert sorted(sorted_order) == list(range(1000))
    assert np.array_equal(sorted_order, width_sorted(order, widths, batch=8, seed=0, epoch=3))
    assert not np.array_equal(sorted_order, width_sorted(order, widths, batch=8, seed=0, epoch=4))

    def padding(o: np.ndarray) -> int:
        blocks = widths[o[: 1000 // 8 * 8]].reshape(-1, 8)
        return int((blocks.max(axis=1, keepdims=True) - blocks).sum())

    assert padding(sorted_order) < padding(order) / 4


def test_dynamic_width_is_refused_for_fixed_width_models(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dynamic_width needs a width-free CTC model"):
        train(replace(TINY, model="multihead", model_args={}), tmp_path / "run")


def test_stop_at_ends_early_on_the_full_schedule(tmp_path: Path) -> None:
    config = replace(TINY, max_steps=6, stop_at=3, eval_every=100, checkpoint_every=100)
    train(config, tmp_path / "stopped")
    stopped = load_checkpoint(tmp_path / "stopped" / "last")[1]
    assert stopped.step == 3
    train(replace(config, stop_at=None), tmp_path / "stopped", resume=True)  # finish it
    assert load_checkpoint(tmp_path / "stopped" / "last")[1].step == 6
