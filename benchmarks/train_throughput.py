"""Training throughput per model family: the model step alone, the data alone, and both.

For each experiment config (default: the seed rows' configs) it measures training samples/s:

- ``step``: forward + loss + backward + AdamW on a fixed batch of real rendered images, in
  variants: the trainer's settings today (``base``), intra-op threads 1 vs 2, ``channels_last``
  on/off, ``torch.compile`` and bf16 autocast;
- ``data``: rendering + preprocessing in-process (one core), and batches drawn from a
  pre-rendered uint8 cache with the trainer's augmentation;
- ``train``: the real trainer for a few steps, rendering on the fly in-process
  (``workers 0``), in one worker process beside the model (``workers 1``), or from a cache.

Variants are measured round-robin (``--repeats`` rounds), so load from other processes hits
them alike; the report gives the median and the min-max spread of each.

    nice -n 10 python benchmarks/train_throughput.py --out benchmarks/results/train_throughput.md
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from bench_common import REPO_ROOT, command_line, machine_lines, markdown_table, publish

from captchalab.data.preprocess import to_array
from captchalab.models import create_model
from captchalab.objectives import create_objective
from captchalab.schemes import get_scheme
from captchalab.training.augment import augment_batch
from captchalab.training.config import TrainConfig, load_config
from captchalab.training.precision import autocast, cpu_flags, describe_simd
from captchalab.training.run_data import preprocessing_of
from captchalab.training.trainer import train

DEFAULT_CONFIGS = [
    "configs/experiments/seed_digits5_multihead.yaml",
    "configs/experiments/seed_hku_crnn.yaml",
    "configs/experiments/seed_words_attention.yaml",
]
STEP_VARIANTS = ("base", "threads1", "threads2", "no_channels_last", "compile", "bf16")
TRAIN_VARIANTS = (
    "workers0",
    "workers0_threads1",
    "workers1",
    "cache",
    "cache_threads2",
    "cache_threads2_bf16",
)


@dataclass(frozen=True)
class StepSetup:
    threads: int
    channels_last: bool
    compile: bool = False
    bf16: bool = False


def step_setup(config: TrainConfig, variant: str) -> StepSetup:
    base = StepSetup(config.threads or torch.get_num_threads(), config.channels_last)
    changes: dict[str, dict[str, object]] = {
        "base": {},
        "threads1": {"threads": 1},
        "threads2": {"threads": 2},
        "no_channels_last": {"channels_last": False},
        "compile": {"compile": True},
        "bf16": {"bf16": True},
    }
    if variant not in changes:
        raise ValueError(f"unknown step variant {variant!r}; known: {', '.join(changes)}")
    return replace(base, **changes[variant])  # type: ignore[arg-type]


def rendered_batch(config: TrainConfig, count: int) -> tuple[torch.Tensor, list[str]]:
    assert config.scheme is not None
    scheme, spec = get_scheme(config.scheme), preprocessing_of(config)
    images, texts = [], []
    for index in range(count):
        image, text = scheme.sample_at(config.seed, index)
        images.append(to_array(image, spec))
        texts.append(text)
    return torch.from_numpy(np.stack(images)), texts


class StepBench:
    """One model and optimiser per variant, reused across rounds (compile happens once)."""

    def __init__(
        self, config: TrainConfig, setup: StepSetup, batch: tuple[torch.Tensor, list[str]]
    ) -> None:
        assert config.scheme is not None
        scheme = get_scheme(config.scheme)
        self.config, self.setup = config, setup
        self.objective = create_objective(
            _objective_of(config.model), scheme.charset, scheme.max_length
        )
        model = create_model(
            config.model,
            num_classes=scheme.charset.num_classes,
            in_channels=config.channels,
            height=config.height,
            width=config.width,
            max_length=scheme.max_length,
            **config.model_args,
        )
        if setup.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.model = model.train()
        self.forward: Callable[..., torch.Tensor] = (
            torch.compile(model) if setup.compile else model  # type: ignore[assignment]
        )
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        images, self.texts = batch
        self.images = (
            images.contiguous(memory_format=torch.channels_last) if setup.channels_last else images
        )
        self.teacher = self.objective.teacher_forcing_targets(self.texts)

    def step(self) -> None:
        torch.set_num_threads(self.setup.threads)
        with autocast("bf16" if self.setup.bf16 else "float32", "cpu"):
            logits = (
                self.forward(self.images)
                if self.teacher is None
                else self.forward(self.images, self.teacher)
            )
            loss = self.objective.loss(logits.float(), self.texts)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()


def _objective_of(model: str) -> str:
    from captchalab.models import model_entry

    return model_entry(model).objective


def timed(action: Callable[[], None], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        action()
    return time.perf_counter() - started


def render_rate(config: TrainConfig, count: int) -> float:
    torch.set_num_threads(1)
    started = time.perf_counter()
    rendered_batch(replace(config, seed=config.seed + 1), count)
    return count / (time.perf_counter() - started)


def cache_rate(config: TrainConfig, cache: np.ndarray, steps: int) -> float:
    """Batches from a uint8 cache: gather, scale, augment (what the trainer does per step)."""
    torch.set_num_threads(config.threads or 1)
    rng, generator = np.random.default_rng(0), torch.Generator()
    started = time.perf_counter()
    for step in range(steps):
        chosen = rng.integers(0, len(cache), config.batch_size)
        images = torch.from_numpy(cache[chosen]).float() / 255.0
        generator.manual_seed(step)
        augment_batch(images, generator)
    return steps * config.batch_size / (time.perf_counter() - started)


def trainer_rate(config: TrainConfig, variant: str, steps: int) -> float:
    """Samples/s of ``train()`` over its last ``steps - 2`` steps (rendering caches excluded)."""
    changes: dict[str, dict[str, object]] = {
        "workers0": {"workers": 0, "cache_size": 0},
        # the trainer as the seed configs first ran it: render in-process, one thread, float32
        "workers0_threads1": {"workers": 0, "cache_size": 0, "threads": 1},
        "workers1": {"workers": 1, "cache_size": 0},
        "cache": {"workers": 0, "cache_size": 2 * config.batch_size},
        # both cores on the model step (faster on an idle machine, slower on a loaded one)
        "cache_threads2": {"workers": 0, "cache_size": 2 * config.batch_size, "threads": 2},
        # and bf16 autocast (pays off only with AVX512-BF16 or AMX; see training/precision.py)
        "cache_threads2_bf16": {
            "workers": 0,
            "cache_size": 2 * config.batch_size,
            "threads": 2,
            "precision": "bf16",
        },
    }
    run_config = replace(
        config,
        max_steps=steps,
        val_size=config.batch_size,
        eval_every=10**9,
        checkpoint_every=10**9,
        **changes[variant],  # type: ignore[arg-type]
    )
    stamps: list[float] = []

    def on_event(event: dict[str, object]) -> None:
        if event["event"] == "step":
            stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as folder:
        train(run_config, Path(folder) / "run", on_event=on_event, device="cpu")
    if len(stamps) < 3:
        raise ValueError("trainer benchmark needs at least 3 steps")
    # skip the first two steps: DataLoader start-up and first-touch allocations
    return (len(stamps) - 2) * config.batch_size / (stamps[-1] - stamps[1])


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def bench_config(
    path: Path, args: argparse.Namespace, rows: list[list[str]], notes: list[str]
) -> None:
    config = load_config(path)
    name = path.stem
    batch = rendered_batch(config, config.batch_size)
    benches: dict[str, StepBench] = {}
    results: dict[str, list[float]] = {}
    for variant in args.step_variants:
        try:
            bench = StepBench(config, step_setup(config, variant), batch)
            timed(bench.step, args.warmup)  # compile, allocator and oneDNN warm-up
            benches[variant] = bench
        except Exception as exc:  # a variant this build cannot run is a finding, not a crash
            notes.append(f"{name} step `{variant}`: not measured ({type(exc).__name__}: {exc})")
    cache = (batch[0].numpy() * 255).round().astype(np.uint8)
    for _ in range(args.repeats):
        for variant, bench in benches.items():
            seconds = timed(bench.step, args.steps)
            results.setdefault(f"step {variant}", []).append(
                args.steps * config.batch_size / seconds
            )
        results.setdefault("data render (1 process)", []).append(
            render_rate(config, args.render_count)
        )
        results.setdefault("data cache + augment", []).append(cache_rate(config, cache, 20))
        for variant in args.train_variants:
            results.setdefault(f"train {variant}", []).append(
                trainer_rate(config, variant, args.train_steps)
            )
    for label, values in results.items():
        rows.append([name, label, spread(values), str(len(values))])


def write_report(
    rows: list[list[str]], notes: list[str], default_threads: int, out: Path | None
) -> None:
    lines = [
        "# Training throughput (samples/s)",
        "",
        *machine_lines(["torch", "numpy"]),
        f"- command: `{command_line()}`",
        f"- torch default intra-op threads: {default_threads}; "
        f"CPU flags: {describe_simd(cpu_flags())}",
        "",
        "Median over rounds, with the min-max spread in brackets.",
        "",
        *markdown_table(["config", "what", "samples/s", "rounds"], rows),
    ]
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    text = "\n".join(lines) + "\n"
    if out:
        publish(text, out)
    else:
        print(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", type=Path, help="experiment YAML (repeat)")
    parser.add_argument("--step-variants", nargs="*", default=list(STEP_VARIANTS))
    parser.add_argument("--train-variants", nargs="*", default=list(TRAIN_VARIANTS))
    parser.add_argument("--steps", type=int, default=10, help="timed model steps per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per variant")
    parser.add_argument("--train-steps", type=int, default=12, help="trainer steps per round")
    parser.add_argument("--render-count", type=int, default=128, help="images rendered per round")
    parser.add_argument("--repeats", type=int, default=3, help="round-robin rounds")
    parser.add_argument("--out", type=Path, help="markdown result file")
    args = parser.parse_args(argv)
    configs = args.config or [REPO_ROOT / path for path in DEFAULT_CONFIGS]
    default_threads = torch.get_num_threads()
    rows: list[list[str]] = []
    notes: list[str] = []
    for path in configs:
        bench_config(Path(path), args, rows, notes)
        # written after every config, so a run cut short keeps what it measured
        write_report(rows, notes, default_threads, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
