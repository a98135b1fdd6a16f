"""One audit: cost-to-break curves, off-the-shelf attacks, error factors, saliency, advice."""

from __future__ import annotations

import functools
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from captchalab.audit import plots
from captchalab.audit.advice import advise
from captchalab.audit.attack import (
    Point,
    Trained,
    train_attacker,
    zero_shot_ddddocr,
    zero_shot_default,
)
from captchalab.audit.budgets import Budget
from captchalab.audit.curves import costs, fit_power_law
from captchalab.audit.hardening import hardening_effect
from captchalab.audit.image_factors import measure, relate
from captchalab.audit.saliency import attention_maps, gradient_saliency, has_attention
from captchalab.audit.sensitivity import factor_rows, planned_runs
from captchalab.audit.targets import AuditTarget, ScoringImages
from captchalab.training.checkpoint import load_meta

MODELS = ("crnn", "multihead", "attention")
FINETUNE_MODEL = "crnn"  # the shipped default model's family
FINETUNED = "default model fine-tuned"


class Reporter(Protocol):
    """Receives progress: the planned optimiser steps, each step, and stage names."""

    def plan(self, steps: int) -> None: ...

    def stage(self, label: str) -> None: ...

    def step(self) -> None: ...


class SilentReporter:
    def plan(self, steps: int) -> None:
        pass

    def stage(self, label: str) -> None:
        pass

    def step(self) -> None:
        pass


@dataclass(frozen=True)
class AuditOptions:
    budget: Budget
    models: tuple[str, ...] = ("crnn",)
    seed: int = 0
    threads: int | None = None
    workers: int | None = None  # rendering processes (default: all cores)
    factors: tuple[str, ...] | None = None  # override the budget's factor list

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODELS]
        if unknown or not self.models:
            raise ValueError(f"models must be among {', '.join(MODELS)}; got {self.models}")


def curve_plan(target: AuditTarget, budget: Budget, finetune: bool) -> list[tuple[int, int]]:
    """(samples, steps) per curve point, capped at what a folder holds."""
    steps_of = budget.finetune_steps if finetune else budget.scratch_steps
    plan: dict[int, int] = {}
    for size, steps in zip(budget.sizes, steps_of, strict=True):
        capped = min(size, target.available(size))
        plan[capped] = max(plan.get(capped, 0), steps)
    return sorted(plan.items())


def can_finetune(target: AuditTarget) -> str | None:
    """None when the default model can be fine-tuned on the target, else why not."""
    meta = _default_metadata()
    missing = sorted(set(target.charset.symbols) - set(meta.charset.symbols))
    if missing:
        return f"the default model cannot write {''.join(missing)!r}"
    if target.max_length > meta.max_length:
        return f"the default model reads at most {meta.max_length} symbols"
    return None


@functools.cache
def _default_metadata() -> Any:
    from captchalab.inference.solver import Solver

    return Solver.load("default").metadata


def planned_steps(target: AuditTarget, options: AuditOptions) -> int:
    budget = options.budget
    total = sum(s for _, s in curve_plan(target, budget, False)) * len(options.models)
    finetune = can_finetune(target) is None
    if finetune:
        total += sum(s for _, s in curve_plan(target, budget, True))
    if target.scheme is not None:
        runs = planned_runs(target, budget, options.factors)
        base = (budget.sensitivity_size, budget.sensitivity_steps)
        reused = (
            base in curve_plan(target, budget, finetune)
            if finetune
            else base in [*curve_plan(target, budget, False)]
        )
        total += budget.sensitivity_steps * (runs + (0 if reused else 1))
    return total


