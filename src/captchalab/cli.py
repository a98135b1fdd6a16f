"""``captchalab`` command line: each command parses, calls one library function, prints."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

app = typer.Typer(
    help="captchalab: generate, train, evaluate and solve text captchas.\n\n"
    "Use it on captchas you own or are authorised to assess, for research, or for accessibility.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
        console=console,
    )


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


@app.command()
def schemes() -> None:
    """List the preset captcha schemes."""
    from captchalab.schemes import get_scheme, list_schemes

    for name in list_schemes():
        s = get_scheme(name)
        lengths = f"{s.min_length}-{s.max_length}" if not s.fixed_length else str(s.min_length)
        print(f"{name:10} {s.width}x{s.height}  length {lengths:5} {len(s.charset)} symbols")


@app.command()
def models() -> None:
    """List the model families and the objective each is trained with."""
    from captchalab.models import list_models, model_entry

    for name in list_models():
        entry = model_entry(name)
        print(f"{name:10} {entry.objective:13} {entry.description}")


@app.command()
def generate(
    scheme: Annotated[
        str, typer.Option(help="Preset name (see `captchalab schemes`) or a scheme .yaml file.")
    ],
    count: Annotated[int, typer.Option("-n", "--count", min=1, help="Number of images.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder (PNGs + labels.csv).")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes byte-identical files.")] = 0,
    workers: Annotated[int | None, typer.Option(help="Processes (default: all cores).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing labelled set.")] = False,
) -> None:
    """Write N labelled captchas of a scheme as PNG files plus labels.csv."""
    from captchalab.schemes import get_scheme
    from captchalab.schemes.generate import generate_dataset

    try:
        resolved = get_scheme(scheme)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc).strip("'\"")) from exc
    with _progress() as bar:
        task = bar.add_task(f"generate {resolved.name}", total=count, info="")
        try:
            generate_dataset(
                scheme,
                count,
                out,
                seed,
                workers=workers,
                overwrite=overwrite,
                progress=lambda done: bar.update(task, completed=done),
            )
        except FileExistsError as exc:
            raise _fail(str(exc)) from exc
    console.print(f"wrote {count} images and labels.csv to {out}")


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
            target_accuracy=target_accuracy,
            charset=charset,
            seed=seed,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    with _progress() as bar:
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
            raise _fail(str(exc).strip("'\"")) from exc
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
    from captchalab.training.evaluate import evaluate_checkpoint

    if (scheme is None) == (data is None):
        raise _fail("give exactly one of --scheme or --data")
    try:
        result, examples = evaluate_checkpoint(checkpoint, scheme=scheme, data=data, count=count)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise _fail(str(exc).strip("'\"")) from exc
    print(format_summary(result))
    if report:
        path = write_report(
            result, report, title=f"{checkpoint} on {scheme or data}", examples=examples
        )
        console.print(f"report written to {path}")


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help="Checkpoint folder or run folder.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="ONNX file to write.")],
    check: Annotated[
        bool, typer.Option(help="Compare ONNX Runtime with torch on a few images.")
    ] = True,
    opset: Annotated[int, typer.Option(help="ONNX opset version.")] = 17,
) -> None:
    """Export a checkpoint to a self-describing ONNX file (for `solve` and the service)."""
    from captchalab.inference.export import check_parity, export_onnx, parity_images

    try:
        path = export_onnx(checkpoint, out, opset=opset)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise _fail(str(exc).strip("'\"")) from exc
    print(f"wrote {path}")
    if check:
        report = check_parity(checkpoint, path, parity_images(checkpoint))
        print(
            f"parity on {report.num_images} images: max |torch - onnx| "
            f"{report.max_abs_diff:.2e}, texts {'equal' if report.texts_equal else 'DIFFER'}: "
            f"{'ok' if report.ok() else 'FAILED'}"
        )
        if not report.ok():
            raise typer.Exit(1)


@app.command()
def solve(
    paths: Annotated[
        list[str], typer.Argument(help="Image files, folders (their images), or - for stdin.")
    ],
    model: Annotated[str, typer.Option(help="'default' or an exported .onnx file.")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    combine: Annotated[
        bool, typer.Option("--vote", help="All inputs show one captcha: print one answer.")
    ] = False,
) -> None:
    """Solve captchas: prints file<TAB>text<TAB>confidence (exit 1 if any input failed).

    Examples:\n
      captchalab solve captcha.png\n
      curl -s https://example.org/captcha | captchalab solve - --json
    """
    import json

    import click

    from captchalab.inference import Solver, vote
    from captchalab.inference.inputs import STDIN, expand_inputs

    try:
        solver = Solver.load(model)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    names = expand_inputs(paths)
    if not names:
        raise _fail(f"no images found in {', '.join(paths)}")
    sources = [click.get_binary_stream("stdin").read() if n == STDIN else n for n in names]
    solved: list[tuple[str, Any]] = []
    for name, result in zip(names, solver.solve_each(sources), strict=True):
        if isinstance(result, Exception):
            message = "no such file" if isinstance(result, FileNotFoundError) else str(result)
            typer.echo(f"{name}\terror: {message}", err=True)
            if as_json:
                print(json.dumps({"file": name, "error": message}))
            continue
        solved.append((name, result))
        if not combine:
            row = {"file": name, "text": result.text, "confidence": round(result.confidence, 6)}
            print(json.dumps(row) if as_json else f"{name}\t{result.text}\t{result.confidence:.4f}")
    if combine and solved:
        answer = vote([prediction for _, prediction in solved])
        files = [name for name, _ in solved]
        row = {"files": files, "text": answer.text, "confidence": round(answer.confidence, 6)}
        print(json.dumps(row) if as_json else f"{answer.text}\t{answer.confidence:.4f}")
    if len(solved) < len(names):
        raise typer.Exit(1)


@app.command()
def serve(
    model: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=PATH of an ONNX model; repeat for several (default: the shipped model)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind; 0.0.0.0 exposes it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes (1 + micro-batching is best).")
    ] = 1,
    batching: Annotated[bool, typer.Option(help="Micro-batch concurrent requests.")] = True,
) -> None:
    """Serve the HTTP API and the web page (drag, drop or paste a captcha).

    More settings (API keys, rate limits, CORS, upload limits) come from CAPTCHALAB_*
    environment variables; see docs/api.md.
    """
    from captchalab.service.server import run

    models: dict[str, str] = {}
    for item in model or ["default=default"]:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise _fail(f"--model takes NAME=PATH, got {item!r}")
        models[name] = path
    console.print(f"serving {', '.join(models)} on http://{host}:{port}/")
    run(models, host, port, workers, batching=batching)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
