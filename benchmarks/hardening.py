"""advCAPTCHA's experiments, scaled down to 2 CPU cores, on the `merged4` scheme.

Target scheme: `merged4` (4 merged digits, no background noise, 120x40), the look of the
scheme the paper protected (4 merged characters, no background noise), with 10 symbols instead
of 62 so that attackers can be trained from scratch on a CPU.

What runs (each part writes one table of the report):

1. models: the substitute (the shipped default CRNN fine-tuned on `merged4+mix`, and a second
   one fine-tuned on `merged4` alone), four attacker architectures trained from scratch
   (`configs/experiments/adv_attacker_*.yaml`) on the target alone (and, in the full run, on
   target + mix), and the shipped default model (read through ONNX Runtime; related to the
   substitute, which starts from its weights, so it is reported but left out of the
   "unseen" mean); ddddocr when installed;
2. SR of every attacker on ordinary vs hardened captchas for method x eps x direct/iterative
   (Fig. 5), with SSIM, PSNR and the share of perturbation energy on glyph ink;
3. input cleaning (median, blur, JPEG, binarisation, TV) in front of every attacker, on the
   recommended setting;
4. substitute trained on target only vs target + mix (Fig. 6);
5. an upper-bound reader trained on ordinary + hardened captchas (stand-in for a person);
6. attacker updates (section 6.1, Fig. 8): each round the attacker retrains on hardened
   captchas with true labels, is queried, the substitute is fine-tuned on its answers, and the
   captchas are re-hardened;
7. several attackers queried at once (Fig. 9), human answers mixed into the queries
   (Fig. 10), and a lambda sweep (Table 5);
8. the answer-length signal: attackers vs a simulated person (true text, small typo rate).

N is scaled down from the paper's 100,000 per experiment to hundreds (full) or tens (quick).
Trained models are kept in --work, so a rerun (or a killed run) reuses them.

    python benchmarks/hardening.py --quick      # minutes
    python benchmarks/hardening.py              # designed for <= 2 h on 2 idle cores
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import pickle
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import torch
from bench_common import (
    REPO_ROOT,
    command_line,
    display_path,
    machine_lines,
    markdown_table,
    percent,
    publish,
)
from PIL import Image
from rich.console import Console

from captchalab.adversarial import Hardener, HardeningSettings
from captchalab.adversarial.cleaning import list_cleanings
from captchalab.adversarial.finetune import (
    FinetuneSettings,
    finetune_model,
    render_original,
)
from captchalab.adversarial.gallery import GalleryRow, write_gallery
from captchalab.adversarial.usability import glyph_energy_share, psnr, ssim
from captchalab.adversarial.zoo import (
    Attacker,
    CheckpointAttacker,
    Cleaned,
    DdddocrAttacker,
    OnnxAttacker,
    success_rate,
)
from captchalab.data.preprocess import to_array
from captchalab.schemes import get_scheme
from captchalab.training.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from captchalab.training.config import load_config
from captchalab.training.trainer import train

console = Console(stderr=True)
TARGET = "merged4"  # the default target scheme (--scheme picks another)
EXPERIMENTS = REPO_ROOT / "configs" / "experiments"
ATTACKERS = ("crnn_resnet", "multihead", "attention", "crnn_native")
# The full run updates the paper's Model 4 (ResNet + BiLSTM), the most unlike Model 1. Attackers
# trained from scratch do not learn in the quick budget, so the quick run updates the default
# model fine-tuned on the target: related to the substitute (same initial weights).
RELATED_FT = "default_ft@target (related)"
COMPETENT = 0.5  # an attacker counts towards the targets if it reads >= 50% of ordinary captchas
TEST_SEED, TRAIN_SEED, QUERY_SEED = 5_000_005, 6_000_006, 7_000_007
# The zoo trains one single-threaded process per core (two threads in one process mostly
# wait for each other while another process holds the other core). The parts after it run
# in one process, which then takes every core.
THREADS = 1
ANALYSIS_THREADS = max(1, os.cpu_count() or 1)
RECOMMENDED = HardeningSettings(method="mixture", linf=0.3, l0=100, mask="background")
SMOOTHING = (1.0, 2.0)  # Gaussian sigmas (px) of the translation-invariant rows
MOMENTUM = 0.9  # momentum of the row that combines every transfer trick
DIVERSITY = 0.7  # input-diversity probability of the diverse rows (Xie et al. use 0.5-0.7)
# The defender's ensemble: the substitute plus the defender's own models of two more
# architectures, trained on the target scheme (the defender renders it without limit; on
# target + mix the zoo's multihead reads only 59% of it in the same budget), with seeds of
# their own, so no attacker of the zoo shares their weights. Module constants, not Budget
# fields: a Budget change would invalidate every saved part of a run.
ENSEMBLE = ("multihead", "attention")
ENSEMBLE_SEED = 31


@dataclass(frozen=True)
class Budget:
    n_test: int  # hardened captchas per measured configuration
    n_train: int  # hardened captchas an attacker (or the reader) retrains on
    n_query: int  # queries per fine-tuning
    substitute_steps: int
    attacker_steps: int
    attacker_on: tuple[str, ...]  # "target" and/or "mix": what the zoo's attackers train on
    update_steps: int
    finetune_steps: int
    reader_steps: int
    rounds: int
    cache: int
    batch: int
    levels: tuple[tuple[float, int], ...]  # (L-inf eps, L0 pixels) pairs of the sweep
    # The attacker that is updated, queried and swept over. None: chosen after the ordinary
    # rates are known, as the strongest competent unseen attacker with a checkpoint (an
    # architecture that never leaves the CTC plateau on one scheme cannot be updated usefully).
    update_attacker: str | None
    target: str = TARGET  # the protected scheme; its substitute trains on target + mix

    @property
    def mixed(self) -> str:
        return f"{self.target}+mix"

    def training_scheme(self, tag: str) -> str:
        """The scheme an attacker tagged ``target`` or ``mix`` trains on."""
        return self.target if tag == "target" else self.mixed


QUICK = Budget(
    n_test=30,
    n_train=96,
    n_query=80,
    substitute_steps=150,
    attacker_steps=250,
    attacker_on=("target",),
    update_steps=50,
    finetune_steps=30,
    reader_steps=60,
    rounds=3,
    cache=3000,
    batch=32,
    levels=((0.1, 25), (0.3, 100)),
    update_attacker=RELATED_FT,
)
FULL = Budget(
    n_test=300,
    n_train=1000,
    n_query=600,
    substitute_steps=1500,
    attacker_steps=3000,
    attacker_on=("target", "mix"),
    update_steps=400,
    finetune_steps=200,
    reader_steps=1000,
    rounds=3,
    cache=20000,
    batch=64,
    levels=((0.1, 25), (0.2, 50), (0.3, 100)),
    update_attacker=None,
)


def samples(target: str, seed: int, count: int) -> tuple[list[Image.Image], list[str]]:
    scheme = get_scheme(target)
    pairs = [scheme.sample_at(seed, i) for i in range(count)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def claim_work(work: Path, target: str) -> None:
    """Mark ``work`` as holding models of ``target``; refuse a folder of another target,
    whose models would otherwise be reused by name."""
    marker = work / "target.txt"
    if marker.exists() and marker.read_text().strip() != target:
        raise SystemExit(
            f"{display_path(work)} holds models of scheme {marker.read_text().strip()!r}, "
            f"not {target!r}: pass another --work"
        )
    work.mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        marker.write_text(target + "\n")


def target_budget(quick: bool, scheme: str) -> Budget:
    """The quick or full budget for the protected scheme ``scheme`` (checked here, so a
    typo fails before any training)."""
    get_scheme(scheme)
    return replace(QUICK if quick else FULL, target=scheme)


def run_name(name: str, budget: Budget, quick: bool) -> str:
    """``NAME[_SCHEME][_quick]``, the stem of a run's --work folder and report; the default
    target keeps the historical names."""
    scheme = "" if budget.target == TARGET else "_" + Path(budget.target).stem
    return f"{name}{scheme}{'_quick' if quick else ''}"


def train_run(
    work: Path, name: str, recipe: str, budget: Budget, steps: int, **changes: object
) -> Path:
    """Train (or reuse) ``work/name`` with the recipe and overrides; returns the run folder."""
    run = work / name
    if finished(run, steps):
        console.print(f"reusing {display_path(run)}")
        return run
    config = load_config(EXPERIMENTS / recipe).updated(
        max_steps=steps,
        batch_size=budget.batch,
        cache_size=budget.cache if changes.get("data") is None else 0,
        val_size=100,
        eval_every=max(50, steps // 4),
        checkpoint_every=max(50, steps // 4),
        threads=torch.get_num_threads(),  # 1 in a zoo process, every core in the analysis
        **changes,
    )
    started, cpu = time.perf_counter(), cpu_seconds()
    console.print(f"training {name} ({steps} steps) ...")
    train(config, run, resume=(run / "last").exists())
    spent = cpu_seconds() - cpu
    cost = run / COST
    previous = float(cost.read_text()) if cost.exists() else 0.0
    cost.write_text(f"{previous + spent:.1f}\n")
    console.print(f"  {name}: {time.perf_counter() - started:.0f} s, {spent / 60:.1f} CPU-min")
    return run


def finished(run: Path, steps: int) -> bool:
    """Whether ``run`` trained all ``steps`` (a killed run has a ``best`` too, but its last
    checkpoint is short of the steps: it resumes instead)."""
    last = run / "last" / "checkpoint.json"
    if not (run / "best" / "checkpoint.json").exists() or not last.exists():
        return False
    try:
        return int(json.loads(last.read_text())["step"]) >= steps
    except (ValueError, KeyError, TypeError):
        return False


COST = "cpu_seconds.txt"  # a run's training CPU time, added up over resumed sessions


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (render workers), in seconds."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def training_cpu_minutes(work: Path) -> float:
    """Training CPU-minutes of every run in ``work``, whichever session trained it."""
    return sum(float(path.read_text()) for path in work.rglob(COST)) / 60.0


@dataclass(frozen=True)
class TrainJob:
    """One model of the zoo: its run folder name, recipe, steps and config overrides."""

    name: str
    recipe: str
    steps: int
    changes: tuple[tuple[str, object], ...] = ()


def _train_job(work: Path, budget: Budget, job: TrainJob) -> Path:
    torch.set_num_threads(THREADS)
    return train_run(work, job.name, job.recipe, budget, job.steps, **dict(job.changes))


def train_runs(work: Path, budget: Budget, jobs: dict[str, TrainJob]) -> dict[str, Path]:
    """Train every job, one single-threaded process per core (trainings are independent and
    each run keeps its own cache and checkpoints, so a killed run resumes job by job)."""
    processes = max(1, min(len(jobs), os.cpu_count() or 1))
    if processes == 1:
        return {key: _train_job(work, budget, job) for key, job in jobs.items()}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = {key: pool.submit(_train_job, work, budget, job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def write_folder(folder: Path, images: Sequence[Image.Image], texts: Sequence[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["filename", "label"])
        for index, (image, text) in enumerate(zip(images, texts, strict=True)):
            name = f"{index:06d}.png"
            image.save(folder / name)
            writer.writerow([name, text])
    return folder


def harden(
    substitute: Path | Sequence[Path] | Hardener,
    settings: HardeningSettings,
    images: list,
    texts: list,
    seed: int,
) -> list[Image.Image]:
    hardener = (
        substitute if isinstance(substitute, Hardener) else Hardener.load(substitute, settings)
    )
    return hardener.harden(images, texts, seed)


def rates(
    attackers: dict[str, Attacker], images: Sequence[Image.Image], texts: Sequence[str]
) -> dict[str, float]:
    return {name: success_rate(a.read(images), texts, False) for name, a in attackers.items()}


def is_unseen(name: str) -> bool:
    """Not the substitute, and not a model that shares its initial weights."""
    return not name.startswith(("default", "substitute"))


COMPETENT_NAMES: set[str] = set()  # unseen attackers reading >= COMPETENT of ordinary captchas


def choose_update_attacker(ordinary: dict[str, float], runs: dict[str, Path]) -> str:
    """The competent unseen attacker with a checkpoint that reads the most ordinary captchas."""
    candidates = {k: ordinary[k] for k in runs if k in COMPETENT_NAMES}
    if not candidates:
        raise SystemExit(
            "no trained unseen attacker reads >= "
            f"{COMPETENT:.0%} of ordinary captchas: raise attacker_steps"
        )
    return max(candidates, key=candidates.__getitem__)


def unseen_mean(values: dict[str, float]) -> float:
    """Mean SR over the competent unseen attackers (NaN when there are none)."""
    unseen = [v for k, v in values.items() if k.split("+")[0] in COMPETENT_NAMES]
    return statistics.fmean(unseen) if unseen else float("nan")


def related_mean(values: dict[str, float]) -> float:
    related = [v for k, v in values.items() if k.startswith("default")]
    return statistics.fmean(related) if related else float("nan")


def combined(eps: float, pixels: int) -> HardeningSettings:
    """The recommended mixture with all three transfer tricks: smoothing, diversity, momentum."""
    return replace(
        RECOMMENDED,
        linf=eps,
        l0=pixels,
        smooth=SMOOTHING[0],
        diversity=DIVERSITY,
        momentum=MOMENTUM,
    )


def label(settings: HardeningSettings) -> str:
    kind = "iterative" if settings.iterative else "direct"
    if settings.smooth:
        kind += f", smooth {settings.smooth:g}"
    if settings.diversity:
        kind += f", diversity {settings.diversity:g}"
    if settings.momentum:
        kind += f", momentum {settings.momentum:g}"
    if settings.method == "linf":
        return f"L-inf {settings.linf:g}, {kind}"
    if settings.method == "l0":
        return f"L0 {settings.l0}, {kind}"
    return f"mixture {settings.linf:g} / {settings.l0}, {kind}"


def model_arrays(images: Sequence[Image.Image], meta: CheckpointMeta) -> np.ndarray:
    """Images -> the model's uint8 input arrays (N, C, H, W)."""
    return np.stack(
        [np.round(to_array(im, meta.preprocessing) * 255).astype(np.uint8) for im in images]
    )


