"""The attacker: train a recogniser on ``N`` labelled captchas and score it on the test set.

Training goes through :func:`captchalab.training.trainer.train` (a labelled-folder run, the
library holding out 10% for its own validation), so the audit measures exactly what a user
of ``captchalab train`` would get. CPU-minutes are the process CPU time of that call (all
torch threads; data loading included), so they do not depend on how loaded the machine is.

A run can be resumed (``captchalab audit --resume``): a finished point is kept in
``RUN/point.json`` with its predictions and reused when its fingerprint (the training config,
the training labels and the test labels) still matches; an unfinished run continues from its
last checkpoint, and its CPU-minutes add up the time spent before and after the kill.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from captchalab.audit.budgets import Budget
from captchalab.audit.targets import AuditTarget, ScoringImages
from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing

# The shipped default model's input; from-scratch attackers use the same, so one test array
# serves every attacker.
PREPROCESSING = Preprocessing(height=32, width=128, channels=1, resize="pad", median_filter=0)


@dataclass(frozen=True)
class Point:
    """One trained attacker: ``samples`` labelled captchas, ``steps`` optimiser steps."""

    mode: str  # "scratch" | "finetune"
    model: str
    samples: int
    steps: int
    accuracy: float  # exact match on the audit's test set
    character_error_rate: float
    cpu_minutes: float
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Trained:
    """A point plus the model's test predictions (kept for the error analysis)."""

    point: Point
    checkpoint: Path
    predictions: list[str]


def train_attacker(
    target: AuditTarget,
    samples: int,
    steps: int,
    model: str,
    budget: Budget,
    work: Path,
    test: ScoringImages,
    test_texts: list[str],
    seed: int,
    init: str | None = None,
    threads: int | None = None,
    on_step: Callable[[], None] | None = None,
) -> Trained:
    """Train on the first ``samples`` captchas of ``target`` and score on ``test``."""
    from captchalab.training.config import TrainConfig
    from captchalab.training.trainer import train

    mode = "finetune" if init else "scratch"
    folder = target.training_folder(samples, work / "data")
    run_dir = work / "runs" / f"{mode}-{model}-{samples}"
    config = TrainConfig(
        model=model,
        scheme=None,
        data=str(folder),
        init=init,
        model_args=budget.args_for(model),
        charset=None if init else target.charset.symbols,
        case_sensitive=target.charset.case_sensitive,
        max_length=None if init else target.max_length,
        height=PREPROCESSING.height,
        width=PREPROCESSING.width,
        channels=PREPROCESSING.channels,
        resize=PREPROCESSING.resize,
        batch_size=budget.batch_size,
        max_steps=steps,
        lr=budget.finetune_lr if init else budget.lr,
        seed=seed,
        augment=True,
        eval_every=steps,
        checkpoint_every=min(steps, CHECKPOINT_EVERY),
        threads=threads,
    )
    key = fingerprint(config.to_dict(), folder / "labels.csv", test_texts)
    finished = load_point(run_dir, key)
    if finished is not None:
        if on_step is not None:
            for _ in range(steps):
                on_step()  # the progress display counts the reused run as done
        return finished
    previous_cpu, done_steps = _resumable(run_dir, key)
    if done_steps == 0 and run_dir.exists():
        shutil.rmtree(run_dir)  # a stale or foreign run would skew the curve: retrain
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / FINGERPRINT).write_text(key)
    if on_step is not None:
        for _ in range(done_steps):
            on_step()
    cpu, wall = time.process_time(), time.perf_counter()

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") != "step":
            return
        if on_step is not None:
            on_step()
        if event["step"] % config.checkpoint_every == 0:
            spent = previous_cpu + (time.process_time() - cpu) / 60.0
            _write_json(run_dir / PROGRESS, {"step": event["step"], "cpu_minutes": spent})

    train(config, run_dir, resume=done_steps > 0, on_event=on_event, device="cpu")
    cpu_minutes = previous_cpu + (time.process_time() - cpu) / 60.0
    wall_s = time.perf_counter() - wall
    predictions = predict_checkpoint(run_dir / "last", test)
    accuracy, cer = score(test_texts, predictions, target.charset.case_sensitive)
    point = Point(mode, model, samples, steps, accuracy, cer, cpu_minutes, wall_s)
    trained = Trained(point, run_dir / "last", predictions)
    save_point(run_dir, key, trained)
    return trained


CHECKPOINT_EVERY = 500  # optimiser steps between resume points of one attacker's training
FINGERPRINT, PROGRESS, POINT = "fingerprint.txt", "progress.json", "point.json"