def audit_target(
    target: AuditTarget, options: AuditOptions, work: Path, reporter: Reporter
) -> dict[str, Any]:
    """Measure everything for one target; returns the JSON-ready result with its figures."""
    budget, seed = options.budget, options.seed
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    reporter.stage(f"{target.name}: preparing data")
    largest = max(target.available(s) for s in budget.sizes)
    target.pool(largest, work / "data", options.workers)
    raw_images, test_texts = target.test_images(budget.test_size)
    test = ScoringImages(raw_images)

    def run(samples: int, steps: int, model: str, init: str | None) -> Trained:
        mode = "fine-tuned" if init else "scratch"
        reporter.stage(f"{target.name}: {model} {mode}, {samples} captchas")
        return train_attacker(
            target,
            samples,
            steps,
            model,
            budget,
            work,
            test,
            test_texts,
            seed,
            init=init,
            threads=options.threads,
            on_step=reporter.step,
        )

    trained: dict[str, list[Trained]] = {}
    for model in options.models:
        trained[f"{model} from scratch"] = [
            run(n, steps, model, None) for n, steps in curve_plan(target, budget, False)
        ]
    finetune_note = can_finetune(target)
    if finetune_note is None:
        trained[FINETUNED] = [
            run(n, steps, FINETUNE_MODEL, "default")
            for n, steps in curve_plan(target, budget, True)
        ]

    reporter.stage(f"{target.name}: off-the-shelf attacks")
    off_the_shelf = [
        *zero_shot_default(target.charset, test, test_texts),
        zero_shot_ddddocr(target.charset, raw_images, test_texts),
    ]
    curves = {name: [t.point.to_dict() for t in runs] for name, runs in trained.items()}
    fits, cost_table, figures = analyse_curves(curves, off_the_shelf)

    # errors of the strongest attacker at the largest size
    best_name, best = max(
        ((name, runs[-1]) for name, runs in trained.items()),
        key=lambda item: (item[1].point.accuracy, -len(item[0])),
    )
    errors = _errors(target, test_texts, best.predictions, figures)
    reporter.stage(f"{target.name}: measuring image factors")
    measures = [measure(image, text) for image, text in zip(raw_images, test_texts, strict=True)]
    wrong = [
        _fold(p, target) != _fold(t, target)
        for p, t in zip(best.predictions, test_texts, strict=True)
    ]
    relations = [r.to_dict() for r in relate(measures, wrong)]
    figures["image_factors"] = plots.image_factors(relations)

    sensitivity: list[dict[str, Any]] = []
    sensitivity_attacker = None
    if target.scheme is not None:
        base, base_model, base_init = _sensitivity_base(
            target, options, trained, work, test, test_texts, reporter
        )
        sensitivity = factor_rows(
            target,
            base,
            budget,
            work,
            seed,
            base_model,
            options.threads,
            reporter.stage,
            reporter.step,
            options.factors,
            base_init,
        )
        sensitivity_attacker = FINETUNED if base_init else f"{base_model} from scratch"
        if any(r.get("delta") is not None for r in sensitivity):
            figures["sensitivity"] = plots.sensitivity(sensitivity)

    reporter.stage(f"{target.name}: adversarial hardening")
    hardening = hardening_effect(
        target, trained, raw_images, test_texts, budget.hardening_size, seed
    )
    reporter.stage(f"{target.name}: saliency and attention maps")
    saliency = _saliency(trained, options.models, test, test_texts, budget.examples, figures)
    result: dict[str, Any] = {
        "name": target.name,
        "kind": target.kind,
        "source": target.describe(),
        "charset": target.charset.symbols,
        "case_sensitive": target.charset.case_sensitive,
        "max_length": target.max_length,
        "test_size": len(test_texts),
        "curves": curves,
        "fits": fits,
        "costs": cost_table,
        "finetune_note": finetune_note,
        "off_the_shelf": off_the_shelf,
        "errors": {**errors, "attacker": best_name, "samples": best.point.samples},
        "image_factors": relations,
        "sensitivity": sensitivity,
        "sensitivity_attacker": sensitivity_attacker,
        "sensitivity_samples": budget.sensitivity_size,
        "saliency": saliency,
        "hardening": hardening,
        "wall_s": time.perf_counter() - started_wall,
        "cpu_minutes": (time.process_time() - started_cpu) / 60.0,
    }
    result["advice"] = advise(result)
    result["figures"] = figures  # PNG bytes; the report embeds them, metrics.json leaves them out
    return result


