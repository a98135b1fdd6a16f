"""Attacker updates (advCAPTCHA section 6.1, Fig. 8) under several re-hardening protocols.

`hardening.py` measures the update loop with the recommended setting only. This benchmark
runs the same loop, on the same target scheme, budget and seeds, once per protocol, so that
they can be compared round by round:

- `recommended`: the mixture 0.3 / 100, iterative (what `hardening.py` uses);
- `combined`: the same budgets with every transfer trick (gradient smoothing, input
  diversity, momentum), the setting that met the SR target in `hardening.py`'s ensemble part;
- `combined_full`: the same over the whole image (`mask: full`), so that the L-inf part also
  touches glyph edges and more of it survives a binarising attacker
  (`benchmarks/results/hardening_threshold.md`);
- `glyph`: L-inf alone, on the ink and the pixels near it (`mask: glyph`, the background
  mask's complement): where the ordinary captcha already varies, so SSIM stays high, and where
  a change moves the binarised glyph outline;
- `glyph_combined`: the same with every transfer trick;
- `glyph_combined_rehearse`: the same, and each fine-tune also fits a rehearsal set: fresh
  captchas the defender hardened against its current substitute, with their true labels (as
  many as the queries). The defender knows the true text of what it serves, so it can take the
  step an attacker's update takes (retraining on hardened captchas) before the attacker does;
- `glyph_combined_rehearse_long`: the same with as many rehearsal captchas as the attacker's
  update sees and a fine-tune twice as long, a closer copy of the attacker's update;
- `glyph_combined_shadow`: the long rehearsal, and the defender also trains a shadow of the
  updated attacker: a copy of its substitute retrained on the rehearsal set (as the attacker
  retrains on hardened captchas), continued round after round. It then hardens against the
  fine-tuned substitute and the shadow together, so the perturbation is computed against a
  model that has already adapted to the previous one.
- `glyph_combined_shadows`: the same with a second shadow of another architecture: a
  multihead CNN (the zoo's `adv_attacker_multihead.yaml` recipe), first trained on target +
  mix and then retrained on each round's rehearsal set like the first shadow. Perturbations
  computed against an ensemble of unlike models transfer further (a CTC reader and a
  per-slot classifier attend to the glyphs differently), at the price of a third gradient.
- `glyph_combined_shadows3`: a third shadow, an attention reader (the zoo's
  `adv_attacker_attention.yaml` recipe), trained the same way;
- `glyph_combined_shadows3_e28`: the same at L-inf 0.28 instead of 0.3, the budget at which
  SSIM stays at or above 0.8.

Each round, for each protocol: the attacker retrains on captchas hardened by the protocol
(true labels), answers hardened queries, the substitute is fine-tuned on those answers
(lambda auto), and fresh test captchas are re-hardened against the fine-tuned substitute.
`white-box` is the fine-tuned substitute's own SR on the captchas hardened against it: when
it stays high, the re-hardening did not even fool the model it was computed on.

    python benchmarks/hardening_updates.py --work runs/hardening_updates   # about an hour
    python benchmarks/hardening_updates.py --quick                         # minutes

Models and finished rounds are kept in --work: a killed run continues where it stopped, and
the report also shows the rounds of protocols an earlier invocation ran in the same --work.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from bench_common import (
    REPO_ROOT,
    command_line,
    machine_lines,
    markdown_table,
    percent,
    publish,
)
from hardening import (
    ANALYSIS_THREADS,
    QUERY_SEED,
    QUICK,
    RECOMMENDED,
    TARGET,
    TRAIN_SEED,
    Benchmark,
    Budget,
    TrainJob,
    claim_work,
    combined,
    console,
    harden,
    label,
    run_name,
    samples,
    target_budget,
    train_run,
    train_runs,
    write_folder,
)
from PIL import Image

from captchalab.adversarial import HardeningSettings
from captchalab.adversarial.usability import ssim
from captchalab.adversarial.zoo import CheckpointAttacker, success_rate

ATTACKER = "crnn_resnet"  # the paper's Model 4, the attacker hardening.py's full run updates
HEADERS = [
    "round",
    "SR before update",
    "SR after update",
    "SR after fine-tune",
    "white-box after fine-tune",
    "substitute original accuracy",
    "answers fitted",
    "SSIM after fine-tune",
]


def pct(value: float) -> str:
    return "-" if value != value else percent(value)  # NaN: nothing was fitted


def mean_ssim(ordinary: Sequence[Image.Image], hardened: Sequence[Image.Image]) -> float:
    return sum(ssim(a, b) for a, b in zip(ordinary, hardened, strict=True)) / len(ordinary)


def protocols(budget: Budget) -> dict[str, HardeningSettings]:
    eps, pixels = budget.levels[-1]
    strong = combined(eps, pixels)
    glyph = replace(RECOMMENDED, method="linf", linf=eps, mask="glyph")
    return {
        "recommended": RECOMMENDED,
        "combined": strong,
        "combined_full": replace(strong, mask="full"),
        "glyph": glyph,
        "glyph_combined": replace(
            glyph, smooth=strong.smooth, diversity=strong.diversity, momentum=strong.momentum
        ),
    }


PROTOCOLS = ("recommended", "combined", "combined_full", "glyph", "glyph_combined")
REHEARSAL_SEED = 5_000_005


@dataclass(frozen=True)
class Rehearsal:
    """A protocol that re-hardens like ``source`` and adds a rehearsal set to each fine-tune:
    ``size`` captchas (``"query"``: as many as the attacker's answers; ``"train"``: as many as
    its update sees), fine-tuned ``steps_factor`` times the budget's steps."""

    source: str
    size: str = "query"
    steps_factor: int = 1
    # The defender's shadows of the updated attacker, by training recipe: SUBSTITUTE_RECIPE is
    # a copy of the substitute; any other recipe first trains on target + mix. Each round every
    # shadow retrains on the rehearsal set, and the re-hardening attacks them all together.
    shadows: tuple[str, ...] = ()
    # An L-inf budget in place of the source's, e.g. a little lower to keep SSIM >= 0.8.
    linf: float | None = None


