"""Commands that train and evaluate checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from captchalab.cli.app import app, console, fail, progress_bar


@app.command()
def train(
    out: Annotated[Path, typer.Option("-o", "--out", help="Run folder (checkpoints, metrics).")],
    scheme: Annotated[str | None, typer.Option(help="Scheme to render training data from.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Model family: multihead, crnn, attention.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML experiment file; flags override it.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Labelled folder to train on (labels.csv or names).")
    ] = None,
    init: Annotated[
        str | None, typer.Option(help="Fine-tune from a checkpoint folder, or 'default'.")
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="Optimiser steps.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Images per step.")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    cache_size: Annotated[
        int | None, typer.Option(help="Pre-render this many images (0: render on the fly).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="DataLoader processes rendering samples on the fly (0: in-process)."),
    ] = None,
    target_accuracy: Annotated[
        float | None, typer.Option(help="Stop once validation accuracy reaches this.")
    ] = None,
    charset: Annotated[
        str | None, typer.Option(help="Symbols, or @name (digits, alnum, hku, ...).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Training data and init seed.")] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue from OUT/last after an interruption.")
    ] = False,
    device: Annotated[
        str | None, typer.Option(help="cpu, cuda, cuda:1 (default: cuda if present).")
    ] = None,
) -> None:
    """Train a recogniser on a scheme or a labelled folder (runs under torchrun unchanged).

    Examples:\n
      captchalab train --scheme hku --model crnn -o runs/hku --max-steps 20000\n
      captchalab train --init default --data my_captchas/ -o runs/mine --max-steps 600
    """
    from captchalab.training.config import TrainConfig, load_config
    from captchalab.training.trainer import RunExistsError
    from captchalab.training.trainer import train as run_training

    try:
        base = (
            load_config(config)
            if config
            else TrainConfig(scheme=None if data else "hku", data=str(data) if data else None)
        )
        settings = base.updated(
            scheme=scheme,
            model=model,
            data=str(data) if data else None,
            init=init,
            max_steps=max_steps,
            batch_size=batch_size,
            lr=lr,
            cache_size=cache_size,
            workers=workers,
            target_accuracy=target_accuracy,
            charset=charset,
            seed=seed,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from exc
    with progress_bar() as bar:
        tasks: dict[str, Any] = {}
        step_task = bar.add_task("train", total=settings.max_steps, info="")

        def on_progress(task: str, advance: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total or None, info="")
            bar.advance(tasks[task], advance)

        def on_event(event: dict[str, Any]) -> None:
            if event["event"] == "step":
                info = (
                    f"loss {event['loss']:.3f} lr {event['lr']:.1e} "
                    f"{event['images_per_s']:.0f} img/s"
                )
                bar.update(step_task, completed=event["step"], info=info)
                if not bar.console.is_terminal and event["step"] % 100 == 0:
                    bar.console.print(f"step {event['step']}/{settings.max_steps}: {info}")
            else:
                bar.console.print(
                    f"step {event['step']}: exact {event['exact_accuracy']:.2%} "
                    f"CER {event['character_error_rate']:.3f} (best {event['best']:.2%})"
                )

        try:
            metrics = run_training(
                settings, out, resume=resume, on_event=on_event, progress=on_progress, device=device
            )
        except (RunExistsError, ValueError, FileNotFoundError, KeyError) as exc:
            raise fail(str(exc).strip("'\"")) from exc
    console.print(f"done: exact {metrics.get('exact_accuracy', 0):.2%}; checkpoints in {out}")


@app.command()
def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="Checkpoint folder or run folder.")],
    scheme: Annotated[
        str | None, typer.Option(help="Scheme: evaluate on its fixed test seed.")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Labelled folder to evaluate on.")] = None,
    count: Annotated[
        int, typer.Option("-n", "--count", help="Test images rendered from the scheme.")
    ] = 2000,
    report: Annotated[
        Path | None, typer.Option(help="Write summary.md, metrics.json, confusion.png here.")
    ] = None,
) -> None:
    """Accuracy, character error rate, per-position accuracy and top confusions."""
    from captchalab.evaluation import format_summary, write_report
    from captchalab.training.scoring import evaluate_checkpoint

    if (scheme is None) == (data is None):
        raise fail("give exactly one of --scheme or --data")
    try:
        result, examples = evaluate_checkpoint(checkpoint, scheme=scheme, data=data, count=count)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    print(format_summary(result))
    if report:
        path = write_report(
            result, report, title=f"{checkpoint} on {scheme or data}", examples=examples
        )
        console.print(f"report written to {path}")
