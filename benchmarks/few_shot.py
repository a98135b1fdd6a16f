"""Few-shot fine-tuning: how fast does a checkpoint adapt to a captcha style it has not seen?

    python benchmarks/few_shot.py --init default --out benchmarks/results/few_shot.md

Two targets, each first zero-shot (no training), then after fine-tuning on nested tiers:

* kaggle_captcha_v2 (``../shared/data/kaggle_captcha_v2``): tiers of 50, 200 and 400 images
  from ``split.csv``'s training pool; scored on its fixed 640-image ``test`` split;
* a held-out synthetic scheme (a YAML file; default ``configs/schemes/heldout_blur.yaml``):
  tiers of 50, 200 and 1000 images at training seed 0; scored on 1000
  images at the fixed test seed.

Each tier is one call of the library's ``training.trainer.train`` with ``init`` set, in a
temporary folder outside the repository; the ``last`` checkpoint, or with ``--checkpoint
best`` the validation-best (the starting weights included), is scored with the torch model.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import (
    KAGGLE_DIR,
    SCHEME_FILES,
    command_line,
    display_path,
    machine_lines,
    markdown_table,
    percent,
    progress_bar,
    publish,
)
from rich.console import Console
from rich.progress import Progress

from captchalab.charset import UnknownSymbolError
from captchalab.data.cache import render_arrays
from captchalab.data.preprocess import preprocess
from captchalab.evaluation import EvaluationResult, evaluate_predictions
from captchalab.objectives import create_objective
from captchalab.schemes import get_scheme
from captchalab.training.checkpoint import CheckpointMeta, load_checkpoint, resolve_checkpoint
from captchalab.training.config import TEST_SEED, TrainConfig
from captchalab.training.predict import predict_arrays
from captchalab.training.pretrained import resolve_init
from captchalab.training.trainer import train

KAGGLE_POOL = ("train50", "train200", "train400")  # nested tiers, in this order
PACKAGES = ("captchalab", "torch", "numpy", "pillow")
NOTES = """\
- Kaggle tiers are nested (50 = `train50`, 200 adds `train200`, 400 adds `train400`); the
  library holds out 10% of a labelled folder (at least one image) for validation, so a tier
  of N trains on about 0.9 N images. Scored on the 640-image `test` split.
- Synthetic tiers are samples 0..N-1 of the scheme at training seed 0 (plus 64 validation
  images at the validation seed); scored on samples at the test seed.
- Wall time is the whole `train()` call (data preparation, steps, validations), not
  scoring.
