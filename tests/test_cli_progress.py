"""Progress in logs and pipes: a plain line at the start, throttled, and at completion."""

from __future__ import annotations

import pytest

from captchalab.cli.app import LogProgress, progress_bar


def test_log_progress_prints_start_and_completion(capsys: pytest.CaptureFixture[str]) -> None:
    progress = LogProgress(interval=3600)
    with progress:
        task = progress.add_task("train", total=10, info="")
        for step in range(10):
            progress.update(task, info=f"loss {10 - step}")
            progress.advance(task)
    lines = capsys.readouterr().err.strip().splitlines()
    # the first update and the completed task; nothing between within the interval
    assert [line.split(" ")[1] for line in lines] == ["0/10", "10/10"]
    assert "loss 10" in lines[0] and "loss 1" in lines[1]


def test_log_progress_repeats_after_interval(capsys: pytest.CaptureFixture[str]) -> None:
    progress = LogProgress(interval=0)
    with progress:
        task = progress.add_task("render", total=3, info="")
        for _ in range(3):
            progress.advance(task)
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


def test_progress_bar_is_plain_off_a_terminal() -> None:
    assert isinstance(progress_bar(), LogProgress)  # pytest captures stderr
