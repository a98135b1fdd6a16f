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


def test_a_rehearsal_set_is_fitted_beside_the_queries(
    memorised_checkpoint: Path, captchas: tuple[list[Image.Image], list[str]]
) -> None:
    """Queries contradict the task on one half; the rehearsal set (true labels) covers the
    other half. Without lambda, only the rehearsal keeps that half readable, and the answers
    fitted are counted over the queries alone."""
    _, meta, arrays, wrong, _ = _toy(memorised_checkpoint, captchas)
    half = len(wrong) // 2
    truth = list(captchas[1])
    settings = FinetuneSettings(lam=0.0, steps=30, batch_size=24, lr=1e-2, eval_every=10)
    objective = create_objective(meta.objective, meta.charset, meta.max_length)
    readable = {}
    for rehearse in (False, True):
        model, _ = load_checkpoint(memorised_checkpoint)
        original = OriginalData(arrays, truth, arrays, truth)
        rehearsal = (arrays[half:], truth[half:]) if rehearse else None
        model, report = finetune_model(
            model, meta, arrays[:half], wrong[:half], original, settings, rehearsal=rehearsal
        )
        assert report.queries == half and report.rehearsal == (len(truth) - half) * rehearse
        assert report.query_fit == pytest.approx(
            accuracy(model, objective, arrays[:half], wrong[:half])
        )
        readable[rehearse] = accuracy(model, objective, arrays[half:], truth[half:])
    assert readable[True] >= 0.9 > readable[False] + 0.2, readable


def test_a_rehearsal_set_alone_is_enough_to_fine_tune(
    memorised_checkpoint: Path, captchas: tuple[list[Image.Image], list[str]]
) -> None:
    _, meta, arrays, _, original = _toy(memorised_checkpoint, captchas)
    model, _ = load_checkpoint(memorised_checkpoint)
    settings = FinetuneSettings(lam=0.0, steps=2, batch_size=4, eval_every=1)
    rehearsal = (arrays, list(captchas[1]))
    _, report = finetune_model(model, meta, arrays[:0], [], original, settings, rehearsal=rehearsal)
    assert report.queries == 0 and report.rehearsal == len(arrays)
    assert report.query_fit != report.query_fit  # NaN: no answers to fit
    with pytest.raises(ValueError, match="no queries"):
        finetune_model(model, meta, arrays[:0], [], original, settings)