"""


@dataclass(frozen=True)
class Target:
    """What to fine-tune towards: its fixed test set and how to build a training tier."""

    name: str
    test_images: np.ndarray  # (N, C, H, W) uint8, preprocessed for the init checkpoint
    test_labels: list[str]
    tiers: list[int]
    training: Callable[[int, Path], dict[str, Any]]  # (size, work_dir) -> TrainConfig changes


@dataclass(frozen=True)
class Row:
    target: str
    images: int
    steps: int
    seconds: float
    result: EvaluationResult


def default_heldout() -> Path:
    """``heldout_blur.yaml``, the held-out scheme of the published few-shot results."""
    return SCHEME_FILES / "heldout_blur.yaml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--init", default="default", help="checkpoint or run folder, or 'default'")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument("--kaggle-tiers", default="50,200,400", help="'' to skip Kaggle")
    parser.add_argument("--scheme", type=Path, default=default_heldout(), help="held-out YAML")
    parser.add_argument("--scheme-tiers", default="50,200,1000", help="'' to skip the scheme")
    parser.add_argument("--scheme-test-count", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=400, help="optimiser steps per tier")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--checkpoint",
        choices=("last", "best"),
        default="last",
        help="score the last checkpoint, or the validation-best one (the init is a candidate)",
    )
    parser.add_argument(
        "--eval-every", type=int, default=None, help="validate every N steps (default: at the end)"
    )
    parser.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (one-cycle)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/few_shot.md"))
    return parser.parse_args(argv)


def tiers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def init_checkpoint(init: str) -> tuple[Path, CheckpointMeta]:
    """The starting checkpoint folder and its metadata; exits with a clear message if absent."""
    try:
        folder = resolve_checkpoint(resolve_init(init))
    except FileNotFoundError as exc:
        sys.exit(f"error: no checkpoint to start from ({exc}); pass --init RUN_OR_CHECKPOINT")
    _, meta = load_checkpoint(folder)
    return folder, meta


def score(checkpoint: Path, images: np.ndarray, labels: list[str]) -> EvaluationResult:
    model, meta = load_checkpoint(checkpoint)
    objective = create_objective(meta.objective, meta.charset, meta.max_length)
    predictions = predict_arrays(model, objective, images, preprocessing=meta.preprocessing)
    return evaluate_predictions(
        labels,
        [p.text for p in predictions],
        [p.confidence for p in predictions],
        case_sensitive=meta.charset.case_sensitive,
    )


def check_length(longest: int, meta: CheckpointMeta, where: str) -> None:
    if longest > meta.max_length:
        sys.exit(
            f"error: {where} has labels of up to {longest} symbols; "
            f"the init model reads at most {meta.max_length}"
        )


def readable_labels(texts: list[str], meta: CheckpointMeta, where: str) -> list[str]:
    """Normalised labels; exits if the init model cannot read them (charset or length)."""
    check_length(max(len(text) for text in texts), meta, where)
    return [meta.charset.validate(text, where=where) for text in texts]


def link_folder(rows: list[dict[str, str]], source: Path, dest: Path) -> Path:
    """A labelled folder of symlinks (copies where links fail) to ``rows``' images."""
    dest.mkdir(parents=True, exist_ok=True)
    for row in rows:
        link = dest / row["filename"]
        try:
            link.symlink_to(source / row["filename"])
        except OSError:
            shutil.copy(source / row["filename"], link)
    with (dest / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "label"])
        writer.writerows([row["filename"], row["label"]] for row in rows)
    return dest


