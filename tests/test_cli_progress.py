"""Progress in logs and pipes: plain lines at stage changes, at completion, and throttled."""

from __future__ import annotations

import pytest

from captchalab.cli.app import LogProgress, progress_bar


def test_log_progress_prints_stages_and_completion(capsys: pytest.CaptureFixture[str]) -> None:
    progress = LogProgress(interval=3600)
    with progress:
        task = progress.add_task("train", total=10, info="")
        for step in range(10):
            progress.update(task, info="warm-up" if step < 4 else "main")
            progress.advance(task)
    lines = capsys.readouterr().err.strip().splitlines()
    # first update, the stage change at step 4, and the completed task; nothing between
    assert [line.split(" ")[1] for line in lines] == ["0/10", "4/10", "10/10"]
    assert "warm-up" in lines[0] and "main" in lines[1]


def test_log_progress_repeats_after_interval(capsys: pytest.CaptureFixture[str]) -> None:
    progress = LogProgress(interval=0)
    with progress:
        task = progress.add_task("render", total=3, info="")
        for _ in range(3):
            progress.advance(task)
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


def test_progress_bar_is_plain_off_a_terminal() -> None:
    assert isinstance(progress_bar(), LogProgress)  # pytest captures stderr
