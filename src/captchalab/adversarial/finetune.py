"""Fine-tune the substitute on attackers' answers (advCAPTCHA, section 3.5).

Minimises ``L(queries) + lambda * L(original)``: the answers attackers submitted for hardened
captchas are queries to their solvers, so fitting them pulls the substitute towards the
attackers; the second term keeps it reading the original scheme. With ``lambda = auto`` the
weight adapts: after each evaluation it doubles while the accuracy on the original scheme is
below the floor and halves while it is comfortably above; the returned model is the last state
whose accuracy was at or above the floor (the starting model, if none).

A *rehearsal* set may join the queries: captchas the defender hardened itself, labelled with
their true text (``captchalab harden -o DIR`` writes them). An attacker who retrains on hardened
captchas becomes robust to the perturbation; fitting the rehearsal set makes the substitute
take that step first, so the next hardening is computed against a model like the updated
attacker rather than the one it replaced.
"""

from __future__ import annotations

import copy
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from captchalab.charset import UnknownSymbolError
from captchalab.data.cache import render_arrays
from captchalab.data.datasets import read_labels
from captchalab.data.preprocess import ImageDecodeError, load_image, to_array
from captchalab.objectives import Objective, create_objective
from captchalab.training.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from captchalab.training.predict import predict_arrays

log = logging.getLogger(__name__)
ORIGINAL_TRAIN_SEED = 3_000_003
ORIGINAL_VAL_SEED = 4_000_004
LAMBDA_RANGE = (0.01, 1000.0)
FLOOR_MARGIN = 0.05


@dataclass(frozen=True)
class FinetuneSettings:
    """``lam``: a fixed lambda, or ``None`` for auto. ``floor``: the accuracy on the original
    scheme to keep (default: 90% of the starting accuracy)."""

    lam: float | None = None
    floor: float | None = None
    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-4
    eval_every: int = 50
    original_size: int = 2000
    val_size: int = 300
    seed: int = 0

    def __post_init__(self) -> None:
        if self.lam is not None and self.lam < 0:
            raise ValueError(f"lambda must be >= 0 or auto, got {self.lam}")
        if self.floor is not None and not 0.0 <= self.floor <= 1.0:
            raise ValueError(f"floor must be an accuracy in [0, 1], got {self.floor}")
        if min(self.steps, self.batch_size, self.eval_every, self.original_size) < 1:
            raise ValueError("steps, batch_size, eval_every and original_size must be positive")
        if self.val_size < 1:
            raise ValueError("val_size must be positive")


@dataclass
class FinetuneReport:
    queries: int
    skipped: int
    start_accuracy: float
    floor: float
    final_accuracy: float
    query_fit: float  # share of query answers the final model reproduces
    lambdas: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    kept_step: int = 0
    rehearsal: int = 0  # defender-labelled hardened captchas fitted beside the queries

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_lambda(text: str) -> float | None:
    """``"auto"`` -> ``None``; a number -> that number."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"lambda must be 'auto' or a number, got {text!r}") from None
    if value < 0:
        raise ValueError(f"lambda must be >= 0, got {value}")
    return value


def load_answers(folder: Path, meta: CheckpointMeta) -> tuple[np.ndarray, list[str], int]:
    """A labelled folder (answer as label) -> model-input uint8 arrays, labels, and how many
    rows were skipped (unreadable image, empty answer, unknown symbol, too long)."""
    arrays, texts, skipped = [], [], 0
    for path, answer in read_labels(Path(folder)):
        try:
            text = meta.charset.validate(answer)
            if not text or len(text) > meta.max_length:
                raise ValueError(f"answer {answer!r} has a length the substitute cannot read")
            image = load_image(path)
        except (UnknownSymbolError, ValueError, ImageDecodeError, OSError) as exc:
            log.info("skipping %s: %s", path, exc)
            skipped += 1
            continue
        arrays.append(np.round(to_array(image, meta.preprocessing) * 255).astype(np.uint8))
        texts.append(text)
    if not arrays:
        raise ValueError(f"{folder}: no usable answers ({skipped} skipped)")
    return np.stack(arrays), texts, skipped


def accuracy(
    model: nn.Module, objective: Objective, images: np.ndarray, texts: Sequence[str]
) -> float:
    predictions = predict_arrays(model, objective, images, batch_size=128)
    norm = objective.charset.normalize
    return sum(norm(p.text) == norm(t) for p, t in zip(predictions, texts, strict=True)) / max(
        1, len(texts)
    )


def _loss(model: nn.Module, objective: Objective, images: np.ndarray, texts: list[str]) -> Any:
    batch = torch.from_numpy(np.ascontiguousarray(images)).float() / 255.0
    teacher = objective.teacher_forcing_targets(texts)
    logits = model(batch) if teacher is None else model(batch, teacher)
    return objective.loss(logits, texts)


@dataclass(frozen=True)
class OriginalData:
    """The original task the substitute must keep: training and validation arrays (uint8
    model input) with their texts."""

    images: np.ndarray
    texts: list[str]
    val_images: np.ndarray
    val_texts: list[str]


def render_original(scheme: str, meta: CheckpointMeta, settings: FinetuneSettings) -> OriginalData:
    """Fixed samples of ``scheme`` (disjoint seeds for the two parts) in the substitute's input."""
    spec = meta.preprocessing
    images, texts = render_arrays(
        scheme, spec, ORIGINAL_TRAIN_SEED + settings.seed, settings.original_size, workers=1
    )
    val_images, val_texts = render_arrays(
        scheme, spec, ORIGINAL_VAL_SEED, settings.val_size, workers=1
    )
    where = f"scheme {scheme}"
    texts = [meta.charset.validate(t, where=where) for t in texts]
    val_texts = [meta.charset.validate(t, where=where) for t in val_texts]
    return OriginalData(images, texts, val_images, val_texts)


