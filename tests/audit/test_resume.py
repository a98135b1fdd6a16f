"""A killed audit resumes: finished points are reused, an unfinished run continues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from captchalab.audit import attack
from captchalab.audit.attack import train_attacker
from captchalab.audit.budgets import Budget
from captchalab.audit.pipeline import AuditOptions, run_audit
from captchalab.audit.targets import ScoringImages, scheme_target

from .conftest import EASY

BUDGET = Budget(
    "mini",
    sizes=(16, 32),
    scratch_steps=(6, 6),
    finetune_steps=(3, 3),
    test_size=12,
    sensitivity_size=16,
    sensitivity_steps=2,
    factors=(),
    examples=2,
    model_args={"crnn": {"channels": [8, 8, 16, 16], "hidden": 16}},
)


class Killed(RuntimeError):
    pass


def _train(work: Path, steps: int, kill_at: int | None = None) -> Any:
    target = scheme_target(str(EASY))
    images, texts = target.test_images(BUDGET.test_size)
    calls = {"n": 0}

    def on_step() -> None:
        calls["n"] += 1
        if kill_at is not None and calls["n"] == kill_at:
            raise Killed

    trained = train_attacker(
        target,
        16,
        steps,
        "crnn",
        BUDGET,
        work,
        ScoringImages(images),
        texts,
        0,
        threads=1,
        on_step=on_step,
    )
    return trained, calls["n"]


def _spy_train(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    from captchalab.training import trainer

    calls: list[dict[str, Any]] = []
    real = trainer.train

    def spy(config: Any, run_dir: Path, **kwargs: Any) -> Any:
        calls.append({"resume": kwargs.get("resume"), "steps": config.max_steps})
        return real(config, run_dir, **kwargs)

    monkeypatch.setattr(trainer, "train", spy)
    return calls


def test_finished_point_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, counted = _train(tmp_path, 6)
    assert counted == 6
    calls = _spy_train(monkeypatch)
    again, counted = _train(tmp_path, 6)
    assert calls == [] and counted == 6  # nothing retrained; the progress still advances
    assert again.point == first.point and again.predictions == first.predictions


def test_changed_config_retrains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _train(tmp_path, 6)
    calls = _spy_train(monkeypatch)
    trained, _ = _train(tmp_path, 8)  # another step count: the old point must not be reused
    assert calls == [{"resume": False, "steps": 8}] and trained.point.steps == 8


def test_killed_run_resumes_from_its_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attack, "CHECKPOINT_EVERY", 4)
    with pytest.raises(Killed):
        _train(tmp_path, 8, kill_at=6)  # killed after the step-4 checkpoint
    run = tmp_path / "runs" / "scratch-crnn-16"
    assert (run / "last").exists() and not (run / "point.json").exists()
    calls = _spy_train(monkeypatch)
    trained, counted = _train(tmp_path, 8)
    assert calls == [{"resume": True, "steps": 8}]
    assert counted == 8  # 4 steps credited from before the kill, 4 trained now
    assert trained.point.steps == 8 and trained.point.cpu_minutes > 0
    assert (run / "point.json").exists()


def test_existing_work_needs_resume(tmp_path: Path) -> None:
    out = tmp_path / "report"
    (out / "work").mkdir(parents=True)
    options = AuditOptions(BUDGET, ("crnn",), threads=1)
    with pytest.raises(ValueError, match="--resume"):
        run_audit([scheme_target(str(EASY))], options, out)


def test_resumed_audit_reuses_points_and_cleans_up(tmp_path: Path) -> None:
    options = AuditOptions(BUDGET, ("crnn",), seed=1, threads=1)
    target = scheme_target(str(EASY))
    out = tmp_path / "report"
    kept = run_audit([target], options, out, keep_work=True)["targets"][0]  # as if killed
    assert (out / "work").is_dir()
    resumed = run_audit([target], options, out, resume=True)["targets"][0]
    assert resumed["curves"] == kept["curves"]  # same CPU-minutes too: reused, not retrained
    assert resumed["errors"] == kept["errors"]
    assert not (out / "work").exists()
