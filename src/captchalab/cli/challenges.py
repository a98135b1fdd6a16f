"""``harden export-answers``: the answers the challenge service stored, as a labelled folder.

Attach it to the ``harden`` sub-app with ``harden_app.command("export-answers")(export_answers)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from captchalab.cli.app import console, fail, progress_bar


def export_answers(
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder to write (PNGs + labels.csv).")],
    since: Annotated[
        str,
        typer.Option(help="Answers from: a duration ago (30m, 24h, 7d) or an ISO time (UTC)."),
    ] = "7d",
    flagged_only: Annotated[
        bool,
        typer.Option(
            "--flagged-only", help="Only answers whose length differs from the challenge's."
        ),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option(
            help="Store URL (default: $CAPTCHALAB_DATABASE_URL, else sqlite:///captchalab.db)."
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a dataset already in --out.")] = False,
) -> None:
    """Export the answers clients gave to served challenges, the answer as label, for
    `harden finetune --answers DIR`.

    Examples:\n
      captchalab harden export-answers --since 24h -o answers/\n
      captchalab harden export-answers --since 2026-12-01T00:00 --flagged-only -o bots/
    """
    from captchalab.store import ChallengeStore, connect, migrate
    from captchalab.store.export import export_answers as export

    try:
        from captchalab.store.database import sqlite_file
        from captchalab.store.export import parse_since

        start = parse_since(since)
        path = sqlite_file(database)
        if path is not None and not path.is_file():
            raise ValueError(f"no store at {path}: pass --database or set CAPTCHALAB_DATABASE_URL")
        engine = connect(database)
        migrate(engine)  # a fresh or older store is brought up to date (nothing is dropped)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    try:
        with progress_bar() as bar:
            task = bar.add_task("exporting", total=None, info="")
            summary = export(
                ChallengeStore(engine),
                out,
                start,
                flagged_only=flagged_only,
                overwrite=overwrite,
                progress=lambda done: bar.update(task, completed=done),
            )
    except FileExistsError as exc:
        raise fail(str(exc)) from exc
    finally:
        engine.dispose()
    console.print(
        f"wrote {summary.written} answers ({summary.flagged} with an anomalous length) "
        f"since {start.isoformat(timespec='seconds')} to {summary.out_dir}"
        + (f"; skipped {summary.skipped_empty} empty" if summary.skipped_empty else "")
    )
