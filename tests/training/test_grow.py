"""Growing a trained model: added self-attention blocks start as the identity and learn."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import CheckpointFactory

from captchalab.training.checkpoint import load_checkpoint
from captchalab.training.config import TrainConfig
from captchalab.training.grow import grow_model
from captchalab.training.trainer import train

CONTEXT = {"context_layers": 2, "heads": 2}


def _trained_like(
    folder: Path, make_checkpoint: CheckpointFactory
) -> tuple[torch.nn.Module, object]:
    model, meta = load_checkpoint(make_checkpoint(folder))
    with torch.no_grad():  # an untrained model's output is too flat to show a difference
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return model, meta


def test_a_grown_model_answers_exactly_as_the_trained_one(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    model, meta = _trained_like(tmp_path / "start", make_checkpoint)
    grown, grown_meta = grow_model(model, meta, CONTEXT)  # type: ignore[arg-type]
    assert grown_meta.model_args == {**meta.model_args, **CONTEXT}  # type: ignore[attr-defined]
    assert len(grown.context) == 2  # type: ignore[arg-type]
    images = torch.rand(3, 1, 32, 96)
    model.eval(), grown.eval()
    torch.testing.assert_close(grown(images), model(images), rtol=0, atol=0)


def test_the_added_blocks_learn_from_the_first_step(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    model, meta = _trained_like(tmp_path / "start", make_checkpoint)
    grown, _ = grow_model(model, meta, CONTEXT)  # type: ignore[arg-type]
    grown(torch.rand(2, 1, 32, 96)).square().mean().backward()
    block = grown.context[0]  # type: ignore[index]
    assert block.out.weight.grad.abs().sum() > 0
    assert block.mlp[-1].weight.grad.abs().sum() > 0


def test_arguments_the_checkpoint_sets_keep_its_values(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    model, meta = load_checkpoint(make_checkpoint(tmp_path / "start"))
    assert grow_model(model, meta, dict(meta.model_args)) == (model, meta)
    assert grow_model(model, meta, {}) == (model, meta)
    wider = 2 * int(meta.model_args["hidden"])  # e.g. a from-scratch config's size, with init
    assert grow_model(model, meta, {"hidden": wider, "channels": [4, 4, 4, 4]}) == (model, meta)


def test_an_addition_that_reshapes_trained_weights_is_refused(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    model, meta = load_checkpoint(make_checkpoint(tmp_path / "start"))
    with pytest.raises(ValueError, match=r"change the trained model.*dropped: backbone"):
        grow_model(model, meta, {"backbone": "resnet"})


def test_a_bad_growth_is_a_clear_error(tmp_path: Path, make_checkpoint: CheckpointFactory) -> None:
    model, meta = load_checkpoint(make_checkpoint(tmp_path / "start"))
    with pytest.raises(ValueError, match="cannot grow 'crnn'"):
        grow_model(model, meta, {"context_layers": 1, "heads": 7})


def test_training_from_init_with_context_layers_saves_the_grown_model(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    start = make_checkpoint(tmp_path / "start")
    config = TrainConfig(
        model="crnn",
        scheme="digits5",
        init=str(start),
        model_args=CONTEXT,
        batch_size=4,
        max_steps=2,
        val_size=4,
        eval_every=2,
        checkpoint_every=2,
        cache_size=8,
        threads=1,
    )
    train(config, tmp_path / "run")
    model, meta = load_checkpoint(tmp_path / "run")
    assert meta.model_args["context_layers"] == 2
    assert len(model.context) == 2  # type: ignore[arg-type]
