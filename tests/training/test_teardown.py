"""Leaving the process group: together at a normal end, at once after an error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from captchalab.training import distributed, trainer
from captchalab.training.config import TrainConfig


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "barrier", lambda: seen.append("barrier"))
    monkeypatch.setattr(distributed.dist, "destroy_process_group", lambda: seen.append("destroy"))
    return seen


def test_a_normal_end_waits_for_every_rank_before_leaving(calls: list[str]) -> None:
    distributed.teardown()
    assert calls == ["barrier", "destroy"]


def test_after_an_error_a_rank_leaves_without_waiting(calls: list[str]) -> None:
    distributed.teardown(together=False)
    assert calls == ["destroy"]


def test_a_failed_training_run_leaves_at_once_and_keeps_its_error(
    calls: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    info = distributed.DistInfo(rank=1, world_size=2, device=torch.device("cpu"))
    monkeypatch.setattr(distributed, "setup", lambda device=None: info)

    def broken(*args: object) -> dict[str, float]:
        raise RuntimeError("a rank failed")

    monkeypatch.setattr(trainer, "_train", broken)
    with pytest.raises(RuntimeError, match="a rank failed"):
        trainer.train(TrainConfig(model="crnn", scheme="digits5"), tmp_path / "run")
    assert calls == ["destroy"]


def test_a_finished_training_run_leaves_together(
    calls: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    info = distributed.DistInfo(rank=0, world_size=2, device=torch.device("cpu"))
    monkeypatch.setattr(distributed, "setup", lambda device=None: info)
    monkeypatch.setattr(trainer, "_train", lambda *args: {"exact_accuracy": 1.0})
    metrics = trainer.train(TrainConfig(model="crnn", scheme="digits5"), tmp_path / "run")
    assert metrics == {"exact_accuracy": 1.0}
    assert calls == ["barrier", "destroy"]
