"""Shared by the benchmark scripts: paths, machine description, markdown tables."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEME_FILES = REPO_ROOT / "configs" / "schemes"
# Third-party data lives beside the repository, never in it (see its README).
KAGGLE_DIR = REPO_ROOT.parent / "shared" / "data" / "kaggle_captcha_v2"


def display_path(path: str | Path) -> str:
    """Relative to the repository when in it or beside it (``../shared/...``), else absolute,
    so reports do not depend on where the repository was checked out."""
    resolved = Path(path).resolve()
    if resolved.is_relative_to(REPO_ROOT.parent):
        return os.path.relpath(resolved, REPO_ROOT)
    return str(resolved)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_lines(packages: Sequence[str] = ()) -> list[str]:
    """Markdown bullet lines describing this machine and the relevant package versions."""
    lines = [
        f"- CPU: {cpu_model()}; {usable_cores()} usable cores "
        f"({os.cpu_count()} online); memory {memory_gib()}",
        f"- OS: {platform.platform()}; Python {sys.version.split()[0]}",
    ]
    if packages:
        versions = ", ".join(f"{name} {package_version(name)}" for name in packages)
        lines.append(f"- packages: {versions}")
    return lines


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def command_line() -> str:
    return " ".join(["python", *sys.argv])


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def publish(text: str, out: Path) -> None:
    """Write a markdown result to ``out`` (creating its folder) and echo it to stdout."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