class Benchmark:
    def __init__(self, budget: Budget, work: Path, quick: bool) -> None:
        self.budget, self.work, self.quick = budget, work, quick
        self.lines: list[str] = []
        self.test_images, self.test_texts = samples(budget.target, TEST_SEED, budget.n_test)
        self.started = time.perf_counter()
        self.timings: list[tuple[str, float, bool]] = []  # (part, wall seconds, restored)

    # -- models --------------------------------------------------------------------------
    def models(self) -> None:
        b = self.budget
        jobs: dict[str, TrainJob] = {
            "substitute": TrainJob(
                "substitute_mix",
                "adv_substitute.yaml",
                b.substitute_steps,
                (("scheme", b.mixed),),
            ),
            "substitute_target": TrainJob(
                "substitute_target",
                "adv_substitute.yaml",
                b.substitute_steps,
                (("scheme", b.target),),
            ),
        }
        for arch in ATTACKERS:
            for tag in b.attacker_on:
                jobs[f"{arch}@{tag}"] = TrainJob(
                    f"attacker_{arch}_{tag}",
                    f"adv_attacker_{arch}.yaml",
                    b.attacker_steps,
                    (("scheme", b.training_scheme(tag)),),
                )
        jobs[RELATED_FT] = TrainJob(
            "attacker_default_ft_target",
            "adv_substitute.yaml",
            b.attacker_steps,
            (("scheme", b.target), ("seed", 21)),
        )
        for arch in ENSEMBLE:  # the defender's own models, for the ensemble part
            jobs[f"defender {arch}"] = TrainJob(
                f"defender_{arch}_target",
                f"adv_attacker_{arch}.yaml",
                b.attacker_steps,
                (("scheme", b.target), ("seed", ENSEMBLE_SEED)),
            )
        runs = train_runs(self.work, b, jobs)
        self.substitute = runs.pop("substitute")
        self.substitute_target = runs.pop("substitute_target")
        self.defender_runs = {arch: runs.pop(f"defender {arch}") for arch in ENSEMBLE}
        self.attacker_runs: dict[str, Path] = runs
        self.attackers: dict[str, Attacker] = {
            name: CheckpointAttacker(name, run) for name, run in self.attacker_runs.items()
        }
        self.attackers["default (related)"] = OnnxAttacker("default", symbols="0123456789")
        if DdddocrAttacker.available():
            self.attackers["ddddocr"] = DdddocrAttacker()

    # -- Fig. 5 --------------------------------------------------------------------------
    def sweep(self) -> None:
        b = self.budget
        ordinary = rates(self.attackers, self.test_images, self.test_texts)
        ordinary["substitute"] = success_rate(
            CheckpointAttacker("s", self.substitute).read(self.test_images), self.test_texts, False
        )
        self.ordinary = ordinary
        COMPETENT_NAMES.update(k for k, v in ordinary.items() if is_unseen(k) and v >= COMPETENT)
        self.update_attacker = b.update_attacker or choose_update_attacker(
            ordinary, self.attacker_runs
        )
        console.print(f"updated attacker: {self.update_attacker}")
        names = list(ordinary)
        headers = [
            "setting",
            "mean SR (unseen)",
            "mean SR (related)",
            *names,
            "SSIM",
            "PSNR dB",
            "glyph energy",
        ]
        rows = [
            [
                "ordinary",
                percent(unseen_mean(ordinary)),
                percent(related_mean(ordinary)),
                *map(percent, ordinary.values()),
                "1.00",
                "inf",
                "-",
            ]
        ]
        self.gallery: list[GalleryRow] = []
        self.usability: dict[str, tuple[float, float, float]] = {}
        configs = []
        for eps, pixels in b.levels:
            for method in ("linf", "l0", "mixture"):
                for iterative in (False, True):
                    configs.append(
                        replace(
                            RECOMMENDED, method=method, linf=eps, l0=pixels, iterative=iterative
                        )
                    )
        eps, pixels = b.levels[-1]  # translation-invariant (smoothed) L-inf steps
        for sigma in SMOOTHING:
            for method in ("linf", "mixture"):
                configs.append(
                    replace(RECOMMENDED, method=method, linf=eps, l0=pixels, smooth=sigma)
                )
        for sigma in (0.0, SMOOTHING[0]):  # input diversity, alone and with smoothing
            configs.append(
                replace(RECOMMENDED, linf=eps, l0=pixels, smooth=sigma, diversity=DIVERSITY)
            )
        configs.append(combined(eps, pixels))  # all three transfer tricks
        for number, settings in enumerate(configs):
            console.print(f"sweep {number + 1}/{len(configs)}: {label(settings)}")
            hardened = harden(self.substitute, settings, self.test_images, self.test_texts, 11)
            sr = rates(self.attackers, hardened, self.test_texts)
            sr["substitute"] = success_rate(
                CheckpointAttacker("s", self.substitute).read(hardened), self.test_texts, False
            )
            pairs = list(zip(self.test_images, hardened, strict=True))
            quality = (
                statistics.fmean(ssim(o, h) for o, h in pairs),
                statistics.fmean(min(psnr(o, h), 99.0) for o, h in pairs),
                statistics.fmean(glyph_energy_share(o, h) for o, h in pairs),
            )
            self.usability[label(settings)] = quality
            rows.append(
                [
                    label(settings),
                    percent(unseen_mean(sr)),
                    percent(related_mean(sr)),
                    *map(percent, sr.values()),
                    f"{quality[0]:.3f}",
                    f"{quality[1]:.1f}",
                    percent(quality[2]),
                ]
            )
            self.gallery.append(GalleryRow(label(settings), self.test_images[:3], hardened[:3]))
            if settings == RECOMMENDED:
                self.recommended_images, self.recommended_sr = hardened, sr
        self.section(
            "SR on ordinary vs hardened captchas (Fig. 5)",
            "Background masks; the mixture uses k = 4 masks (about half L-inf, half L0, L0 in "
            "the background only). `substitute` is the white-box SR on the model the "
            "perturbation was computed on. Glyph energy: share of the squared perturbation on "
            "glyph ink. `smooth s`: each L-inf step takes the sign of the gradient blurred by a "
            "Gaussian of s pixels (translation-invariant attack). `diversity p`: with "
            "probability p a step takes its gradient through a random shrink (to 80-100%) "
            "and shift of the substitute's input (input diversity).",
            markdown_table(headers, rows),
        )

    # -- the defender's ensemble ---------------------------------------------------------
    def ensemble(self) -> None:
        """The recommended and combined settings computed against an ensemble (the substitute
        and the defender's own models of other architectures) instead of the substitute alone,
        with input cleaning, SSIM and PSNR."""
        b = self.budget
        trained = self.defender_runs
        member_rates = {
            arch: success_rate(
                CheckpointAttacker(arch, run).read(self.test_images), self.test_texts, False
            )
            for arch, run in trained.items()
        }
        # A model that cannot read the captchas gives gradients of noise: leave it out.
        kept = [arch for arch, rate in member_rates.items() if rate >= COMPETENT]
        members = [self.substitute, *(trained[arch] for arch in kept)]
        competent = {k: v for k, v in self.attackers.items() if k in COMPETENT_NAMES}
        others = {k for k in competent if k.split("@")[0] not in kept}
        eps, pixels = b.levels[-1]
        rows = []
        self.ensemble_cleaned: dict[str, float] = {}
        for settings in (RECOMMENDED, combined(eps, pixels)):
            for name, substitutes in (("substitute", [self.substitute]), ("ensemble", members)):
                console.print(f"ensemble part: {label(settings)} against the {name}")
                hardened = harden(substitutes, settings, self.test_images, self.test_texts, 15)
                sr = rates(self.attackers, hardened, self.test_texts)
                cleaned = [
                    success_rate(Cleaned(a, c).read(hardened), self.test_texts, False)
                    for a in competent.values()
                    if not isinstance(a, DdddocrAttacker)
                    for c in list_cleanings()
                ]
                unseen = [v for k, v in sr.items() if k in COMPETENT_NAMES]
                other = [v for k, v in sr.items() if k in others]
                with_cleaning = statistics.fmean([*unseen, *cleaned]) if unseen else float("nan")
                pairs = list(zip(self.test_images, hardened, strict=True))
                quality = statistics.fmean(ssim(o, h) for o, h in pairs)
                loudness = statistics.fmean(min(psnr(o, h), 99.0) for o, h in pairs)
                self.ensemble_cleaned[f"{label(settings)} / {name}"] = with_cleaning
                rows.append(
                    [
                        label(settings),
                        name,
                        percent(unseen_mean(sr)),
                        percent(with_cleaning),
                        percent(statistics.fmean(other)) if other else "-",
                        percent(related_mean(sr)),
                        ", ".join(f"{k} {percent(v)}" for k, v in sr.items()),
                        f"{quality:.3f}",
                        f"{loudness:.1f}",
                    ]
                )
                if name == "ensemble":
                    self.gallery.append(
                        GalleryRow(
                            f"{label(settings)}, ensemble", self.test_images[:3], hardened[:3]
                        )
                    )
        self.section(
            "The defender's ensemble (substitute + own models of other architectures)",
            "The perturbation is computed against several substitutes at once (each step "
            "follows the members' gradients, each scaled to mean magnitude 1, summed; Liu et "
            "al., 2017): the substitute plus the defender's own "
            f"{' and '.join(ENSEMBLE)} models, trained {b.attacker_steps} steps on {b.target} "
            f"with seed {ENSEMBLE_SEED} (the zoo's attackers of those architectures have other "
            "seeds and share no weights with them, but they do share the architecture and the "
            "data, which a real attacker need not). Ordinary accuracy of the defender's models "
            "on the test captchas: "
            f"{', '.join(f'{k} {percent(v)}' for k, v in member_rates.items())}; members "
            f"kept (>= {percent(COMPETENT)}): substitute{''.join(', ' + k for k in kept)}. "
            "'with cleaning': the mean over the competent unseen attackers, plain and behind "
            "each of the 5 cleanings (ddddocr plain only), as in the target. 'architectures "
            "not added': the competent unseen attackers of a family the ensemble did not add "
            f"({', '.join(sorted(others)) or 'none'}).",
            markdown_table(
                [
                    "setting",
                    "computed against",
                    "mean SR (unseen)",
                    "with cleaning",
                    "mean SR (architectures not added)",
                    "mean SR (related)",
                    "per attacker",
                    "SSIM",
                    "PSNR dB",
                ],
                rows,
            ),
        )

    # -- input cleaning ------------------------------------------------------------------
    def cleaning(self) -> None:
        headers = ["attacker", "cleaning", "SR ordinary", "SR hardened"]
        rows: list[list[str]] = []
        hardened_values: list[float] = []
        related_values: list[float] = []
        base = {
            k: v
            for k, v in self.attackers.items()
            if k != "ddddocr" and (k in COMPETENT_NAMES or k.startswith("default"))
        }
        for name, attacker in base.items():
            for cleaning in list_cleanings():
                cleaned = Cleaned(attacker, cleaning)
                ordinary = success_rate(cleaned.read(self.test_images), self.test_texts, False)
                hardened = success_rate(
                    cleaned.read(self.recommended_images), self.test_texts, False
                )
                rows.append([name, cleaning, percent(ordinary), percent(hardened)])
                if name in COMPETENT_NAMES:
                    hardened_values.append(hardened)
                else:
                    related_values.append(hardened)
        competent = [
            *hardened_values,
            *(v for k, v in self.recommended_sr.items() if k in COMPETENT_NAMES),
        ]
        related = [
            *related_values,
            *(v for k, v in self.recommended_sr.items() if k.startswith("default")),
        ]
        self.cleaned_mean = statistics.fmean(competent) if competent else float("nan")
        self.cleaned_related = statistics.fmean(related) if related else float("nan")
        self.section(
            f"Input cleaning on the recommended setting ({label(RECOMMENDED)})",
            "Mean SR with and without each cleaning over the competent unseen attackers "
            f"(those reading >= {percent(COMPETENT)} of ordinary captchas: "
            f"{', '.join(sorted(COMPETENT_NAMES)) or 'none'}): "
            f"**{percent(self.cleaned_mean)}** (target: <= 10%); over the related ones: "
            f"{percent(self.cleaned_related)}.",
            markdown_table(headers, rows),
        )

    # -- Fig. 6 --------------------------------------------------------------------------
    def substitutes(self) -> None:
        rows = []
        for name, run in (
            ("target + mix", self.substitute),
            ("target only", self.substitute_target),
        ):
            hardened = harden(run, RECOMMENDED, self.test_images, self.test_texts, 12)
            sr = rates(
                {k: v for k, v in self.attackers.items() if k != "ddddocr"},
                hardened,
                self.test_texts,
            )
            rows.append(
                [
                    name,
                    percent(unseen_mean(sr)),
                    percent(related_mean(sr)),
                    ", ".join(f"{k} {percent(v)}" for k, v in sr.items()),
                ]
            )
        self.section(
            "Substitute trained on target only vs target + mix (Fig. 6)",
            "Both substitutes start from the shipped default model (itself trained on `mix`), "
            "so this contrast is weaker than the paper's.",
            markdown_table(
                ["substitute data", "mean SR (unseen)", "mean SR (related)", "per attacker"], rows
            ),
        )

    # -- upper-bound reader --------------------------------------------------------------
    def reader(self) -> None:
        """Readers fine-tuned on ordinary + hardened captchas: the strongest competent unseen
        attacker (no weights shared with the substitute) and the default model (the
        substitute's own starting point, so a pessimistic stand-in)."""
        b = self.budget
        images, texts = samples(b.target, TRAIN_SEED, b.n_train)
        hardened = harden(self.substitute, RECOMMENDED, images, texts, 13)
        folder = write_folder(self.work / "reader_data", [*images, *hardened], [*texts, *texts])
        test_hardened = harden(self.substitute, RECOMMENDED, self.test_images, self.test_texts, 14)
        starts: list[tuple[str, str, str]] = []  # (reader name, recipe, init)
        unseen = [
            name
            for name in sorted(COMPETENT_NAMES, key=lambda n: -self.ordinary[n])
            if name in self.attacker_runs
        ]
        if unseen:
            starts.append(
                (unseen[0], self.recipe_of(unseen[0]), str(self.attacker_runs[unseen[0]]))
            )
        starts.append(("default model (related)", "adv_substitute.yaml", "default"))
        rows, losses = [], {}
        for name, recipe, init in starts:
            tag = "reader" if init == "default" else f"reader_{name.split('@')[0]}"
            run = train_run(
                self.work,
                tag,
                recipe,
                b,
                b.reader_steps,
                data=str(folder),
                scheme=None,
                init=init,
            )
            reader = CheckpointAttacker(tag, run)
            ordinary = success_rate(reader.read(self.test_images), self.test_texts, False)
            hard = success_rate(reader.read(test_hardened), self.test_texts, False)
            if ordinary >= COMPETENT:  # a reader that cannot read ordinary ones proves nothing
                losses[name] = ordinary - hard
            rows.append([name, percent(ordinary), percent(hard), f"{100 * (ordinary - hard):.1f}"])
        # The target is judged on the first competent reader: the unrelated one when it is.
        self.reader_name = next(iter(losses), "no competent reader")
        self.reader_loss = losses.get(self.reader_name, float("nan"))
        ssim_mean = self.usability[label(RECOMMENDED)][0]
        self.section(
            "Upper-bound reader (a stand-in for a person)",
            f"Each reader is fine-tuned for {b.reader_steps} steps on {b.n_train} ordinary + "
            f"{b.n_train} hardened captchas ({label(RECOMMENDED)}), then tested on fresh "
            "captchas hardened with another seed. The first row starts from the strongest "
            "competent unseen attacker, which shares no weights with the substitute; the "
            "default model is the substitute's own starting point, so its loss is pessimistic. "
            f"Target: the first reader that reads >= {COMPETENT:.0%} of ordinary captchas loses "
            "<= 5 points, and mean SSIM >= 0.8 "
            f"(measured: {ssim_mean:.3f}).",
            markdown_table(
                ["reader starts from", "accuracy ordinary", "accuracy hardened", "loss (points)"],
                rows,
            ),
        )

    # -- fine-tuning helpers -------------------------------------------------------------
    def finetuned(
        self,
        substitute: Path,
        images: list,
        answers: list[str],
        name: str,
        lam: float | None = None,
        rehearsal: tuple[list, list[str]] | None = None,
        steps: int | None = None,
    ) -> tuple[Path, float, float]:
        """Fine-tune ``substitute`` on (images, answers), plus an optional rehearsal set
        (hardened images, true texts); returns its folder, original accuracy, and the share
        of answers it fits."""
        model, meta = load_checkpoint(substitute)
        settings = FinetuneSettings(
            lam=lam,
            steps=steps or self.budget.finetune_steps,
            batch_size=self.budget.batch,
            eval_every=max(10, (steps or self.budget.finetune_steps) // 4),
            original_size=max(200, self.budget.n_query),
            val_size=200,
        )
        keep = [
            i
            for i, a in enumerate(answers)
            if a
            and len(a) <= meta.max_length
            and all(c in meta.charset.symbols for c in meta.charset.normalize(a))
        ]
        if not keep and rehearsal is None:  # nothing the substitute can learn from
            return Path(substitute), float("nan"), float("nan")
        if not hasattr(self, "_original"):
            self._original = render_original(self.budget.mixed, meta, settings)
        rehearsed = None
        if rehearsal is not None:
            rehearsed = (
                model_arrays(rehearsal[0], meta),
                [meta.charset.normalize(t) for t in rehearsal[1]],
            )
        if keep:
            arrays = model_arrays([images[i] for i in keep], meta)
        else:  # no usable answer: the rehearsal set alone (its shape, no rows)
            assert rehearsed is not None
            arrays = rehearsed[0][:0]
        model, report = finetune_model(
            model,
            meta,
            arrays,
            [meta.charset.normalize(answers[i]) for i in keep],
            self._original,
            settings,
            rehearsal=rehearsed,
        )
        folder = self.work / "finetuned" / name
        save_checkpoint(folder, model, meta)
        return folder, report.final_accuracy, report.query_fit

    @staticmethod
    def recipe_of(attacker: str) -> str:
        if attacker == RELATED_FT:
            return "adv_substitute.yaml"
        return f"adv_attacker_{attacker.split('@')[0]}.yaml"

    # -- Fig. 8 --------------------------------------------------------------------------
    def updates(self) -> None:
        b = self.budget
        substitute = self.substitute
        attacker_run = self.attacker_runs[self.update_attacker]
        rows = []
        self.update_after: list[float] = []
        for round_ in range(1, b.rounds + 1):
            test = harden(substitute, RECOMMENDED, self.test_images, self.test_texts, 100 + round_)
            before = success_rate(
                CheckpointAttacker("a", attacker_run).read(test), self.test_texts, False
            )
            images, texts = samples(b.target, TRAIN_SEED + round_, b.n_train)
            hardened = harden(substitute, RECOMMENDED, images, texts, 200 + round_)
            folder = write_folder(self.work / f"update_{round_}", hardened, texts)
            attacker_run = train_run(
                self.work,
                f"attacker_updated_{round_}",
                self.recipe_of(self.update_attacker),
                b,
                b.update_steps,
                data=str(folder),
                scheme=None,
                init=str(attacker_run / "best"),
            )
            attacker = CheckpointAttacker(f"updated {round_}", attacker_run)
            updated = success_rate(attacker.read(test), self.test_texts, False)
            q_images, q_texts = samples(b.target, QUERY_SEED + round_, b.n_query)
            queries = harden(substitute, RECOMMENDED, q_images, q_texts, 300 + round_)
            answers = attacker.read(queries)
            substitute, original_acc, fit = self.finetuned(
                substitute, queries, answers, f"round_{round_}"
            )
            retest = harden(
                substitute, RECOMMENDED, self.test_images, self.test_texts, 400 + round_
            )
            after = success_rate(attacker.read(retest), self.test_texts, False)
            self.update_after.append(after)
            rows.append(
                [
                    str(round_),
                    percent(before),
                    percent(updated),
                    percent(after),
                    percent(original_acc),
                    percent(fit),
                ]
            )
        self.section(
            "Attacker updates and fine-tuning (section 6.1, Fig. 8)",
            f"Attacker `{self.update_attacker}`. Each round: it retrains on {b.n_train} "
            f"hardened captchas with true labels ({b.update_steps} steps), answers "
            f"{b.n_query} hardened queries, the substitute is fine-tuned on them "
            f"({b.finetune_steps} steps, lambda auto), and fresh captchas are re-hardened. "
            "Target: after each update, one fine-tune brings SR back to <= 15%.",
            markdown_table(
                [
                    "round",
                    "SR before update",
                    "SR after update",
                    "SR after fine-tune",
                    "substitute original accuracy",
                    "answers fitted",
                ],
                rows,
            ),
        )

    # -- Fig. 9, Fig. 10, Table 5 -------------------------------------------------------------
    def queries(self) -> None:
        b = self.budget
        unseen = {k: v for k, v in self.attackers.items() if k in COMPETENT_NAMES or "@" in k}
        q_images, q_texts = samples(b.target, QUERY_SEED, b.n_query)
        queries = harden(self.substitute, RECOMMENDED, q_images, q_texts, 500)
        share = max(1, b.n_query // len(unseen))
        pooled_images, pooled_answers = [], []
        for offset, attacker in enumerate(unseen.values()):
            chunk = queries[offset * share : (offset + 1) * share]
            pooled_images += chunk
            pooled_answers += attacker.read(chunk)
        tuned, _, _ = self.finetuned(self.substitute, pooled_images, pooled_answers, "several")
        before = self.recommended_sr
        retest = harden(tuned, RECOMMENDED, self.test_images, self.test_texts, 501)
        after = rates(unseen, retest, self.test_texts)
        rows = [[k, percent(before[k]), percent(after[k])] for k in unseen]
        rows.append(
            [
                "mean",
                percent(statistics.fmean(before[k] for k in unseen)),
                percent(statistics.fmean(after.values())),
            ]
        )
        self.section(
            "Several attackers at once (Fig. 9)",
            f"{share} queries answered by each unseen attacker, pooled, one fine-tune.",
            markdown_table(["attacker", "SR before fine-tune", "SR after fine-tune"], rows),
        )
        attacker = self.attackers[self.update_attacker]
        answers = attacker.read(queries)
        human_rows, lambda_rows = [], []
        rng = random.Random(0)
        for proportion in (0.0, 0.1, 0.25, 0.5):
            mixed = [
                t if rng.random() < proportion else a
                for a, t in zip(answers, q_texts, strict=False)
            ]
            tuned, acc, _ = self.finetuned(self.substitute, queries, mixed, f"human_{proportion}")
            retest = harden(tuned, RECOMMENDED, self.test_images, self.test_texts, 502)
            sr = success_rate(attacker.read(retest), self.test_texts, False)
            human_rows.append([percent(proportion), percent(acc), percent(sr)])
        for lam in (0.0, 1.0, 10.0, None):
            tuned, acc, _ = self.finetuned(self.substitute, queries, answers, f"lambda_{lam}", lam)
            retest = harden(tuned, RECOMMENDED, self.test_images, self.test_texts, 503)
            sr = success_rate(attacker.read(retest), self.test_texts, False)
            lambda_rows.append(["auto" if lam is None else f"{lam:g}", percent(acc), percent(sr)])
        base = percent(self.recommended_sr[self.update_attacker])
        self.section(
            "Human answers in the queries (Fig. 10)",
            f"A share of `{self.update_attacker}`'s answers replaced by the true text before "
            f"fine-tuning (lambda auto). SR before any fine-tuning: {base}.",
            markdown_table(
                ["human share", "substitute original accuracy", "attacker SR"], human_rows
            ),
        )
        self.section(
            "Lambda sweep (Table 5)",
            "Original accuracy: the fine-tuned substitute on `merged4+mix`; SR: "
            f"`{self.update_attacker}` on re-hardened captchas.",
            markdown_table(["lambda", "original accuracy", "attacker SR"], lambda_rows),
        )

    # -- answer lengths ------------------------------------------------------------------
    def lengths(self) -> None:
        rng = random.Random(1)
        expected = get_scheme(self.budget.target).min_length
        rows = []
        for name, attacker in self.attackers.items():
            answers = attacker.read(self.recommended_images)
            wrong = sum(len(a) != expected for a in answers) / len(answers)
            rows.append([name, percent(wrong)])
        person = [_typo(t, rng) for t in self.test_texts * 25]
        rows.append(
            [
                "simulated person (typo rate 8%)",
                percent(sum(len(a) != expected for a in person) / len(person)),
            ]
        )
        self.section(
            "Answer-length signal (section 5.1)",
            f"Share of answers whose length is not {expected}, on the recommended hardened "
            "captchas. The person types the true text with one substituted symbol 5% of the "
            "time, one dropped 2% and one doubled 1%.",
            markdown_table(["who", "wrong length"], rows),
        )

    def timing_lines(self) -> list[str]:
        """Wall time of each part; parts restored from an earlier invocation keep theirs."""
        restored = [name for name, _, again in self.timings if again]
        total = sum(seconds for _, seconds, _ in self.timings)
        rows = [
            [name, f"{seconds / 60:.1f}", "earlier invocation" if again else "this invocation"]
            for name, seconds, again in self.timings
        ]
        rows.append(["all parts", f"{total / 60:.1f}", "-"])
        note = (
            f"Parts restored from `--work/{SECTIONS}` ({', '.join(restored)}) ran in an earlier "
            "invocation; `models` counts only what this invocation trained. "
            if restored
            else ""
        )
        return [
            f"Wall time per part (minutes). {note}",
            "",
            *markdown_table(["part", "wall min", "measured in"], rows),
            "",
        ]

    def section(self, title: str, note: str, table: list[str]) -> None:
        self.lines += [f"## {title}", "", note, "", *table, ""]

    def report(self, out: Path, gallery_dir: Path) -> None:
        elapsed = time.perf_counter() - self.started
        b = self.budget
        head = [
            f"# Hardening benchmark{' (quick)' if self.quick else ''}",
            "",
            f"Command: `{command_line()}`; {elapsed / 60:.1f} min wall time in this "
            f"invocation; the models in `--work` took {training_cpu_minutes(self.work):.0f} "
            "training CPU-minutes in all (added up over the sessions that trained them; the "
            "time of a training killed before it finished is not in it).",
            "",
            *self.timing_lines(),
            *machine_lines(["torch", "onnxruntime", "pillow"]),
            "",
            f"Target scheme `{b.target}`; {b.n_test} test captchas per setting, {b.n_train} "
            f"for retraining, {b.n_query} queries per fine-tune (the paper used 100,000). "
            f"Attackers trained {b.attacker_steps} steps x {b.batch} from scratch on "
            f"{', '.join(b.training_scheme(t) for t in b.attacker_on)}; substitutes "
            f"{b.substitute_steps} steps from the default model. SR = exact reads "
            "(case-insensitive).",
            "",
            "## Targets",
            "",
            *markdown_table(
                ["target", "measured", "met"],
                [
                    [
                        "mean SR over unseen attackers incl. cleaning <= 10%",
                        percent(self.cleaned_mean)
                        + f" (competent unseen: {', '.join(sorted(COMPETENT_NAMES)) or 'none'})",
                        str(self.cleaned_mean <= 0.10) if COMPETENT_NAMES else "not measurable",
                    ],
                    *(
                        [f"the same, {key}", percent(value), str(value <= 0.10)]
                        for key, value in getattr(self, "ensemble_cleaned", {}).items()
                    ),
                    [
                        "the same over related attackers (not a target; for reference)",
                        percent(self.cleaned_related),
                        "-",
                    ],
                    [
                        "SR after each update + one fine-tune <= 15%",
                        ", ".join(percent(v) for v in self.update_after),
                        str(all(v <= 0.15 for v in self.update_after)),
                    ],
                    [
                        "upper-bound reader loses <= 5 points",
                        f"{100 * self.reader_loss:.1f} (reader from {self.reader_name})",
                        str(self.reader_loss <= 0.05)
                        if self.reader_loss == self.reader_loss
                        else "not measurable",
                    ],
                    [
                        "mean SSIM >= 0.8",
                        f"{self.usability[label(RECOMMENDED)][0]:.3f}",
                        str(self.usability[label(RECOMMENDED)][0] >= 0.8),
                    ],
                ],
            ),
            "",
        ]
        publish("\n".join(head + self.lines), out)
        write_gallery(
            self.gallery,
            gallery_dir / "gallery.html",
            gallery_dir / "gallery.png",
            f"Ordinary vs hardened {self.budget.target} captchas",
        )


def _typo(text: str, rng: random.Random) -> str:
    roll = rng.random()
    position = rng.randrange(len(text))
    if roll < 0.05:
        return text[:position] + rng.choice("0123456789") + text[position + 1 :]
    if roll < 0.07:
        return text[:position] + text[position + 1 :]
    if roll < 0.08:
        return text[:position] + text[position] + text[position:]
    return text


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tens of captchas, short training")
    parser.add_argument("--work", type=Path, default=None, help="where trained models are kept")
    parser.add_argument("--out", type=Path, default=None, help="markdown report")
    parser.add_argument("--gallery", type=Path, default=REPO_ROOT / "docs" / "hardening")
    parser.add_argument(
        "--scheme",
        default=TARGET,
        help=f"the protected scheme (default {TARGET}; any preset "
        "or .yaml scheme); its substitute trains on SCHEME+mix",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    budget = target_budget(args.quick, args.scheme)
    work = args.work or REPO_ROOT / "runs" / run_name("hardening_bench", budget, args.quick)
    claim_work(work, budget.target)
    out = args.out or REPO_ROOT / "benchmarks" / "results" / (
        run_name("hardening", budget, args.quick) + ".md"
    )
    bench = Benchmark(budget, work, args.quick)
    steps: list[Callable[[], None]] = [
        bench.models,
        bench.sweep,
        bench.cleaning,
        bench.substitutes,
        bench.reader,
        bench.updates,
        bench.queries,
        bench.lengths,
        bench.ensemble,
    ]
    for step in steps:
        console.print(
            f"[bold]{step.__name__}[/bold] ({(time.perf_counter() - bench.started) / 60:.1f} min)"
        )
        run_section(bench, step)
        torch.set_num_threads(ANALYSIS_THREADS)  # after the zoo: one process, every core
    bench.report(out, args.gallery)


SECTIONS = "sections"  # folder in --work holding each finished section's results


def _grown(value: object, size: int | None) -> bool:
    return size is not None and isinstance(value, (list, dict)) and len(value) != size


def run_section(bench: Benchmark, step: Callable[[], None]) -> None:
    """Run one part of the benchmark, or restore it from ``work/sections``.

    A finished part keeps its table, the attributes it set (rates, hardened images, the
    chosen attacker) and its wall time, under a fingerprint of the budget, so a killed run
    that is started again continues with the first unfinished part. ``models`` always runs:
    it reuses the trained runs itself and sets the attackers the other parts need."""
    name = step.__name__
    saved = bench.work / SECTIONS / f"{name}.pkl"
    fingerprint = repr(bench.budget)
    if name != "models" and saved.exists():
        with saved.open("rb") as handle:
            state = pickle.load(handle)
        if state["fingerprint"] == fingerprint:
            console.print(f"  restored from {display_path(saved)}")
            vars(bench).update(state["attributes"])
            bench.lines += state["lines"]
            COMPETENT_NAMES.update(state["competent"])
            bench.timings.append((name, state["seconds"], True))
            return
    before = dict(vars(bench))
    # A part may grow a list or dict an earlier part made (the gallery): that counts too.
    sizes = {k: len(v) for k, v in before.items() if isinstance(v, (list, dict))}
    lines = len(bench.lines)
    started = time.perf_counter()
    step()
    seconds = time.perf_counter() - started
    bench.timings.append((name, seconds, False))
    if name == "models":
        return
    attributes = {
        key: value
        for key, value in vars(bench).items()
        if not key.startswith("_")
        and key not in ("lines", "timings", "attackers")
        and (before.get(key, _MISSING) is not value or _grown(value, sizes.get(key)))
    }
    state = {
        "fingerprint": fingerprint,
        "attributes": attributes,
        "lines": bench.lines[lines:],
        "competent": sorted(COMPETENT_NAMES),
        "seconds": seconds,
    }
    saved.parent.mkdir(parents=True, exist_ok=True)
    partial = saved.with_suffix(".tmp")
    with partial.open("wb") as handle:
        pickle.dump(state, handle)
    os.replace(partial, saved)


_MISSING = object()


if __name__ == "__main__":
    main()