def finetune_model(
    model: nn.Module,
    meta: CheckpointMeta,
    query_images: np.ndarray,
    query_texts: list[str],
    original: OriginalData,
    settings: FinetuneSettings,
    progress: Callable[[int, float, float], None] | None = None,
    rehearsal: tuple[np.ndarray, list[str]] | None = None,
) -> tuple[nn.Module, FinetuneReport]:
    """Fine-tune ``model`` in place on queries + the original task; returns the kept model.

    ``rehearsal`` (model-input uint8 arrays and true texts) joins the queries in the first
    term; ``query_fit`` is still measured on the queries alone.
    ``progress(step, lambda, original_accuracy)`` is called after each evaluation.
    """
    if len(query_texts) == 0 and (rehearsal is None or not len(rehearsal[1])):
        raise ValueError("no queries to fine-tune on")
    objective = create_objective(meta.objective, meta.charset, meta.max_length)
    answer_images, answer_texts = query_images, list(query_texts)
    if rehearsal is not None and len(rehearsal[1]):
        if len(answer_texts) and rehearsal[0].shape[1:] != query_images.shape[1:]:
            raise ValueError(
                f"rehearsal images are {rehearsal[0].shape[1:]}, queries {query_images.shape[1:]}"
            )
        query_images = (
            np.concatenate([query_images, rehearsal[0]]) if len(answer_texts) else rehearsal[0]
        )
        query_texts = [*query_texts, *rehearsal[1]]
    orig_images, orig_texts = original.images, original.texts
    val_images, val_texts = original.val_images, original.val_texts
    start = accuracy(model, objective, val_images, val_texts)
    floor = settings.floor if settings.floor is not None else 0.9 * start
    lam = 1.0 if settings.lam is None else settings.lam
    report = FinetuneReport(len(answer_texts), 0, start, floor, start, 0.0)
    report.rehearsal = len(query_texts) - len(answer_texts)
    kept = copy.deepcopy(model.state_dict())
    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=1e-4)
    model.train()
    for step in range(1, settings.steps + 1):
        q = [rng.randrange(len(query_texts)) for _ in range(settings.batch_size)]
        o = [rng.randrange(len(orig_texts)) for _ in range(settings.batch_size)]
        loss = _loss(model, objective, query_images[q], [query_texts[i] for i in q])
        if lam > 0:
            loss = loss + lam * _loss(model, objective, orig_images[o], [orig_texts[i] for i in o])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step % settings.eval_every == 0 or step == settings.steps:
            acc = accuracy(model, objective, val_images, val_texts)
            model.train()
            report.lambdas.append(lam)
            report.accuracies.append(acc)
            if acc >= floor:
                kept, report.kept_step = copy.deepcopy(model.state_dict()), step
            if settings.lam is None:
                if acc < floor:
                    lam = min(lam * 2.0, LAMBDA_RANGE[1])
                elif acc > floor + FLOOR_MARGIN:
                    lam = max(lam / 2.0, LAMBDA_RANGE[0])
            if progress:
                progress(step, lam, acc)
    if settings.lam is None:
        model.load_state_dict(kept)
    model.eval()
    report.final_accuracy = accuracy(model, objective, val_images, val_texts)
    report.query_fit = (
        accuracy(model, objective, answer_images, answer_texts) if answer_texts else float("nan")
    )
    return model, report


def finetune(
    substitute: str | Path,
    answers: Path,
    original: str,
    out: Path,
    settings: FinetuneSettings,
    progress: Callable[[int, float, float], None] | None = None,
    rehearse: Path | None = None,
) -> FinetuneReport:
    """Fine-tune a substitute checkpoint on a folder of answers (and, optionally, a folder of
    its own hardened captchas with their true labels); writes ``out/best`` (a checkpoint) and
    ``out/finetune.json``."""
    out = Path(out)
    if (out / "best").exists():
        raise FileExistsError(f"{out} already holds a fine-tuned checkpoint; use a new folder")
    model, meta = load_checkpoint(substitute)
    images, texts, skipped = load_answers(answers, meta)
    rehearsal = None
    if rehearse is not None:
        r_images, r_texts, r_skipped = load_answers(rehearse, meta)
        rehearsal, skipped = (r_images, r_texts), skipped + r_skipped
    data = render_original(original, meta, settings)
    model, report = finetune_model(
        model, meta, images, texts, data, settings, progress, rehearsal=rehearsal
    )
    report.skipped = skipped
    config = {
        **meta.config,
        "finetune": {
            **asdict(settings),
            "answers": str(answers),
            "rehearse": None if rehearse is None else str(rehearse),
            "original": original,
            "substitute": str(substitute),
        },
    }
    new_meta = CheckpointMeta(
        meta.model_name,
        meta.model_args,
        meta.objective,
        meta.charset,
        meta.max_length,
        meta.preprocessing,
        config,
        meta.step,
        {"exact_accuracy": report.final_accuracy, "original_scheme": original},
    )
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / "best", model, new_meta)
    (out / "finetune.json").write_text(json.dumps(report.to_dict(), indent=2))
    return report
