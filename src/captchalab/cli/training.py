"""Commands that train and evaluate checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from captchalab.cli.app import app, console, fail, progress_bar
from captchalab.errors import error_text


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
    stop_at: Annotated[
        int | None,
        typer.Option(help="End at this step, the schedule still spanning --max-steps."),
    ] = None,
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
    val_size: Annotated[
        int | None, typer.Option(help="Validation images (rendered at the validation seed).")
    ] = None,
    eval_every: Annotated[int | None, typer.Option(help="Validate every this many steps.")] = None,
    checkpoint_every: Annotated[
        int | None, typer.Option(help="Save OUT/last every this many steps.")
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="torch intra-op threads (default: the config's, else all cores)."),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(
            help="float32, or bf16 autocast: about 2x faster on CPUs with AVX512-BF16/AMX and "
            "on GPUs, several times slower on AVX2-only CPUs (default: the config's, float32)."
        ),
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
            stop_at=stop_at,
            batch_size=batch_size,
            lr=lr,
            cache_size=cache_size,
            workers=workers,
            target_accuracy=target_accuracy,
            charset=charset,
            seed=seed,
            val_size=val_size,
            eval_every=eval_every,
            checkpoint_every=checkpoint_every,
            threads=threads,
            precision=precision,
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
            raise fail(error_text(exc)) from exc
    console.print(f"done: exact {metrics.get('exact_accuracy', 0):.2%}; checkpoints in {out}")


def _is_onnx(model: str) -> bool:
    from captchalab.inference.solver import SHIPPED_MODELS

    return model in SHIPPED_MODELS or model.lower().endswith(".onnx")


@app.command()
def evaluate(
    model: Annotated[
        str,
        typer.Argument(
            help="What to score: 'default' (the shipped model), an exported .onnx file "
            "(both through the Solver, calibration applied), or a torch checkpoint / run folder."
        ),
    ],
    scheme: Annotated[
        str | None, typer.Option(help="Scheme: evaluate on its fixed test seed.")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Labelled folder to evaluate on.")] = None,
    count: Annotated[
        int, typer.Option("-n", "--count", min=1, help="Test images rendered from the scheme.")
    ] = 2000,
    report: Annotated[
        Path | None, typer.Option(help="Write summary.md, metrics.json, confusion.png here.")
    ] = None,
) -> None:
    """Accuracy, character error rate, per-position accuracy and top confusions.

    An ONNX model is scored exactly as `solve` and the service answer (same preprocessing,
    calibrated confidences); a checkpoint is scored with torch.

    Examples:\n
      captchalab evaluate default --scheme mix -n 500\n
      captchalab evaluate model.onnx --data my_captchas/ --report reports/mine
    """
    from captchalab.evaluation import format_summary, write_report

    if (scheme is None) == (data is None):
        raise fail("give exactly one of --scheme or --data")
    try:
        if _is_onnx(model):
            from captchalab.evaluation.held_out import evaluate_solver, held_out_images
            from captchalab.inference import Solver
            from captchalab.training.config import TEST_SEED

            solver = Solver.load(model)
            images, labels = held_out_images(
                solver.preprocessing, solver.charset, TEST_SEED, scheme, data, count
            )
            result, examples = evaluate_solver(solver, images, labels)
        else:
            from captchalab.training.scoring import evaluate_checkpoint

            result, examples = evaluate_checkpoint(
                Path(model), scheme=scheme, data=data, count=count
            )
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise fail(error_text(exc)) from exc
    print(format_summary(result))
    if report:
        path = write_report(result, report, title=f"{model} on {scheme or data}", examples=examples)
        console.print(f"report written to {path}")


@app.command()
def calibrate(
    model: Annotated[
        str,
        typer.Argument(help="'default', 'default-int8' (faster, int8) or an exported .onnx file."),
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Calibrated .onnx file to write.")],
    scheme: Annotated[
        str | None,
        typer.Option(help="Fit on this scheme's validation-seed images (never its test set)."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Fit on this labelled folder (held-out captchas).")
    ] = None,
    count: Annotated[
        int, typer.Option("-n", "--count", min=1, help="Images rendered from the scheme.")
    ] = 2000,
) -> None:
    """Fit the confidence temperature so a confidence of 0.9 means right 9 times in 10.

    Writes a copy of MODEL with the temperature in its metadata (every Solver, `solve` and
    the service apply it) and prints the reliability table before and after. Fit on a few
    hundred captchas like the ones the model will meet, not on its training images.

    Examples:\n
      captchalab calibrate default --scheme mix -o calibrated.onnx\n
      captchalab calibrate model.onnx --data held_out/ -o model.onnx
    """
    from captchalab.evaluation.format import format_reliability
    from captchalab.evaluation.held_out import calibrate_model, held_out_images
    from captchalab.inference import Solver
    from captchalab.training.config import VALIDATION_SEED

    if (scheme is None) == (data is None):
        raise fail("give exactly one of --scheme or --data")
    try:
        solver = Solver.load(model)
        images, labels = held_out_images(
            solver.preprocessing, solver.charset, VALIDATION_SEED, scheme, data, count
        )
        calibration = calibrate_model(model, out, images, labels)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise fail(error_text(exc)) from exc
    print(format_reliability(calibration.before, calibration.after))
    print(
        f"{calibration.count} images, accuracy {calibration.accuracy:.2%}; "
        f"expected calibration error {calibration.ece_before:.3f} -> {calibration.ece_after:.3f}"
    )
    print(f"temperature {calibration.temperature:.2f} written to {calibration.path}")
