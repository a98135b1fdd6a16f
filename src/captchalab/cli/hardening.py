"""``captchalab harden``: adversarial captchas against a substitute solver, and its fine-tuning.

``harden_app`` is a Typer sub-app so that other modules can attach more ``harden`` commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from captchalab.cli.app import app, console, fail, progress_bar
from captchalab.cli.challenges import export_answers
from captchalab.errors import error_text

harden_app = typer.Typer(
    help="Harden captchas against deep-learning solvers (advCAPTCHA).\n\n"
    "Without a sub-command: write N hardened captchas of a scheme. The perturbation is "
    "optimised against a substitute checkpoint on the served 8-bit PNG, within an L-inf budget "
    "(--linf, on [0, 1] pixels) and an L0 budget (--l0 changed pixels), inside a mask. "
    "See docs/hardening.md for the whole loop.",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(harden_app, name="harden")


@harden_app.callback(invoke_without_command=True)
def harden(
    ctx: typer.Context,
    scheme: Annotated[
        str | None, typer.Option(help="Scheme to protect (preset name or .yaml file).")
    ] = None,
    substitute: Annotated[
        list[Path] | None,
        typer.Option(
            help="Substitute checkpoint (or run folder) to attack. Repeat it for an ensemble: "
            "the perturbation then fools every member at once, and transfers better to "
            "solvers it has never seen."
        ),
    ] = None,
    count: Annotated[int, typer.Option("-n", "--count", min=1, help="Captchas to write.")] = 100,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Output folder (PNGs + labels.csv).")
    ] = None,
    method: Annotated[
        str, typer.Option(help="mixture (Algorithm 1: k masks, each L-inf or L0), linf or l0.")
    ] = "mixture",
    iterative: Annotated[
        bool, typer.Option("--iterative/--direct", help="s small steps, or one step of eps.")
    ] = True,
    linf: Annotated[float, typer.Option(help="L-inf budget on [0, 1] pixels (<= 0.3).")] = 0.3,
    l0: Annotated[int, typer.Option(help="L0 budget: pixels changed (<= 100).")] = 100,
    mask: Annotated[
        str,
        typer.Option(
            help="background (away from glyph ink), glyph (the ink and the pixels near it: "
            "high SSIM, survives binarisation; L0 stays in the background), full, or an area "
            "like 0.25."
        ),
    ] = "background",
    masks: Annotated[int, typer.Option(help="Non-overlapping masks of the mixture method.")] = 4,
    steps: Annotated[int, typer.Option(help="Iterative steps (alpha = eps / steps).")] = 10,
    momentum: Annotated[float, typer.Option(help="Momentum of the iterative method.")] = 0.0,
    jpeg_quality: Annotated[
        int | None, typer.Option(help="Also survive a JPEG re-encode at this quality.")
    ] = None,
    smooth: Annotated[
        float,
        typer.Option(
            help="Gaussian sigma (pixels) on the L-inf gradient: blobs instead of speckle, "
            "kinder to SSIM on flat backgrounds (0 = off)."
        ),
    ] = 0.0,
    diversity: Annotated[
        float,
        typer.Option(
            help="Probability that a step takes its gradient through a random shrink-and-shift "
            "of the substitute's input: transfers better to unseen solvers (0 = off)."
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes identical files.")] = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    overwrite: Annotated[bool, typer.Option(help="Replace a labelled set in OUT.")] = False,
) -> None:
    """Write N hardened captchas of a scheme (PNG + labels.csv), reproducibly by seed.

    Examples:\n
      captchalab harden --scheme merged4 --substitute runs/substitute -n 500 -o hardened/\n
      captchalab harden --scheme merged4 --substitute runs/crnn --substitute runs/multihead \\

        -n 500 -o hardened/   (an ensemble of two substitutes)\n
      captchalab harden --scheme merged4 --substitute runs/substitute -n 100 -o h/ \\

        --method linf --mask full --linf 0.1 --direct
    """
    if ctx.invoked_subcommand is not None:
        return
    if scheme is None or not substitute or out is None:
        console.print(ctx.get_help())
        raise fail("give --scheme, --substitute and -o/--out (or a sub-command)")
    from captchalab.adversarial import Hardener, HardeningSettings
    from captchalab.adversarial.generate import harden_dataset

    try:
        settings = HardeningSettings(
            method=method,
            iterative=iterative,
            linf=linf,
            l0=l0,
            mask=mask,
            masks=masks,
            steps=steps,
            momentum=momentum,
            jpeg_quality=jpeg_quality,
            smooth=smooth,
            diversity=diversity,
        )
        hardener = Hardener.load(substitute, settings, device=device)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise fail(error_text(exc)) from exc
    with progress_bar() as bar:
        task = bar.add_task("harden", total=count, info=f"{method} {mask}")
        try:
            labels = harden_dataset(
                scheme,
                hardener,
                count,
                out,
                seed=seed,
                overwrite=overwrite,
                progress=lambda done: bar.update(task, completed=done),
            )
        except (ValueError, FileExistsError, KeyError) as exc:
            raise fail(error_text(exc)) from exc
    console.print(f"wrote {count} hardened captchas and {labels.name} to {out}")


@harden_app.command("finetune")
def finetune(
    substitute: Annotated[Path, typer.Option(help="Substitute checkpoint to start from.")],
    answers: Annotated[
        Path, typer.Option(help="Labelled folder of served captchas, attackers' answers as labels.")
    ],
    original: Annotated[
        str, typer.Option(help="Scheme the substitute was trained on (kept readable).")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Run folder (writes best/).")],
    lam: Annotated[
        str, typer.Option("--lambda", help="Weight of the original-scheme loss, or 'auto'.")
    ] = "auto",
    floor: Annotated[
        float | None,
        typer.Option(help="With auto: keep original accuracy >= this (default 90% of start)."),
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimiser steps.")] = 300,
    batch_size: Annotated[int, typer.Option(min=1, help="Queries (and originals) per step.")] = 32,
    lr: Annotated[float, typer.Option(help="Learning rate (AdamW).")] = 3e-4,
    original_size: Annotated[
        int, typer.Option(min=1, help="Original-scheme captchas rendered for the second term.")
    ] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of batches and original samples.")] = 0,
    rehearse: Annotated[
        Path | None,
        typer.Option(
            help="Also fit captchas you hardened yourself, with their true labels (the output "
            "of `captchalab harden -o DIR`): the substitute takes the step an attacker who "
            "retrains on hardened captchas takes, before the next hardening."
        ),
    ] = None,
) -> None:
    """Fine-tune the substitute on attackers' answers: minimise L(queries) + lambda L(original).

    Example:\n
      captchalab harden finetune --substitute runs/substitute --answers answers/ \\

        --original merged4+mix -o runs/substitute_ft

    Against attackers who retrain on hardened captchas, add a rehearsal set:\n
      captchalab harden --scheme merged4 --substitute runs/substitute/best -n 600 -o rehearse/\n
      captchalab harden finetune ... --rehearse rehearse/
    """
    from captchalab.adversarial.finetune import FinetuneSettings, parse_lambda
    from captchalab.adversarial.finetune import finetune as run_finetune

    try:
        settings = FinetuneSettings(
            lam=parse_lambda(lam),
            floor=floor,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            eval_every=max(1, min(50, steps)),
            original_size=original_size,
            val_size=min(300, original_size),
            seed=seed,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    with progress_bar() as bar:
        task = bar.add_task("finetune", total=steps, info="")

        def on_progress(step: int, weight: float, accuracy: float) -> None:
            bar.update(task, completed=step, info=f"lambda {weight:.3g} original {accuracy:.1%}")

        try:
            report = run_finetune(
                substitute, answers, original, out, settings, on_progress, rehearse=rehearse
            )
        except (ValueError, FileNotFoundError, FileExistsError, KeyError) as exc:
            raise fail(error_text(exc)) from exc
    console.print(
        f"done: original accuracy {report.start_accuracy:.1%} -> {report.final_accuracy:.1%} "
        f"(floor {report.floor:.1%}), fits {report.query_fit:.1%} of {report.queries} answers "
        f"({report.skipped} skipped"
        + (f", {report.rehearsal} rehearsal captchas fitted beside them" if rehearse else "")
        + f"); checkpoint in {out / 'best'}"
    )


# `harden export-answers`: the challenge store's answers -> a labelled folder for `finetune`.
harden_app.command("export-answers")(export_answers)
