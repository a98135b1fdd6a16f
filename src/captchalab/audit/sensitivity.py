"""Controlled sensitivity analysis: change one factor of a scheme, retrain, compare.

The base scheme and each variant get the same attacker (model, training-set size, steps,
seed), each scored on its own test set, so the accuracy change is the effect of that one
factor on how easily the scheme is learnt. The attacker is the shipped default model
fine-tuned on the scheme (the cheapest strong attack, so small budgets still give accuracies
well away from zero), or a model from scratch where the default model cannot read the
scheme's symbols.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from captchalab.audit.attack import Point, train_attacker
from captchalab.audit.budgets import Budget
from captchalab.audit.targets import AuditTarget, ScoringImages, from_scheme
from captchalab.audit.variants import FACTORS, Variant, vary

Train = Callable[[str], None]


def noise_floor(accuracy: float, count: int) -> float:
    """Two standard errors of an accuracy measured on ``count`` images (at least 1 point)."""
    return max(0.01, 2.0 * math.sqrt(max(accuracy * (1 - accuracy), 1e-4) / max(count, 1)))


def factor_rows(
    target: AuditTarget,
    base: Point,
    budget: Budget,
    work: Path,
    seed: int,
    model: str,
    threads: int | None,
    on_run: Train,
    on_step: Callable[[], None] | None = None,
    factors: Sequence[str] | None = None,
    init: str | None = None,
) -> list[dict[str, Any]]:
    """One row per factor: the variant's accuracy and its change from ``base`` (trained
    the same way: from ``init``, or from scratch)."""
    assert target.scheme is not None
    rows = []
    for name in factors or budget.factors or tuple(FACTORS):
        factor = FACTORS[name]
        variant = vary(name, target.scheme)
        row: dict[str, Any] = {"factor": name, "label": factor.label}
        if not isinstance(variant, Variant):
            rows.append({**row, "variable": False, "reason": variant, "delta": None})
            continue
        on_run(f"sensitivity: {factor.label}")
        variant_target = from_scheme(variant.scheme)
        work_dir = work / "sensitivity" / name
        variant_target.pool(budget.sensitivity_size, work_dir / "data")
        images, texts = variant_target.test_images(budget.test_size)
        trained = train_attacker(
            variant_target,
            budget.sensitivity_size,
            budget.sensitivity_steps,
            model,
            budget,
            work_dir,
            ScoringImages(images),
            texts,
            seed,
            init=init,
            threads=threads,
            on_step=on_step,
        )
        accuracy = trained.point.accuracy
        rows.append(
            {
                **row,
                "variable": True,
                "change": variant.change,
                "base_accuracy": base.accuracy,
                "accuracy": accuracy,
                "delta": accuracy - base.accuracy,
                "noise": noise_floor(base.accuracy, budget.test_size),
                "cpu_minutes": trained.point.cpu_minutes,
            }
        )
    return rows


def planned_runs(target: AuditTarget, budget: Budget, factors: Sequence[str] | None) -> int:
    if target.scheme is None:
        return 0
    names = factors or budget.factors or tuple(FACTORS)
    return sum(isinstance(vary(name, target.scheme), Variant) for name in names)
