"""``captchalab audit``: one command, one report on how breakable a scheme is."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from captchalab.cli.app import app, console, fail, progress_bar


class _RichReporter:
    def __init__(self, progress: object) -> None:
        self.progress = progress
        self.task = progress.add_task("audit", total=None, info="")  # type: ignore[attr-defined]

    def plan(self, steps: int) -> None:
        self.progress.update(self.task, total=steps)  # type: ignore[attr-defined]

    def stage(self, label: str) -> None:
        self.progress.update(self.task, info=label)  # type: ignore[attr-defined]

    def step(self) -> None:
        self.progress.advance(self.task)  # type: ignore[attr-defined]


@app.command()
def audit(
    out: Annotated[Path, typer.Option("-o", "--out", help="Report folder (created).")],
    scheme: Annotated[
        str | None, typer.Option(help="Preset name (hku, digits5, ...) or a scheme .yaml.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Labelled folder of real captchas (labels.csv or names).")
    ] = None,
    budget: Annotated[
        str, typer.Option(help="tiny (<1 min), quick (<=15 min), full (<=2 h on 2 cores).")
    ] = "quick",
    model: Annotated[
        str, typer.Option(help="Attacker family: crnn, multihead, attention, or all.")
    ] = "crnn",
    compare: Annotated[
        str | None,
        typer.Option(help="A second scheme (preset, .yaml) or labelled folder for the report."),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Training seed; the same seed gives the same numbers.")
    ] = 0,
    threads: Annotated[
        int | None, typer.Option(help="torch threads per training run (default: all cores).")
    ] = None,
    factors: Annotated[
        str | None,
        typer.Option(help="Comma-separated sensitivity factors (default: the budget's)."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue a killed audit in OUT: reuse its finished training runs and resume "
            "the unfinished one from its last checkpoint.",
        ),
    ] = False,
) -> None:
    """Audit a scheme: cost to break, why it breaks, where models look, and what to change.

    Trains attackers on growing numbers of labelled captchas (from scratch and fine-tuned
    from the shipped default model), varies one factor of the scheme at a time, and writes
    OUT/report.html (self-contained), OUT/summary.md and OUT/metrics.json.

    Examples:\n
      captchalab audit --scheme hku -o audits/hku --budget quick\n
      captchalab audit --scheme configs/schemes/noisy_lines.yaml -o audits/noisy\n
      captchalab audit --data my_captchas/ -o audits/mine --compare hardened_captchas/\n
      captchalab audit --scheme hku -o audits/hku --budget full --resume   (after a kill)

    Training runs are kept in OUT/work until the report is written, so a killed audit
    loses at most the steps since its last checkpoint.
    """
    from captchalab.audit.budgets import get_budget
    from captchalab.audit.pipeline import MODELS, AuditOptions, run_audit
    from captchalab.audit.targets import folder_target, scheme_target
    from captchalab.audit.variants import FACTORS

    if (scheme is None) == (data is None):
        raise fail("give exactly one of --scheme or --data")
    try:
        chosen = get_budget(budget)
        models = MODELS if model == "all" else (model,)
        factor_list = tuple(f.strip() for f in factors.split(",")) if factors else None
        unknown = [f for f in factor_list or () if f not in FACTORS]
        if unknown:
            raise ValueError(f"unknown factors {unknown}; known: {', '.join(FACTORS)}")
        options = AuditOptions(chosen, models, seed, threads, factors=factor_list)
        targets = [scheme_target(scheme) if scheme else folder_target(data, chosen.test_size)]  # type: ignore[arg-type]
        if compare:
            other = Path(compare)
            targets.append(
                folder_target(other, chosen.test_size) if other.is_dir() else scheme_target(compare)
            )
    except (KeyError, ValueError, FileNotFoundError) as error:
        raise fail(str(error)) from error
    command = "captchalab " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["audit"] else ""
    try:
        with progress_bar() as progress:
            metrics = run_audit(
                targets, options, out, _RichReporter(progress), command, resume=resume
            )
    except (ValueError, FileNotFoundError) as error:
        raise fail(str(error)) from error
    for row in metrics["headline"]:
        console.print(
            f"{row['target']} / {row['curve']}: {100 * row['accuracy']:.1f}% with "
            f"{row['samples']} captchas; 90% needs {row['samples_90']}"
        )
    console.print(f"wrote {out / 'report.html'}, {out / 'summary.md'}, {out / 'metrics.json'}")