def fingerprint(config: dict[str, Any], labels: Path, test_texts: list[str]) -> str:
    """What a finished point depends on: its config, its training labels, its test labels."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    digest.update(labels.read_bytes())
    digest.update("\n".join(test_texts).encode())
    return digest.hexdigest()


def save_point(run_dir: Path, key: str, trained: Trained) -> None:
    _write_json(
        run_dir / POINT,
        {"fingerprint": key, "point": trained.point.to_dict(), "predictions": trained.predictions},
    )


def load_point(run_dir: Path, key: str) -> Trained | None:
    """The finished point of an earlier (killed) audit, when it was trained the same way."""
    path = run_dir / POINT
    if not path.exists() or not (run_dir / "last").exists():
        return None
    try:
        saved = json.loads(path.read_text())
        if saved.get("fingerprint") != key:
            return None
        return Trained(Point(**saved["point"]), run_dir / "last", list(saved["predictions"]))
    except (ValueError, TypeError, KeyError):
        return None  # unreadable: retrain


def _resumable(run_dir: Path, key: str) -> tuple[float, int]:
    """(CPU-minutes spent, steps done) of an unfinished run with the same fingerprint."""
    from captchalab.training.checkpoint import load_meta

    marker = run_dir / FINGERPRINT
    if not marker.exists() or marker.read_text() != key or not (run_dir / "last").exists():
        return 0.0, 0
    try:
        step = load_meta(run_dir / "last").step
        progress = json.loads((run_dir / PROGRESS).read_text())
    except (OSError, ValueError, KeyError):
        return 0.0, 0
    recorded = max(int(progress.get("step", 0)), 1)
    # the progress line is written just before its checkpoint: scale when they disagree
    return float(progress.get("cpu_minutes", 0.0)) * step / recorded, step


def _write_json(path: Path, value: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value))
    os.replace(partial, path)  # atomic: a kill never leaves half a file


def predict_checkpoint(checkpoint: Path, test: ScoringImages) -> list[str]:
    """The checkpoint's answers on the test captchas, read as its own preprocessing says."""
    from captchalab.objectives import create_objective
    from captchalab.training.checkpoint import load_checkpoint
    from captchalab.training.predict import predict_arrays

    network, meta = load_checkpoint(checkpoint)
    objective = create_objective(meta.objective, meta.charset, meta.max_length)
    images = test.arrays(meta.preprocessing)
    return [
        p.text for p in predict_arrays(network, objective, images, preprocessing=meta.preprocessing)
    ]


def score(labels: list[str], predictions: list[str], case_sensitive: bool) -> tuple[float, float]:
    from captchalab.evaluation import evaluate_predictions

    result = evaluate_predictions(labels, predictions, case_sensitive=case_sensitive)
    return result.exact_accuracy, result.character_error_rate


def zero_shot_default(
    charset: Charset, test: ScoringImages, test_texts: list[str]
) -> list[dict[str, Any]]:
    """The shipped default model, untrained on this scheme, told the scheme's symbols: one
    row reading each captcha once, one with the second look (``Solver.with_second_look``,
    what ``captchalab solve --second-look`` gives anyone)."""
    from captchalab.inference.solver import Solver

    names = ("default (zero-shot)", "default (zero-shot, second look)")
    solver = Solver.load("default")
    missing = sorted(set(charset.symbols) - set(solver.charset.symbols))
    if missing and charset.case_sensitive:
        return [{"name": n, "available": False, "note": f"cannot read {missing}"} for n in names]
    restricted = solver.restricted("".join(s for s in charset.symbols if s in solver.symbols))
    once = [p.text for p in restricted.solve_arrays(test.arrays(solver.preprocessing))]
    looked = [p.text for p in restricted.with_second_look().solve(tuple(test.images))]
    rows = []
    for name, predictions in zip(names, (once, looked), strict=True):
        accuracy, cer = score(test_texts, predictions, charset.case_sensitive)
        rows.append(
            {"name": name, "available": True, "accuracy": accuracy, "character_error_rate": cer}
        )
    return rows


def zero_shot_ddddocr(
    charset: Charset, images: list[Image.Image], test_texts: list[str]
) -> dict[str, Any]:
    """ddddocr, the common off-the-shelf captcha OCR, when it is installed (optional)."""
    try:
        import ddddocr
    except ImportError:
        return {"name": "ddddocr", "available": False, "note": "not installed"}
    ocr = ddddocr.DdddOcr(show_ad=False)
    ocr.set_ranges(charset.symbols)
    predictions = []
    for image in images:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        predictions.append(str(ocr.classification(buffer.getvalue())))
    accuracy, cer = score(test_texts, predictions, charset.case_sensitive)
    return {"name": "ddddocr", "available": True, "accuracy": accuracy, "character_error_rate": cer}
