"""Fine-tuning on attackers' answers with lambda * L(original), and the auto-lambda floor."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captchalab.adversarial.finetune import (
    FinetuneSettings,
    OriginalData,
    accuracy,
    finetune_model,
    load_answers,
    parse_lambda,
)
from captchalab.data.preprocess import to_array
from captchalab.objectives import create_objective
from captchalab.training.checkpoint import load_checkpoint


def _toy(memorised_checkpoint: Path, captchas: tuple[list[Image.Image], list[str]]):
    model, meta = load_checkpoint(memorised_checkpoint)
    images, texts = captchas
    arrays = np.stack(
        [np.round(to_array(im, meta.preprocessing) * 255).astype(np.uint8) for im in images]
    )
    original = OriginalData(arrays, list(texts), arrays, list(texts))
    # "answers" that contradict the original task: every label rotated by one captcha
    wrong = [*texts[1:], texts[0]]
    return model, meta, arrays, wrong, original


@pytest.mark.parametrize("lam", [0.0, None], ids=["lambda0", "auto"])
def test_auto_lambda_keeps_the_original_accuracy_above_the_floor(
    lam: float | None,
    memorised_checkpoint: Path,
    captchas: tuple[list[Image.Image], list[str]],
) -> None:
    model, meta, arrays, wrong, original = _toy(memorised_checkpoint, captchas)
    settings = FinetuneSettings(
        lam=lam, floor=0.8, steps=24, batch_size=24, lr=1e-2, eval_every=6, val_size=24
    )
    model, report = finetune_model(model, meta, arrays, wrong, original, settings)
    objective = create_objective(meta.objective, meta.charset, meta.max_length)
    measured = accuracy(model, objective, arrays, original.texts)
    assert report.start_accuracy >= 0.9
    assert measured == pytest.approx(report.final_accuracy)
    if lam is None:
        assert report.final_accuracy >= 0.8
        assert len(report.lambdas) == 4
    else:  # without the original term the contradicting answers wreck the original task
        assert report.final_accuracy < 0.8


def test_answers_folder_skips_unusable_rows(memorised_checkpoint: Path, tmp_path: Path) -> None:
    _, meta = load_checkpoint(memorised_checkpoint)
    image = Image.new("RGB", (120, 40), "white")
    rows = [
        ("a.png", "1234"),
        ("b.png", "12x4"),
        ("c.png", ""),
        ("d.png", "123456"),
        ("e.png", "5678"),
    ]
    for name, _ in rows:
        image.save(tmp_path / name)
    (tmp_path / "e.png").write_bytes(b"not a png")
    with (tmp_path / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "label"])
        writer.writerows(rows)
    arrays, texts, skipped = load_answers(tmp_path, meta)
    assert texts == ["1234"] and skipped == 4 and arrays.shape == (1, 1, 32, 96)


def test_lambda_parsing() -> None:
    assert parse_lambda("auto") is None and parse_lambda("2.5") == 2.5
    with pytest.raises(ValueError, match="auto"):
        parse_lambda("big")
    with pytest.raises(ValueError, match=">= 0"):
        parse_lambda("-1")