WORK = "work"  # the report folder's training runs, kept until the report is written


def _claim(work: Path, target: AuditTarget, options: AuditOptions) -> None:
    """Start ``work`` afresh unless it holds this very target and budget (a resumed audit)."""
    identity = json.dumps(
        {"target": target.describe(), "budget": options.budget.to_dict(), "seed": options.seed},
        sort_keys=True,
    )
    marker = work / "audit.json"
    if work.exists() and (not marker.exists() or marker.read_text() != identity):
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    marker.write_text(identity)


def analyse_curves(
    curves: dict[str, list[dict[str, Any]]], off_the_shelf: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    """Power-law fits, the costs to reach 50% and 90%, and the two learning-curve plots."""
    fits = {
        name: fit_power_law([p["samples"] for p in points], [p["accuracy"] for p in points])
        for name, points in curves.items()
    }
    cpu_fits = {
        name: fit_power_law([p["cpu_minutes"] for p in points], [p["accuracy"] for p in points])
        for name, points in curves.items()
    }
    cost_table = {
        name: {
            axis: [
                c.to_dict()
                for c in costs([p[axis] for p in points], [p["accuracy"] for p in points])
            ]
            for axis in ("samples", "cpu_minutes")
        }
        for name, points in curves.items()
    }
    baselines = {o["name"]: o["accuracy"] for o in off_the_shelf if o.get("available")}
    figures = {
        "curve_samples": plots.learning_curve(
            curves, fits, "samples", "labelled training captchas", baselines, True
        ),
        "curve_cpu": plots.learning_curve(
            curves, cpu_fits, "cpu_minutes", "CPU-minutes of training", baselines, False
        ),
    }
    json_fits = {n: (vars(f) if f else None) for n, f in fits.items()}
    return json_fits, cost_table, figures


def _fold(text: str, target: AuditTarget) -> str:
    return text if target.charset.case_sensitive else text.lower()


def _errors(
    target: AuditTarget, labels: list[str], predictions: list[str], figures: dict[str, bytes]
) -> dict[str, Any]:
    from captchalab.evaluation import evaluate_predictions

    result = evaluate_predictions(labels, predictions, case_sensitive=target.charset.case_sensitive)
    figures["per_position"] = plots.per_position(result.per_position_accuracy)
    figures["confusion"] = plots.confusion(result, target.charset.symbols)
    return {
        "accuracy": result.exact_accuracy,
        "character_error_rate": result.character_error_rate,
        "per_position_accuracy": result.per_position_accuracy,
        "top_confusions": [
            {"true": t, "predicted": p, "count": n} for t, p, n in result.top_confusions[:10]
        ],
        "per_character_accuracy": result.per_character_accuracy,
    }


def _sensitivity_base(
    target: AuditTarget,
    options: AuditOptions,
    trained: dict[str, list[Trained]],
    work: Path,
    test: ScoringImages,
    test_texts: list[str],
    reporter: Reporter,
) -> tuple[Point, str, str | None]:
    """The base attacker of the sensitivity analysis: (its point, model, init)."""
    budget = options.budget
    finetuned = FINETUNED in trained
    model, init = (FINETUNE_MODEL, "default") if finetuned else (options.models[0], None)
    curve = FINETUNED if finetuned else f"{model} from scratch"
    for run in trained[curve]:
        if (run.point.samples, run.point.steps) == (
            budget.sensitivity_size,
            budget.sensitivity_steps,
        ):
            return run.point, model, init
    reporter.stage(f"{target.name}: sensitivity base, {budget.sensitivity_size} captchas")
    point = train_attacker(
        target,
        budget.sensitivity_size,
        budget.sensitivity_steps,
        model,
        budget,
        work / "sensitivity" / "base",
        test,
        test_texts,
        options.seed,
        init=init,
        threads=options.threads,
        on_step=reporter.step,
    ).point
    return point, model, init


def _pick_examples(labels: list[str], predictions: list[str], count: int) -> list[int]:
    right = [i for i, (t, p) in enumerate(zip(labels, predictions, strict=True)) if t == p]
    wrong = [i for i, (t, p) in enumerate(zip(labels, predictions, strict=True)) if t != p]
    half = count // 2
    chosen = right[:half] + wrong[:half]
    chosen += [i for i in right + wrong if i not in chosen][: count - len(chosen)]
    return sorted(chosen[:count], key=lambda i: (labels[i] != predictions[i], i))


def _saliency(
    trained: dict[str, list[Trained]],
    models: Sequence[str],
    test: ScoringImages,
    labels: list[str],
    count: int,
    figures: dict[str, bytes],
) -> list[dict[str, Any]]:
    out = []
    for model in models:
        # the family's strongest attacker at its largest size (fine-tuned or from scratch)
        family = [runs[-1] for runs in trained.values() if runs[-1].point.model == model]
        last = max(family, key=lambda run: run.point.accuracy)
        chosen = _pick_examples(labels, last.predictions, count)
        images = test.arrays(load_meta(last.checkpoint).preprocessing)[chosen]
        captions = [
            f"{'ok' if labels[i] == last.predictions[i] else 'WRONG'}: "
            f"{labels[i]} -> {last.predictions[i] or '(none)'}"
            for i in chosen
        ]
        if has_attention(last.checkpoint):
            maps, lengths = attention_maps(last.checkpoint, images)
            heat = [maps[k, : max(1, lengths[k])] for k in range(len(chosen))]
            kind = "attention"
        else:
            saliency = gradient_saliency(last.checkpoint, images)
            heat = [saliency[k : k + 1] for k in range(len(chosen))]
            kind = "gradient saliency"
        key = f"saliency_{model}"
        figures[key] = plots.example_grid(
            images,
            heat,
            captions,
            f"{model} ({last.point.mode}): {kind}, {last.point.samples} captchas",
        )
        out.append(
            {
                "model": model,
                "kind": kind,
                "figure": key,
                "samples": last.point.samples,
                "mode": last.point.mode,
                "examples": len(chosen),
                "correct": sum(labels[i] == last.predictions[i] for i in chosen),
            }
        )
    return out


def run_audit(
    targets: Sequence[AuditTarget],
    options: AuditOptions,
    out: Path,
    reporter: Reporter | None = None,
    command: str = "",
    keep_work: bool = False,
    resume: bool = False,
) -> dict[str, Any]:
    """Audit each target (two with ``--compare``) and write report.html, summary.md,
    metrics.json into ``out``. Returns the metrics (without figures).

    Training runs live in ``out/work`` until the report is written. An audit that was killed
    leaves them there; ``resume=True`` reuses its finished points and continues its unfinished
    run from the last checkpoint."""
    from captchalab.audit.report import write_report

    reporter = reporter or SilentReporter()
    out = Path(out)
    work_root = out / WORK
    if work_root.exists() and not resume:
        raise ValueError(
            f"{out} holds the work of an unfinished audit ({work_root}): pass --resume to "
            "continue it, or choose a new folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    reporter.plan(sum(planned_steps(t, options) for t in targets))
    work_root.mkdir(exist_ok=True)
    results = []
    for i, target in enumerate(targets):
        work = work_root / f"{i}-{target.name}"
        _claim(work, target, options)
        results.append(audit_target(target, options, work, reporter))
    if not keep_work:
        shutil.rmtree(work_root, ignore_errors=True)
    reporter.stage("writing the report")
    return write_report(results, options, out, command)
