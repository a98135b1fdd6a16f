"""The peer benchmark lists every held-out scheme file and can be limited to some sets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_sets import set_builders  # noqa: E402
from peers import build_sets, parse_args  # noqa: E402
from rich.progress import Progress  # noqa: E402

HELDOUT = sorted(path.stem for path in (REPO / "configs" / "schemes").glob("heldout_*.yaml"))


def test_every_heldout_scheme_is_a_benchmark_set() -> None:
    names = [name for name, _ in set_builders(1, None, None, lambda _: None)]
    assert set(HELDOUT) <= set(names) and len(HELDOUT) >= 15


def test_sets_option_builds_only_the_matching_sets() -> None:
    args = parse_args(["--sets", "heldout_w*", "heldout_tall", "--count", "2", "--no-kaggle"])
    with Progress(disable=True) as bar:
        sets = build_sets(args, bar, lambda _: None)
    assert sorted(s.name for s in sets) == ["heldout_tall", "heldout_wavy", "heldout_wide"]
    wide = next(s for s in sets if s.name == "heldout_wide")
    assert len(wide.images) == len(wide.labels) == 2 and wide.case_sensitive


def test_sets_option_matching_nothing_is_an_error() -> None:
    args = parse_args(["--sets", "no_such_set", "--no-kaggle"])
    with Progress(disable=True) as bar, pytest.raises(SystemExit, match="no test set matches"):
        build_sets(args, bar, lambda _: None)
