"""Model families at an equal CPU budget: accuracy per CPU-minute of training, and latency.

    nice -n 10 python benchmarks/family_budget.py --cpu-minutes 10 \\
        --out benchmarks/results/family_budget.md

Each family (default: ``crnn``, today's default shape, and ``cnnctc``, convolutions only)
trains from scratch on the same pre-rendered set of a scheme (default ``broad``, 32 px high,
dynamic width up to 256), in its own process on one core, so each gets the same CPU. The step
budget is the CPU budget divided by the family's CPU-seconds per step, measured first on real
batches, so every run completes its learning-rate schedule. Reported: validation exact
accuracy (the trainer's own validation set), CPU-minutes actually used, parameters, and the
exported ONNX model's single-image p50 on one thread for a 200x60 image.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench_common import command_line, machine_lines, markdown_table, percent, publish

FAMILIES: dict[str, dict[str, Any]] = {
    "crnn": {"channels": [16, 32, 64, 96], "hidden": 128},
    "cnnctc": {"channels": [24, 48, 96, 128], "hidden": 160, "temporal_layers": 4},
}


@dataclass(frozen=True)
class Job:
    family: str
    scheme: str
    cache: Path
    run: Path
    cpu_minutes: float
    cache_size: int
    val_size: int
    batch: int


def _config(job: Job, max_steps: int) -> Any:
    from captchalab.training.config import TrainConfig

    return TrainConfig(
        model=job.family,
        scheme=job.scheme,
        model_args=FAMILIES[job.family],
        height=32,
        width=256,
        resize="pad",
        dynamic_width=True,
        min_width=80,
        batch_size=job.batch,
        max_steps=max_steps,
        lr=2e-3,
        cache_size=job.cache_size,
        val_size=job.val_size,
        eval_every=max_steps,
        checkpoint_every=max_steps,
        threads=1,
    )


def seconds_per_step(job: Job) -> float:
    """CPU-seconds of one training step, from a 40-step run on the cached set."""
    from captchalab.training.trainer import train

    probe = job.run.parent / f"{job.run.name}-probe"
    probe.mkdir(parents=True, exist_ok=True)
    (probe / "cache").symlink_to(job.cache)
    train(_config(job, 10), probe)  # warm-up: loads the cache, builds the model
    start = time.process_time()
    train(_config(job, 50), probe, resume=True)  # 40 more steps
    return (time.process_time() - start) / 40


def run(job: Job) -> dict[str, Any]:
    import torch

    from captchalab.inference import Solver
    from captchalab.training.checkpoint import load_checkpoint
    from captchalab.training.export import export_onnx
    from captchalab.training.trainer import train

    torch.set_num_threads(1)
    per_step = seconds_per_step(job)
    steps = max(50, int(job.cpu_minutes * 60 / per_step))
    job.run.mkdir(parents=True, exist_ok=True)
    (job.run / "cache").symlink_to(job.cache)
    start = time.process_time()
    metrics = train(_config(job, steps), job.run)
    used = (time.process_time() - start) / 60
    model, _ = load_checkpoint(job.run / "best")
    onnx_path = export_onnx(job.run / "best", job.run / "model.onnx")
    solver = Solver.load(onnx_path, threads=1)
    from PIL import Image

    from captchalab.schemes import get_scheme

    picture = get_scheme(job.scheme).sample_at(7, 0)[0].convert("RGB").resize((200, 60))
    for _ in range(20):
        solver.solve(picture)
    times = []
    for _ in range(200):
        t = time.perf_counter()
        solver.solve(picture)
        times.append(time.perf_counter() - t)
    times.sort()
    assert isinstance(picture, Image.Image)
    return {
        "family": job.family,
        "steps": steps,
        "seconds_per_step": per_step,
        "cpu_minutes": used,
        "exact": metrics["exact_accuracy"],
        "cer": metrics.get("character_error_rate"),
        "parameters": sum(p.numel() for p in model.parameters()),
        "p50_ms": times[len(times) // 2] * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    parser.add_argument("--scheme", default="broad")
    parser.add_argument("--cpu-minutes", type=float, default=10.0, help="training CPU per family")
    parser.add_argument("--cache-size", type=int, default=20000)
    parser.add_argument("--val-size", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from captchalab.data.cache import cached_arrays
    from captchalab.training.config import VALIDATION_SEED
    from captchalab.training.run_data import preprocessing_of

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        cache = root / "cache"
        probe = Job(args.families[0], args.scheme, cache, root, 0, args.cache_size, 1, 1)
        spec = preprocessing_of(_config(probe, 1))
        cached_arrays(cache, args.scheme, spec, 0, args.cache_size)  # training seed 0
        cached_arrays(cache, args.scheme, spec, VALIDATION_SEED, args.val_size)
        jobs = [
            Job(
                family,
                args.scheme,
                cache,
                root / family,
                args.cpu_minutes,
                args.cache_size,
                args.val_size,
                args.batch_size,
            )
            for family in args.families
        ]
        with get_context("spawn").Pool(len(jobs)) as pool:
            results = pool.map(run, jobs)
    rows = [
        [
            r["family"],
            f"{r['parameters']:,}",
            str(r["steps"]),
            f"{r['seconds_per_step'] * 1e3:.0f}",
            f"{r['cpu_minutes']:.1f}",
            percent(r["exact"]),
            f"{r['cer']:.3f}" if r["cer"] is not None else "-",
            f"{r['p50_ms']:.2f}",
        ]
        for r in results
    ]
    lines = [
        "# Model families at an equal CPU budget",
        "",
        f"Command: `{command_line()}`",
        "",
        *machine_lines(["torch", "onnxruntime"]),
        "",
        f"From scratch on `{args.scheme}` ({args.cache_size:,} pre-rendered images, batches of "
        f"{args.batch_size}), one core each, {args.cpu_minutes:g} CPU-minutes of training per "
        f"family; validation on {args.val_size:,} images at the validation seed.",
        "",
        *markdown_table(
            [
                "family",
                "parameters",
                "steps",
                "CPU ms/step",
                "CPU-minutes",
                "val exact",
                "val CER",
                "ONNX p50 ms (200x60, 1 thread)",
            ],
            rows,
        ),
    ]
    text = "\n".join(lines) + "\n"
    if args.out:
        publish(text, args.out)
    else:
        print(text)


if __name__ == "__main__":
    main()
