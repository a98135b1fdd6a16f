"""A killed run resumed from its last checkpoint ends exactly where an uninterrupted run ends."""

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing
from captchalab.training import distributed
from captchalab.training.checkpoint import CheckpointMeta, load_training_state, save_checkpoint
from captchalab.training.config import TrainConfig
from captchalab.training.trainer import RunExistsError, train

CONFIG = TrainConfig(
    model="crnn",
    scheme="digits5",
    height=32,
    width=96,
    batch_size=8,
    max_steps=6,
    cache_size=32,
    val_size=8,
    eval_every=3,
    checkpoint_every=2,
    threads=1,
    model_args={"channels": [8, 8, 16, 16], "hidden": 16},
)


class Killed(Exception):
    pass


def _kill_at(step: int):  # type: ignore[no-untyped-def]
    def on_event(event: dict[str, Any]) -> None:
        if event["event"] == "step" and event["step"] == step:
            raise Killed

    return on_event


def _state(run: Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    return (
        load_file(str(run / "last" / "model.safetensors")),
        load_file(str(run / "last" / "training.safetensors")),
    )


def test_kill_and_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(CONFIG, straight)
    with pytest.raises(Killed):
        train(CONFIG, resumed, on_event=_kill_at(5))  # the step-4 checkpoint is on disk
    with pytest.raises(RunExistsError):
        train(CONFIG, resumed)
    train(CONFIG, resumed, resume=True)
    weights_a, optimizer_a = _state(straight)
    weights_b, optimizer_b = _state(resumed)
    assert weights_a.keys() == weights_b.keys() and optimizer_a.keys() == optimizer_b.keys()
    for name in weights_a:
        torch.testing.assert_close(weights_a[name], weights_b[name], rtol=0, atol=0)
    for name in optimizer_a:
        torch.testing.assert_close(optimizer_a[name], optimizer_b[name], rtol=0, atol=0)
    lines = (resumed / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2  # validations at steps 3 and 6, none repeated


def test_resume_with_dataloader_workers_at_an_odd_step_is_exact(tmp_path: Path) -> None:
    """An on-the-fly stream rendered by 2 workers: each step's batch depends only on the step,
    so resuming at step 3 trains on exactly the batches an uninterrupted run does."""
    config = replace(CONFIG, cache_size=0, workers=2, max_steps=5, eval_every=5, checkpoint_every=3)
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    seen: dict[str, list[float]] = {"straight": [], "resumed": []}

    def record(name: str, kill_at: int | None = None):  # type: ignore[no-untyped-def]
        def on_event(event: dict[str, Any]) -> None:
            if event["event"] == "step":
                seen[name].append(event["loss"])
                if event["step"] == kill_at:
                    raise Killed

        return on_event

    train(config, straight, on_event=record("straight"))
    with pytest.raises(Killed):
        train(config, resumed, on_event=record("resumed", kill_at=4))  # checkpoint at step 3
    train(config, resumed, resume=True, on_event=record("resumed"))
    assert seen["resumed"][4:] == seen["straight"][3:]  # steps 4 and 5, same losses
    weights_a, optimizer_a = _state(straight)
    weights_b, optimizer_b = _state(resumed)
    for name in weights_a:
        torch.testing.assert_close(weights_a[name], weights_b[name], rtol=0, atol=0)
    for name in optimizer_a:
        torch.testing.assert_close(optimizer_a[name], optimizer_b[name], rtol=0, atol=0)


def test_an_error_while_setting_up_still_leaves_the_process_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    left: list[bool] = []
    monkeypatch.setattr(distributed, "teardown", lambda together=True: left.append(together))
    with pytest.raises(KeyError, match="unknown scheme"):
        train(replace(CONFIG, scheme="no-such-scheme"), tmp_path / "run")
    assert left == [False]  # left once, without waiting for ranks that may never come


def test_checkpoints_save_and_restore_every_cuda_generator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With CUDA present, each device's generator state is stored and put back on resume
    (simulated here, so the test also runs on machines without a GPU)."""
    states = [torch.tensor([1, 2, 3], dtype=torch.uint8), torch.tensor([4, 5], dtype=torch.uint8)]
    restored: dict[int, torch.Tensor] = {}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: list(states))
    monkeypatch.setattr(
        torch.cuda, "set_rng_state", lambda state, device: restored.__setitem__(device, state)
    )
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    meta = CheckpointMeta(
        model_name="crnn",
        model_args={},
        objective="ctc",
        charset=Charset("12"),
        max_length=2,
        preprocessing=Preprocessing(height=32, width=96),
        config={},
    )
    save_checkpoint(tmp_path / "last", model, meta, optimizer)
    saved = load_file(str(tmp_path / "last" / "training.safetensors"))
    assert saved["rng.cuda.0"].tolist() == [1, 2, 3] and saved["rng.cuda.1"].tolist() == [4, 5]
    load_training_state(tmp_path / "last", torch.optim.AdamW(model.parameters()))
    assert {device: state.tolist() for device, state in restored.items()} == {
        0: [1, 2, 3],
        1: [4, 5],
    }