def kaggle_target(folder: Path, sizes: list[int], meta: CheckpointMeta) -> Target:
    with (folder / "split.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    test = [row for row in rows if row["split"] == "test"]
    pool = [row for tier in KAGGLE_POOL for row in rows if row["split"] == tier]
    if sizes and max(sizes) > len(pool):
        sys.exit(f"error: the Kaggle training pool holds {len(pool)} images, not {max(sizes)}")
    images = np.stack([preprocess(folder / row["filename"], meta.preprocessing) for row in test])
    labels = readable_labels([row["label"] for row in test], meta, "kaggle_captcha_v2")

    def training(size: int, work_dir: Path) -> dict[str, Any]:
        data = link_folder(pool[:size], folder, work_dir / f"kaggle_{size}")
        return {"data": str(data), "scheme": None}

    return Target("kaggle_v2", images, labels, sizes, training)


def scheme_target(path: Path, sizes: list[int], count: int, meta: CheckpointMeta) -> Target:
    check_length(get_scheme(str(path)).max_length, meta, path.name)  # before rendering
    images, texts = render_arrays(str(path), meta.preprocessing, TEST_SEED, count)
    labels = readable_labels(texts, meta, path.name)

    def training(size: int, work_dir: Path) -> dict[str, Any]:
        return {"scheme": str(path), "data": None, "cache_size": size, "val_size": 64}

    return Target(path.stem, images, labels, sizes, training)


def build_targets(args: argparse.Namespace, meta: CheckpointMeta, console: Console) -> list[Target]:
    targets = []
    try:
        if tiers(args.kaggle_tiers):
            if (args.kaggle / "split.csv").exists():
                targets.append(kaggle_target(args.kaggle, tiers(args.kaggle_tiers), meta))
            else:
                console.print(f"[yellow]note:[/yellow] no split.csv in {args.kaggle}; skipped")
        if tiers(args.scheme_tiers):
            console.print(f"rendering {args.scheme_test_count} test images of {args.scheme}")
            sizes = tiers(args.scheme_tiers)
            targets.append(scheme_target(args.scheme, sizes, args.scheme_test_count, meta))
    except UnknownSymbolError as exc:
        sys.exit(f"error: the init checkpoint's charset cannot read this set: {exc}")
    return targets


def fine_tune(
    init: Path, changes: dict[str, Any], args: argparse.Namespace, run_dir: Path, bar: Progress
) -> tuple[Path, float]:
    """One library training run from ``init``; returns the checkpoint to score (``last`` or
    ``best``, per ``--checkpoint``) and the wall time."""
    config = TrainConfig(
        init=str(init),
        max_steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        threads=args.threads,
        eval_every=args.eval_every or args.steps,  # default: once, at the end
        checkpoint_every=args.steps,
        **changes,
    )
    task = bar.add_task(run_dir.name, total=args.steps)

    def on_event(event: dict[str, Any]) -> None:
        if event["event"] == "step":
            bar.update(task, completed=event["step"])

    started = time.perf_counter()
    train(config, run_dir, on_event=on_event)
    return run_dir / args.checkpoint, time.perf_counter() - started


def run_target(
    target: Target, init: Path, args: argparse.Namespace, work_dir: Path, bar: Progress
) -> list[Row]:
    rows = [Row(target.name, 0, 0, 0.0, score(init, target.test_images, target.test_labels))]
    for size in target.tiers:
        changes = target.training(size, work_dir)
        run_dir = work_dir / f"run_{target.name}_{size}"
        checkpoint, seconds = fine_tune(init, changes, args, run_dir, bar)
        result = score(checkpoint, target.test_images, target.test_labels)
        rows.append(Row(target.name, size, args.steps, seconds, result))
    return rows


def report(args: argparse.Namespace, init: Path, meta: CheckpointMeta, rows: list[Row]) -> str:
    table = [
        [
            row.target,
            "zero-shot" if row.images == 0 else str(row.images),
            str(row.steps),
            f"{row.seconds:.0f}",
            percent(row.result.exact_accuracy),
            percent(row.result.case_insensitive_accuracy),
            f"{row.result.character_error_rate:.3f}",
        ]
        for row in rows
    ]
    headers = ["target", "train images", "steps", "wall s", "exact", "case-insens.", "CER"]
    lines = [
        "# Few-shot fine-tuning",
        "",
        f"`{command_line()}`",
        "",
        *machine_lines(PACKAGES),
        f"- init: `{display_path(init)}` ({meta.model_name}, {meta.objective})",
        f"- per tier: {args.steps} steps, batch {args.batch_size}, peak lr {args.lr} "
        f"(one-cycle, 10% warm-up), augmentation on, torch threads {args.threads or 'all'}",
        f"- scored checkpoint: `{args.checkpoint}`"
        + (
            f" (validation every {args.eval_every or args.steps} steps on the tier's validation "
            "images; the starting weights, validated at step 0, stay unless a later step beats "
            "them)"
            if args.checkpoint == "best"
            else ""
        ),
        f"- held-out scheme: `{display_path(args.scheme)}`; "
        f"its test set: {args.scheme_test_count} images at seed {TEST_SEED}",
        "",
        *markdown_table(headers, table),
        "",
        NOTES,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    console = Console()
    init, meta = init_checkpoint(args.init)
    targets = build_targets(args, meta, console)
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="captchalab_few_shot_"))
    try:
        with progress_bar(console) as bar:
            rows = [row for t in targets for row in run_target(t, init, args, work_dir, bar)]
    finally:
        if args.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)
    text = report(args, init, meta, rows)
    publish(text, args.out)
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
