"""Case-insensitive training and tiny labelled folders."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from captchalab.charset import NAMED_CHARSETS
from captchalab.inference import Solver
from captchalab.schemes import get_scheme
from captchalab.schemes.generate import generate_dataset
from captchalab.training.checkpoint import load_checkpoint
from captchalab.training.config import TrainConfig
from captchalab.training.export import export_onnx
from captchalab.training.trainer import train

TINY = TrainConfig(
    model="crnn",
    height=32,
    width=96,
    batch_size=4,
    max_steps=2,
    val_size=4,
    eval_every=2,
    checkpoint_every=2,
    threads=1,
    model_args={"channels": [8, 8, 16, 16], "hidden": 16},
)


def test_training_and_solving_on_a_case_insensitive_charset(tmp_path: Path) -> None:
    """hku mixes upper and lower case; folded, each letter is one class and answers are
    lower case."""
    config = replace(TINY, scheme="hku", case_sensitive=False, cache_size=8)
    metrics = train(config, tmp_path / "run")
    assert 0.0 <= metrics["exact_accuracy"] <= 1.0
    model, meta = load_checkpoint(tmp_path / "run")
    folded = "".join(dict.fromkeys(NAMED_CHARSETS["hku"].lower()))
    assert meta.charset.symbols == folded and not meta.charset.case_sensitive
    assert meta.charset.num_classes == 35  # 1-9, a-z without o, and the blank
    logits = model(torch.zeros(1, 1, 32, 96))
    assert logits.shape[-1] == 35
    solver = Solver.load(export_onnx(tmp_path / "run", tmp_path / "folded.onnx"))
    images = [get_scheme("hku").sample_at(5, index)[0] for index in range(4)]
    answers = solver.solve(images)
    assert all(set(answer.text) <= set(folded) for answer in answers)
    assert solver.charset.encode("AbC") == solver.charset.encode("aBc")


def test_a_one_image_folder_stops_early_with_a_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate_dataset("digits5", 1, data, 0, workers=1)
    config = replace(TINY, scheme=None, data=str(data), charset="@digits")
    with pytest.raises(ValueError, match=r"only 1 labelled image; training needs at least 2"):
        train(config, tmp_path / "run")
    assert not (tmp_path / "run" / "last").exists()


def test_a_two_image_folder_trains_on_one_and_validates_on_the_other(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate_dataset("digits5", 2, data, 0, workers=1)
    config = replace(TINY, scheme=None, data=str(data), charset="@digits")
    metrics = train(config, tmp_path / "run")
    assert metrics["step"] == 2 and (tmp_path / "run" / "best").exists()
