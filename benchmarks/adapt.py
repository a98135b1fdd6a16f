"""``adapt`` without human labels against fine-tuning on 50 and 200 human labels.

    python benchmarks/adapt.py --init default --rounds 3 --out benchmarks/results/adapt.md

Two targets, each with a pool of unlabelled images and a fixed labelled test set:

* kaggle_captcha_v2 (``../shared/data/kaggle_captcha_v2``): the pool is every image outside
  the ``test`` split (400: the set has no more), scored on the 640-image ``test`` split;
* an unseen YAML scheme (default ``configs/schemes/heldout_blur.yaml``): a pool of ``--pool``
  images (1,000) at training seed 0, scored on ``--test-count`` images at the test seed.

``adapt`` runs with an oracle that accepts exact answers (``adapt.OracleChecker``); each
round's model is scored on the test set, with the checker queries used so far. The baselines
fine-tune the same init with the same steps per round on the first 50 and 200 pool images with
their true labels (the library's ``train`` with ``init`` and ``data``). All scores go through
the ONNX Solver.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench_common import (
    KAGGLE_DIR,
    SCHEME_FILES,
    command_line,
    display_path,
    machine_lines,
    markdown_table,
    percent,
    publish,
)

from captchalab.adapt import AdaptConfig, OracleChecker, adapt
from captchalab.evaluation.release import BenchmarkSet, exact_accuracy, scheme_set, split_set
from captchalab.inference import Solver
from captchalab.schemes import get_scheme
from captchalab.training.config import TrainConfig
from captchalab.training.export import export_onnx
from captchalab.training.pretrained import resolve_init
from captchalab.training.trainer import train

# minutes: adapt rows, since adapt started (cumulative); baselines, the whole fine-tune.
HEADERS = ("target", "method", "round", "labels used", "queries", "test exact", "minutes")
PACKAGES = ("captchalab", "torch", "onnxruntime")


@dataclass(frozen=True)
class Target:
    name: str
    pool: list[tuple[Path, str]]  # (image, true label): labels only reach the oracle/baselines
    test: BenchmarkSet


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--init", default="default", help="checkpoint or run folder, or 'default'")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="'' to skip Kaggle")
    parser.add_argument("--scheme", default=str(SCHEME_FILES / "heldout_blur.yaml"))
    parser.add_argument("--pool", type=int, default=1000, help="unlabelled scheme images")
    parser.add_argument("--kaggle-pool", type=int, default=None, help="first N Kaggle pool")
    parser.add_argument("--test-count", type=int, default=1000, help="scheme test images")
    parser.add_argument("--kaggle-test", type=int, default=None, help="first N Kaggle test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400, help="fine-tuning steps per round")
    parser.add_argument("--top-k", type=int, default=1)
    parser.add_argument("--budget", type=int, default=None, help="checker queries in all")
    parser.add_argument(
        "--lengths",
        action="store_true",
        help="tell adapt each target's answer lengths (those of its pool's labels)",
    )
    parser.add_argument("--human", default="50,200", help="human-label baselines")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/adapt.md"))
    return parser.parse_args(argv)


def kaggle_target(folder: Path, pool_limit: int | None, test_limit: int | None) -> Target:
    with (folder / "split.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] != "test"][:pool_limit]
    pool = [(folder / r["filename"], r["label"]) for r in rows]
    return Target("kaggle_v2", pool, split_set(folder, name="kaggle_v2_test", limit=test_limit))


def scheme_target(spec: str, count: int, test_count: int, work: Path) -> Target:
    scheme = get_scheme(spec)
    folder = work / f"{scheme.name}_pool"
    folder.mkdir(parents=True, exist_ok=True)
    pool = []
    for index in range(count):
        image, text = scheme.sample_at(0, index)
        path = folder / f"{index:05d}.png"
        image.save(path)
        pool.append((path, scheme.charset.normalize(text)))
    return Target(scheme.name, pool, scheme_set(spec, test_count))


def unlabelled(target: Target, work: Path) -> Path:
    """The pool's images alone (links), so that adapt sees no labels."""
    folder = work / f"{target.name}_unlabelled"
    folder.mkdir(parents=True, exist_ok=True)
    for index, (path, _) in enumerate(target.pool):
        link = folder / f"{index:05d}{path.suffix}"
        if not link.exists():
            link.symlink_to(path.resolve())
    return folder