SUBSTITUTE_RECIPE = "adv_substitute.yaml"
REHEARSED = {
    "glyph_combined_rehearse": Rehearsal("glyph_combined"),
    "glyph_combined_rehearse_long": Rehearsal("glyph_combined", "train", 2),
    "glyph_combined_shadow": Rehearsal("glyph_combined", "train", 2, (SUBSTITUTE_RECIPE,)),
    "glyph_combined_shadows": Rehearsal(
        "glyph_combined", "train", 2, (SUBSTITUTE_RECIPE, "adv_attacker_multihead.yaml")
    ),
    "glyph_combined_shadows3": Rehearsal(
        "glyph_combined",
        "train",
        2,
        (SUBSTITUTE_RECIPE, "adv_attacker_multihead.yaml", "adv_attacker_attention.yaml"),
    ),
    "glyph_combined_shadows3_e28": Rehearsal(
        "glyph_combined",
        "train",
        2,
        (SUBSTITUTE_RECIPE, "adv_attacker_multihead.yaml", "adv_attacker_attention.yaml"),
        linf=0.28,
    ),
}


def shadow_starts(bench: Benchmark, plan: Rehearsal | None, substitute: Path) -> list[Path]:
    """Each shadow's first model: the substitute itself, or its recipe trained on target +
    mix (kept in --work and reused)."""
    b = bench.budget
    return [
        substitute
        if recipe == SUBSTITUTE_RECIPE
        else train_run(
            bench.work,
            f"shadow_{Path(recipe).stem}_mix",
            recipe,
            b,
            b.attacker_steps,
            scheme=b.mixed,
        )
        for recipe in (plan.shadows if plan else ())
    ]


def shadow_name(protocol: str, index: int, round_: int) -> str:
    """The run folder of shadow ``index`` after ``round_`` (the first keeps the name the
    single-shadow protocol always used, so its --work folders stay valid)."""
    return f"{protocol}_shadow_{round_}" if index == 0 else f"{protocol}_shadow{index + 1}_{round_}"


def saved_shadows(record: dict) -> list[Path]:
    """The shadows a finished round kept (``shadow`` alone in rounds saved before
    ``shadows``)."""
    paths = record.get("shadows") or ([record["shadow"]] if record.get("shadow") else [])
    return [Path(str(path)) for path in paths]


def protocol_settings(budget: Budget) -> dict[str, HardeningSettings]:
    """Every protocol's hardening settings, the rehearsed variants included."""
    base = protocols(budget)
    return {
        **base,
        **{
            name: base[r.source] if r.linf is None else replace(base[r.source], linf=r.linf)
            for name, r in REHEARSED.items()
        },
    }


