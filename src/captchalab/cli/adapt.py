"""``captchalab adapt``: learn a site's scheme from its owner's checker, without labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from captchalab.cli.app import app, console, fail
from captchalab.errors import error_text


@app.command()
def adapt(
    images: Annotated[Path, typer.Option(help="Folder of the site's unlabelled captchas.")],
    check: Annotated[
        str,
        typer.Option(
            help="Your checker: a command run as CMD IMAGE ANSWER (exit 0 = accepted), or an "
            'http(s) URL that takes POST {"id", "answer"} and answers {"accepted": bool}.'
        ),
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Run folder (labels, rounds, model).")],
    init: Annotated[
        str, typer.Option(help="Start from 'default', a checkpoint folder or a run folder.")
    ] = "default",
    rounds: Annotated[int, typer.Option(min=1, help="Solve-check-fine-tune rounds.")] = 3,
    steps: Annotated[int, typer.Option(min=1, help="Fine-tuning steps per round.")] = 400,
    top_k: Annotated[
        int, typer.Option(min=1, help="Answers tried per rejected image and round (runner-ups).")
    ] = 1,
    budget: Annotated[
        int | None, typer.Option(min=0, help="Checker calls in all (default: no limit).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per fine-tuning step.")] = 32,
    lr: Annotated[float, typer.Option(help="Fine-tuning learning rate.")] = 5e-4,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default: all).")] = None,
    length: Annotated[
        str | None,
        typer.Option(
            help="The site's answer length (5, 4-6 or 4,6): answers of another length are "
            "never sent, and the best answer that fits is tried instead."
        ),
    ] = None,
) -> None:
    """Adapt a model to a site: solve every image, send each answer to YOUR checker, fine-tune
    on the accepted answers, repeat. The final model is OUT/model.onnx.

    Use only a checker you own or are authorised to use.

    Examples:\n
      captchalab adapt --images site/ --check ./check.sh -o runs/site --rounds 3\n
      captchalab adapt --images site/ --check http://127.0.0.1:9000/check -o runs/site --top-k 3\n
      captchalab adapt --images site/ --check ./check.sh -o runs/site --length 5
    """
    from captchalab.adapt import AdaptConfig, CheckerError, make_checker
    from captchalab.adapt import adapt as run_adapt
    from captchalab.objectives.lengths import parse_lengths

    try:
        checker = make_checker(check)
        lengths = parse_lengths(length) if length is not None else None
        config = AdaptConfig(
            rounds, steps, batch_size, lr, top_k, budget, threads=threads, lengths=lengths
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc

    def on_event(event: dict[str, Any]) -> None:
        console.print(
            f"round {event['round']}: {event['accepted_first']}/{event['solved']} accepted at "
            f"the first answer, {event['accepted_alternative']} at a runner-up; "
            f"{event['labels']}/{event['images']} labelled, {event['queries']} queries"
        )

    try:
        with console.status("adapting (solve, check, fine-tune)"):
            history = run_adapt(init, images, checker, out, config, on_event)
    except (CheckerError, FileNotFoundError, FileExistsError, ValueError) as exc:
        raise fail(error_text(exc)) from exc
    labelled = history[-1].labels if history else 0
    console.print(f"done: {labelled} images labelled; model in {out / 'model.onnx'}")