def human_labels(target: Target, count: int, work: Path) -> Path:
    folder = work / f"{target.name}_human{count}"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "label"])
        writer.writerows((str(p.resolve()), label) for p, label in target.pool[:count])
    return folder


def score(model: Path, target: Target, threads: int | None) -> float:
    return exact_accuracy(Solver.load(model, threads=threads), target.test)


def run_target(target: Target, args: argparse.Namespace, work: Path) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    init = resolve_init(args.init)
    zero = export_onnx(init if (init / "checkpoint.json").exists() else init / "last",
                       work / f"{target.name}_zero.onnx")  # fmt: skip
    rows.append(
        (target.name, "zero-shot", "-", "0", "0", percent(score(zero, target, args.threads)), "-")
    )
    print(*rows[-1], sep="\t", flush=True)
    images = unlabelled(target, work)
    oracle = OracleChecker(
        {f"{i:05d}{p.suffix}": label for i, (p, label) in enumerate(target.pool)}
    )
    config = AdaptConfig(
        rounds=args.rounds, steps=args.steps, top_k=args.top_k, query_budget=args.budget,
        threads=args.threads,
        lengths=frozenset(len(label) for _, label in target.pool) if args.lengths else None,
    )  # fmt: skip
    run = work / f"{target.name}_adapt"
    shutil.rmtree(run, ignore_errors=True)
    started = time.perf_counter()
    finished: dict[int, float] = {}  # round -> minutes since the start, when it ended

    def on_event(event: dict) -> None:
        finished[event["round"]] = (time.perf_counter() - started) / 60

    for record in adapt(args.init, images, oracle, run, config, on_event):
        model = run / f"round_{record.round}" / "model.onnx"
        minutes = finished[record.round]
        rows.append((target.name, "adapt (oracle)", str(record.round), str(record.labels),
                     str(record.queries), percent(score(model, target, args.threads)),
                     f"{minutes:.1f}"))  # fmt: skip
        print(*rows[-1], sep="\t", flush=True)
    for count in [int(c) for c in args.human.split(",") if c.strip()]:
        started = time.perf_counter()
        out = work / f"{target.name}_human{count}_run"
        shutil.rmtree(out, ignore_errors=True)
        settings = TrainConfig(
            scheme=None, data=str(human_labels(target, count, work)), init=args.init,
            max_steps=args.steps, batch_size=32, lr=5e-4, threads=args.threads,
            eval_every=args.steps, checkpoint_every=args.steps, channels_last=False,
        )  # fmt: skip
        train(settings, out)
        model = export_onnx(out / "last", work / f"{target.name}_human{count}.onnx")
        minutes = (time.perf_counter() - started) / 60
        rows.append((target.name, f"fine-tune, {count} human labels", "-", str(count), "0",
                     percent(score(model, target, args.threads)), f"{minutes:.1f}"))  # fmt: skip
        print(*rows[-1], sep="\t", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work_dir or Path(scratch)
        targets = []
        if str(args.kaggle) and (Path(args.kaggle) / "split.csv").exists():
            targets.append(kaggle_target(Path(args.kaggle), args.kaggle_pool, args.kaggle_test))
        if args.scheme:
            targets.append(scheme_target(args.scheme, args.pool, args.test_count, work))
        rows = [row for target in targets for row in run_target(target, args, work)]
    lines = [
        f"# adapt (no human labels) vs fine-tuning on human labels, init `{args.init}`",
        "",
        f"`{command_line()}`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        *machine_lines(PACKAGES),
        f"- scheme target: `{display_path(args.scheme)}`" if args.scheme else "",
        "",
        *markdown_table(HEADERS, rows),
        "",
    ]
    publish("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