def run_protocol(
    bench: Benchmark,
    name: str,
    settings: HardeningSettings,
    substitute: Path,
    attacker_run: Path,
    up_to: int,
) -> list[dict[str, float]]:
    """The update loop for one protocol, up to round ``up_to``; each finished round is
    saved in --work, and a later call continues from it."""
    b = bench.budget
    saved = bench.work / "rounds" / f"{name}.json"
    rounds: list[dict[str, float]] = json.loads(saved.read_text()) if saved.exists() else []
    plan = REHEARSED.get(name)
    shadows: list[Path] = []  # the defender's copies of the updated attacker (plan.shadows)
    if rounds:  # continue from the last finished round's models
        substitute = Path(str(rounds[-1]["substitute"]))
        attacker_run = Path(str(rounds[-1]["attacker"]))
        shadows = saved_shadows(rounds[-1])
    starts = shadow_starts(bench, plan, substitute) if len(rounds) < up_to else []
    for round_ in range(len(rounds) + 1, up_to + 1):
        started = time.perf_counter()
        console.print(f"[bold]{name}[/bold], round {round_}")
        defence = [substitute, *shadows]
        test = harden(defence, settings, bench.test_images, bench.test_texts, 100 + round_)
        before = success_rate(
            CheckpointAttacker("a", attacker_run).read(test), bench.test_texts, False
        )
        images, texts = samples(b.target, TRAIN_SEED + round_, b.n_train)
        hardened = harden(defence, settings, images, texts, 200 + round_)
        folder = write_folder(bench.work / f"{name}_update_{round_}", hardened, texts)
        attacker_run = train_run(
            bench.work,
            f"{name}_attacker_{round_}",
            f"adv_attacker_{ATTACKER}.yaml",
            b,
            b.update_steps,
            data=str(folder),
            scheme=None,
            init=str(attacker_run / "best"),
        )
        attacker = CheckpointAttacker(f"updated {round_}", attacker_run)
        updated = success_rate(attacker.read(test), bench.test_texts, False)
        q_images, q_texts = samples(b.target, QUERY_SEED + round_, b.n_query)
        queries = harden(defence, settings, q_images, q_texts, 300 + round_)
        answers = attacker.read(queries)
        rehearsal, steps = None, b.finetune_steps
        if plan is not None:  # the defender's own hardened captchas, with their true text
            count = b.n_train if plan.size == "train" else b.n_query
            r_images, r_texts = samples(b.target, REHEARSAL_SEED + round_, count)
            rehearsal = (harden(defence, settings, r_images, r_texts, 500 + round_), r_texts)
            steps = b.finetune_steps * plan.steps_factor
            if plan.shadows:  # retrain the shadows on them, as the attacker just retrained
                folder = write_folder(bench.work / f"{name}_rehearsal_{round_}", *rehearsal)
                shadows = [
                    train_run(
                        bench.work,
                        shadow_name(name, index, round_),
                        recipe,
                        b,
                        b.update_steps,
                        data=str(folder),
                        scheme=None,
                        init=str((shadows[index] if shadows else starts[index]) / "best"),
                    )
                    for index, recipe in enumerate(plan.shadows)
                ]
        substitute, original_acc, fit = bench.finetuned(
            substitute, queries, answers, f"{name}_round_{round_}", rehearsal=rehearsal, steps=steps
        )
        defence = [substitute, *shadows]
        retest = harden(defence, settings, bench.test_images, bench.test_texts, 400 + round_)
        after = success_rate(attacker.read(retest), bench.test_texts, False)
        white = success_rate(
            CheckpointAttacker("s", substitute).read(retest), bench.test_texts, False
        )
        rounds.append(
            {
                "before": before,
                "updated": updated,
                "after": after,
                "white_box": white,
                "original": original_acc,
                "fit": fit,
                "ssim": mean_ssim(bench.test_images, retest),
                "minutes": (time.perf_counter() - started) / 60,
                "substitute": str(substitute),  # type: ignore[dict-item]
                "attacker": str(attacker_run),  # type: ignore[dict-item]
                "shadow": str(shadows[0]) if shadows else "",  # type: ignore[dict-item]
                "shadows": [str(path) for path in shadows],  # type: ignore[dict-item]
            }
        )
        saved.parent.mkdir(parents=True, exist_ok=True)
        partial = saved.with_suffix(".tmp")
        partial.write_text(json.dumps(rounds, indent=1))
        partial.replace(saved)
        console.print(
            f"  SR {percent(before)} -> updated {percent(updated)} -> fine-tuned "
            f"{percent(after)} (white-box {percent(white)})"
        )
    return rounds


