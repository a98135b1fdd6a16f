"""Commands about schemes, models and generated data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from captchalab.cli.app import app, console, fail, progress_bar
from captchalab.errors import error_text


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
    shard: Annotated[
        str | None,
        typer.Option(
            help="I/N: write only slice I (0 to N-1) of the N-COUNT images, e.g. one per "
            "Kubernetes Indexed Job pod into a shared folder; the last shard to finish writes "
            "labels.csv, and the folder is then byte-identical to one unsharded run."
        ),
    ] = None,
) -> None:
    """Write N labelled captchas of a scheme as PNG files plus labels.csv."""
    from captchalab.schemes import get_scheme
    from captchalab.schemes.generate import LABELS_FILE, generate_dataset
    from captchalab.schemes.shards import Shard

    try:
        resolved = get_scheme(scheme)
        part = Shard.parse(shard) if shard is not None else None
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise fail(error_text(exc)) from exc
    total = len(part.indices(count)) if part else count
    with progress_bar() as bar:
        task = bar.add_task(f"generate {resolved.name}", total=total, info="")
        try:
            generate_dataset(
                scheme,
                count,
                out,
                seed,
                workers=workers,
                overwrite=overwrite,
                progress=lambda done: bar.update(task, completed=done),
                shard=part,
            )
        except (FileExistsError, ValueError) as exc:
            raise fail(str(exc)) from exc
    if part is None:
        console.print(f"wrote {count} images and labels.csv to {out}")
    else:
        done = "; all shards are in: labels.csv written" if (out / LABELS_FILE).exists() else ""
        console.print(f"wrote shard {part} ({total} of {count} images) to {out}{done}")
