"""Widening a trained model to a site's labels: new symbols and longer CTC texts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import CheckpointFactory
from PIL import Image

from captchalab.training.checkpoint import load_checkpoint
from captchalab.training.config import TrainConfig
from captchalab.training.trainer import train
from captchalab.training.widen import unknown_symbols, widen_model


def _trained_like(folder: Path, make_checkpoint: CheckpointFactory, name: str = "crnn"):  # type: ignore[no-untyped-def]
    model, meta = load_checkpoint(make_checkpoint(folder, model_name=name))
    with torch.no_grad():  # an untrained model's output is too flat to show a difference
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return model, meta


def test_unknown_symbols_follow_the_case_policy_in_first_seen_order() -> None:
    from captchalab.charset import Charset

    assert unknown_symbols(Charset("abc", case_sensitive=True), ["aZ+", "=Z"]) == "Z+="
    assert unknown_symbols(Charset("abc", case_sensitive=False), ["AB", "cd"]) == "d"


@pytest.mark.parametrize("name", ["crnn", "multihead"])
def test_the_old_classes_keep_their_logits(
    name: str, tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    model, meta = _trained_like(tmp_path / "start", make_checkpoint, name)
    wide, wide_meta = widen_model(model, meta, "0123+=", 4)
    assert wide_meta.charset.symbols == meta.charset.symbols + "+="
    assert wide_meta.charset.num_classes == meta.charset.num_classes + 2
    old = meta.charset.num_classes
    images = torch.rand(3, 1, 32, 96)
    model.eval(), wide.eval()
    before, after = model(images), wide(images)
    assert after.shape[-1] == old + 2
    # The same weights, but the output layer is a wider matmul: BLAS may pick another kernel
    # for it and round differently in the last bit (1e-7 measured on an AMD EPYC), so equal
    # up to float32 rounding; a changed old row would move these logits by far more.
    torch.testing.assert_close(after[..., :old], before, rtol=0, atol=1e-6)


def test_the_attention_start_token_moves_to_the_end(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    model, meta = _trained_like(tmp_path / "start", make_checkpoint, "attention")
    wide, _ = widen_model(model, meta, "#", 4)
    old = meta.charset.num_classes
    torch.testing.assert_close(wide.embed.weight[:old], model.embed.weight[:old])
    torch.testing.assert_close(wide.embed.weight[-1], model.embed.weight[-1])
    assert wide.start_token == old + 1


def test_labels_that_fit_change_nothing(tmp_path: Path, make_checkpoint: CheckpointFactory) -> None:
    model, meta = load_checkpoint(make_checkpoint(tmp_path / "start"))
    assert widen_model(model, meta, "0912", meta.max_length) == (model, meta)


def test_a_longer_text_grows_a_ctc_model_but_not_a_fixed_length_one(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    model, meta = load_checkpoint(make_checkpoint(tmp_path / "crnn"))
    same, longer = widen_model(model, meta, "0123", meta.max_length + 3)
    assert same is model and longer.max_length == meta.max_length + 3
    model, meta = load_checkpoint(make_checkpoint(tmp_path / "mh", model_name="multihead"))
    with pytest.raises(ValueError, match="reads at most 6"):
        widen_model(model, meta, "0123", 9)


def _site_folder(folder: Path, labels: list[str]) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "label"])
        for i, label in enumerate(labels):
            pixels = rng.integers(0, 255, (40, 120, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
            writer.writerow([f"{i}.png", label])
    return folder


def test_fine_tuning_on_a_site_with_new_symbols_and_longer_texts(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    start = make_checkpoint(tmp_path / "start")  # "@digits", 6 symbols at most
    labels = ["12+34=", "7-2=5?", "123456789", "00+11"] * 2
    config = TrainConfig(
        model="crnn",
        data=str(_site_folder(tmp_path / "site", labels)),
        init=str(start),
        batch_size=4,
        max_steps=2,
        eval_every=2,
        checkpoint_every=2,
        threads=1,
    )
    train(config, tmp_path / "run")
    _, meta = load_checkpoint(tmp_path / "run")
    assert meta.charset.symbols == "0123456789+=-?"
    assert meta.max_length == 9


def test_fine_tuning_keeps_the_starting_weights_unless_training_beats_them(
    tmp_path: Path, make_checkpoint: CheckpointFactory
) -> None:
    import json

    start = make_checkpoint(tmp_path / "start")
    config = TrainConfig(
        model="crnn",
        data=str(_site_folder(tmp_path / "site", ["1234", "5678", "9012", "3456"] * 3)),
        init=str(start),
        batch_size=4,
        max_steps=4,
        eval_every=2,
        checkpoint_every=2,
        threads=1,
    )
    train(config, tmp_path / "run")
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert [m["step"] for m in lines] == [0, 2, 4]  # the start is validated before step 1
    assert lines[0]["loss"] is None
    _, best = load_checkpoint(tmp_path / "run" / "best")
    scores = [(m["exact_accuracy"], -m["character_error_rate"]) for m in lines]
    best_score = (best.metrics["exact_accuracy"], -best.metrics["character_error_rate"])
    assert best_score == max(scores)
    assert best.step == lines[scores.index(max(scores))]["step"]  # the first of equals