def report(
    out: Path, budget: Budget, settings: dict[str, HardeningSettings], results: dict, minutes: float
) -> None:
    b = budget
    lines = [
        f"# Attacker updates under re-hardening protocols{' (quick)' if b is QUICK else ''}",
        "",
        f"Command: `{command_line()}`; {minutes:.1f} min wall time in this invocation "
        "(rounds restored from --work count in the table's minutes, not here).",
        "",
        *machine_lines(["torch", "onnxruntime"]),
        "",
        f"Target scheme `{b.target}`; {b.n_test} test captchas, attacker `{ATTACKER}@mix` "
        f"({b.attacker_steps} steps x {b.batch} from scratch on `{b.mixed}`), substitute "
        f"{b.substitute_steps} steps from the default model on `{b.mixed}`. Each round: the "
        f"attacker retrains {b.update_steps} steps on {b.n_train} captchas hardened by the "
        f"protocol, with true labels; it answers {b.n_query} hardened queries; the substitute "
        f"is fine-tuned on them ({b.finetune_steps} steps, lambda auto); fresh test captchas "
        "are re-hardened against it. SR = exact reads (case-insensitive). Target (issue): "
        "after each update, one fine-tune brings SR back to <= 15%.",
        "",
    ]
    for name, rounds in results.items():
        plan = REHEARSED.get(name)
        rehearse = (
            f" + a rehearsal set ({plan.size}-sized, {plan.steps_factor}x the fine-tune steps) "
            "in each fine-tune"
            + (
                f", hardened against the substitute and {len(plan.shadows)} shadow attacker(s) "
                f"({', '.join(Path(r).stem for r in plan.shadows)})"
                if plan.shadows
                else ""
            )
            if plan
            else ""
        )
        lines += [f"## {name}: {label(settings[name])}, mask {settings[name].mask}{rehearse}", ""]
        if len(rounds) < b.rounds:
            lines += [f"{len(rounds)} of {b.rounds} rounds: restored from --work, not run on.", ""]
        rows = [
            [
                str(i),
                pct(r["before"]),
                pct(r["updated"]),
                pct(r["after"]),
                pct(r["white_box"]),
                pct(r["original"]),
                pct(r["fit"]),
                f"{r.get('ssim', float('nan')):.3f}".replace("nan", "-"),
            ]
            for i, r in enumerate(rounds, 1)
        ]
        lines += [*markdown_table(HEADERS, rows), ""]
        spent = sum(float(r["minutes"]) for r in rounds)
        lines += [f"{spent:.1f} min for these rounds.", ""]
    publish("\n".join(lines) + "\n", out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tens of captchas, short training")
    parser.add_argument("--work", type=Path, default=None, help="where models are kept")
    parser.add_argument("--out", type=Path, default=None, help="markdown report")
    parser.add_argument(
        "--protocols",
        nargs="+",
        default=None,
        help="which protocols to run (default: all): " + " ".join([*PROTOCOLS, *REHEARSED]),
    )
    parser.add_argument(
        "--scheme",
        default=TARGET,
        help=f"the protected scheme (default {TARGET}; any preset "
        "or .yaml scheme); the substitute and the attacker train on SCHEME+mix",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="update rounds per protocol (default: the budget's, 3); a later call with more "
        "rounds continues from the ones kept in --work",
    )
    args = parser.parse_args(argv)
    budget = target_budget(args.quick, args.scheme)
    if args.rounds is not None:
        if args.rounds < 1:
            raise SystemExit("--rounds must be at least 1")
        budget = replace(budget, rounds=args.rounds)
    name = run_name("hardening_updates", budget, args.quick)
    work = args.work or REPO_ROOT / "runs" / name
    claim_work(work, budget.target)
    out = args.out or REPO_ROOT / "benchmarks" / "results" / f"{name}.md"
    started = time.perf_counter()
    torch.set_num_threads(1)
    runs = train_runs(
        work,
        budget,
        {
            "substitute": TrainJob(
                "substitute_mix",
                "adv_substitute.yaml",
                budget.substitute_steps,
                (("scheme", budget.mixed),),
            ),
            "attacker": TrainJob(
                f"attacker_{ATTACKER}_mix",
                f"adv_attacker_{ATTACKER}.yaml",
                budget.attacker_steps,
                (("scheme", budget.mixed),),
            ),
        },
    )
    torch.set_num_threads(ANALYSIS_THREADS)  # after the two trainings: every core
    bench = Benchmark(budget, work, args.quick)
    chosen = protocol_settings(budget)
    unknown = set(args.protocols or ()) - set(chosen)
    if unknown:
        raise SystemExit(f"unknown protocols {sorted(unknown)}; known: {sorted(chosen)}")
    if args.protocols:
        chosen = {k: v for k, v in chosen.items() if k in args.protocols}
    results: dict[str, list[dict[str, float]]] = {}
    for up_to in range(1, budget.rounds + 1):  # round by round, so each protocol gets round 1
        for name, settings in chosen.items():
            results[name] = run_protocol(
                bench, name, settings, runs["substitute"], runs["attacker"], up_to
            )
    everything = protocol_settings(budget)
    for name in everything:  # protocols run by an earlier invocation in this --work
        saved = work / "rounds" / f"{name}.json"
        if name not in results and saved.exists():
            results[name] = json.loads(saved.read_text())
    report(out, budget, everything, results, (time.perf_counter() - started) / 60)


if __name__ == "__main__":
    main()
