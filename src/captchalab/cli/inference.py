"""Commands that export models and solve images."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from captchalab.cli.app import app, console, fail
from captchalab.errors import error_text


class CaseOption(str, Enum):
    sensitive = "sensitive"
    insensitive = "insensitive"


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help="Checkpoint folder or run folder.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="ONNX file to write.")],
    check: Annotated[
        bool, typer.Option(help="Compare ONNX Runtime with torch on a few images.")
    ] = True,
    opset: Annotated[int, typer.Option(help="ONNX opset version.")] = 17,
    int8: Annotated[
        bool,
        typer.Option(
            "--int8",
            help="Write int8 weights for the LSTM and dense layers: about 3x smaller and faster "
            "on CPU. The check then counts how often it reads what the float model reads.",
        ),
    ] = False,
    min_agreement: Annotated[
        float,
        typer.Option(help="With --int8: fail when fewer answers than this share agree (0-1)."),
    ] = 0.8,
) -> None:
    """Export a checkpoint to a self-describing ONNX file (for `solve` and the service).

    Examples:

      captchalab export runs/hku -o hku.onnx

      captchalab export runs/hku -o hku-int8.onnx --int8   # smaller, faster; check agreement
    """
    import shutil
    import tempfile

    from captchalab.training.export import check_parity, export_onnx, parity_images

    with tempfile.TemporaryDirectory() as scratch:
        float_path = Path(scratch) / "float.onnx" if int8 else out
        try:
            path = export_onnx(checkpoint, float_path, opset=opset)
        except (ValueError, FileNotFoundError, KeyError) as exc:
            raise fail(error_text(exc)) from exc
        if check:
            report = check_parity(checkpoint, path, parity_images(checkpoint))
            print(report.describe())
            if not report.ok():
                raise typer.Exit(1)
        if int8:
            from captchalab.training.quantize import check_agreement, quantize_onnx

            path = quantize_onnx(float_path, Path(scratch) / "int8.onnx")
            if check:
                agreement = check_agreement(float_path, path, parity_images(checkpoint, 200))
                print(
                    f"int8 agrees with float on {agreement.agreeing} of "
                    f"{agreement.num_images} images ({agreement.rate:.1%}): "
                    f"{'ok' if agreement.ok(min_agreement) else 'FAILED'}"
                )
                if not agreement.ok(min_agreement):
                    raise typer.Exit(1)  # nothing written: the float and int8 files were scratch
            out.parent.mkdir(parents=True, exist_ok=True)
            path = Path(shutil.move(path, out))
    print(f"wrote {path}")


@app.command()
def quantize(
    model: Annotated[Path, typer.Argument(help="An exported captchalab .onnx file.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="int8 ONNX file to write.")],
) -> None:
    """Write an int8 copy of an exported model: LSTM and dense weights in 8 bits.

    About 3x smaller and 1.3-1.5x faster on CPU; a few answers change (the shipped
    default-int8 model is this of the default: docs/model-card.md). The metadata (charset,
    decoder, preprocessing, temperature) is kept, so the copy works wherever the float model
    does.

    Example:

      captchalab quantize site.onnx -o site-int8.onnx

      captchalab solve --model site-int8.onnx captcha.png
    """
    from captchalab.training.quantize import quantize_onnx

    try:
        path = quantize_onnx(model, out)
    except ImportError as exc:  # onnxruntime's quantiser needs onnx, part of the train extra
        raise fail(
            f"quantize needs the onnx package: pip install 'captchalab[train]' ({exc})"
        ) from exc
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from exc
    size = path.stat().st_size / 1e6
    print(f"wrote {path} ({size:.1f} MB, from {model.stat().st_size / 1e6:.1f} MB)")


@app.command()
def solve(
    paths: Annotated[
        list[str], typer.Argument(help="Image files, folders (their images), or - for stdin.")
    ],
    model: Annotated[
        str,
        typer.Option(help="'default', 'default-int8' (faster, int8) or an exported .onnx file."),
    ] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    combine: Annotated[
        bool, typer.Option("--vote", help="All inputs show one captcha: print one answer.")
    ] = False,
    symbols: Annotated[
        str | None,
        typer.Option(help="Answer only with these symbols, e.g. @digits or 2345678bcdefgmnpwxy."),
    ] = None,
    case: Annotated[
        CaseOption,
        typer.Option(
            help="'insensitive' for sites that ignore case: both cases of a letter count "
            "together and answers are lower case; 'sensitive' reads case as the model does.",
        ),
    ] = CaseOption.sensitive,
    length: Annotated[
        str | None,
        typer.Option(
            help="Answer only with texts of this many characters: 5, 4-6 or 4,6 (a site's "
            "fixed length). An answer of another length gives way to the most probable one "
            "that fits. CTC and fixed-length models.",
        ),
    ] = None,
    second_look: Annotated[
        bool,
        typer.Option(
            "--second-look",
            help="Read other views of a captcha the model is unsure of (a border, contrast "
            "stretched, a median filter, inverted, half and twice the size, a light blur) and "
            "keep the most confident answer. Costs nothing on confident answers and about "
            "eight model runs on an unsure one; on the benchmark it adds a few points "
            "(docs/model-card.md).",
        ),
    ] = False,
    look_below: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="With --second-look: the confidence below which an answer is looked at again.",
        ),
    ] = 0.5,
) -> None:
    """Solve captchas: prints file<TAB>text<TAB>confidence (exit 1 if any input failed).

    Examples:\n
      captchalab solve captcha.png\n
      captchalab solve captchas/ --symbols @digits --json\n
      captchalab solve captchas/ --case insensitive\n
      captchalab solve captchas/ --symbols 2345678bcdefgmnpwxy --length 5\n
      captchalab solve hard.png --second-look\n
      curl -s https://example.org/captcha | captchalab solve - --json
    """
    import json

    import click

    from captchalab.charset import resolve_symbols
    from captchalab.inference import Solver, vote
    from captchalab.inference.inputs import STDIN, expand_inputs

    try:
        solver = Solver.load(model)
        if symbols:
            solver = solver.restricted(resolve_symbols(symbols))
        if case is CaseOption.insensitive:
            solver = solver.case_insensitive()
        if length is not None:
            solver = solver.with_lengths(length)
        if second_look:
            solver = solver.with_second_look(look_below)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc
    names = expand_inputs(paths)
    if not names:
        raise fail(f"no images found in {', '.join(paths)}")
    stdin = click.open_file(STDIN, "rb")  # click 8.5 deprecates get_binary_stream
    sources = [stdin.read() if n == STDIN else n for n in names]
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
            help="NAME=PATH (or PATH, named after its file) of an ONNX model, or 'default'; "
            "repeat for several (default: CAPTCHALAB_MODELS, else the shipped model).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(envvar="CAPTCHALAB_HOST", help="Interface to bind; 0.0.0.0 exposes it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CAPTCHALAB_PORT", help="TCP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes; one per core serves the most requests. The rate limits are split "
            "between them (default: CAPTCHALAB_WORKERS, else 1).",
            show_default=False,
        ),
    ] = None,
    batching: Annotated[
        bool | None,
        typer.Option(
            help="Micro-batch concurrent requests (default: CAPTCHALAB_BATCHING, else on).",
            show_default=False,
        ),
    ] = None,
    challenges: Annotated[
        Path | None,
        typer.Option(
            help="Challenge file (YAML: scheme, ttl_s, pool_size, optional hardening): also "
            "serve POST /v1/challenges and /v1/challenges/{id}/answer, storing every answer "
            "in CAPTCHALAB_DATABASE_URL (default sqlite:///captchalab.db). See docs/api.md."
        ),
    ] = None,
) -> None:
    """Serve the HTTP API and the web page (drag, drop or paste a captcha).

    A flag wins over its CAPTCHALAB_* environment variable, which wins over the default.\n
    API keys, rate limits, trusted proxies, CORS and upload limits: CAPTCHALAB_* variables
    (see docs/api.md).
    """
    from pydantic import ValidationError

    from captchalab.service.server import build_settings, run

    try:
        models = model_options(model) if model else None
        settings = build_settings(
            models, workers, batching=batching, challenges=str(challenges) if challenges else None
        )
        if challenges is not None:
            from captchalab.service.challenges import load_challenge_config
            from captchalab.store import connect

            load_challenge_config(challenges)  # a bad file fails here, with its reason
            connect(settings.database_url).dispose()  # and so does a bad database URL
    except (ValueError, ValidationError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"serving {', '.join(settings.models)} on http://{host}:{port}/")
    if challenges is not None:
        console.print(f"challenges from {challenges} at http://{host}:{port}/v1/challenges")
    run(
        models,
        host,
        port,
        workers,
        batching=batching,
        challenges=str(challenges) if challenges is not None else None,
    )


def model_options(items: list[str]) -> dict[str, str]:
    """``--model`` values -> {name: path}: ``NAME=PATH``, or a bare ``PATH`` / ``default``
    named after its file."""
    models: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = Path(item).stem, item
        if not name or not path:
            raise ValueError(f"--model takes NAME=PATH or PATH, got {item!r}")
        if name in models:
            raise ValueError(f"--model: two models are named {name!r}; use NAME=PATH")
        models[name] = path
    return models
