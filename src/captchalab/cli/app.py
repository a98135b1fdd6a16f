"""The Typer app and the helpers its commands share."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

app = typer.Typer(
    help="captchalab: generate, train, evaluate and solve text captchas.\n\n"
    "Use it on captchas you own or are authorised to assess, for research, or for accessibility.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)


class LogProgress(Progress):
    """Progress for logs and pipes, where a live bar never shows: one plain line per task at
    its first update, then at most one every ``interval`` seconds, and one when it completes."""

    def __init__(self, interval: float = 10.0) -> None:
        super().__init__(console=console, disable=True)
        self.interval = interval
        self._logged: dict[TaskID, tuple[float, bool]] = {}

    def update(self, task_id: TaskID, **kwargs: Any) -> None:
        super().update(task_id, **kwargs)
        self._log(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._log(task_id)

    def _log(self, task_id: TaskID) -> None:
        task = self._tasks[task_id]
        info = str(task.fields.get("info", ""))
        done = task.total is not None and task.completed >= task.total
        now = time.monotonic()
        last, was_done = self._logged.get(task_id, (float("-inf"), False))
        if done == was_done and now - last < self.interval:
            return
        self._logged[task_id] = (now, done)
        total = f"/{task.total:.0f}" if task.total is not None else ""
        elapsed = f"{task.elapsed:.0f} s" if task.elapsed is not None else ""
        console.print(
            f"{task.description}: {task.completed:.0f}{total} {info} {elapsed}".rstrip(),
            highlight=False,
        )


def progress_bar() -> Progress:
    """A live bar on a terminal; periodic plain lines in logs and pipes."""
    if not console.is_terminal:
        return LogProgress()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
        console=console,
    )


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr, unwrapped (paths stay whole in logs), and return
    the exit to raise."""
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(2)
