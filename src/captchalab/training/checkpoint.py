"""Checkpoints as safetensors + JSON: nothing is ever unpickled.

A checkpoint is a folder::

    checkpoint.json        model name/args, charset, preprocessing, objective, config, step
    model.safetensors      weights
    training.safetensors   optimiser moments and RNG state (resume only)
    training.json          optimiser hyper-parameters and the step counters (resume only)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing
from captchalab.models import create_model

META_FILE = "checkpoint.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class CheckpointMeta:
    model_name: str
    model_args: dict[str, Any]
    objective: str
    charset: Charset
    max_length: int
    preprocessing: Preprocessing
    config: dict[str, Any]
    step: int = 0
    metrics: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "captchalab-checkpoint/1",
            "model_name": self.model_name,
            "model_args": self.model_args,
            "objective": self.objective,
            "charset": self.charset.to_dict(),
            "max_length": self.max_length,
            "preprocessing": self.preprocessing.to_dict(),
            "config": self.config,
            "step": self.step,
            "metrics": self.metrics or {},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMeta:
        return cls(
            model_name=data["model_name"],
            model_args=data["model_args"],
            objective=data["objective"],
            charset=Charset.from_dict(data["charset"]),
            max_length=int(data["max_length"]),
            preprocessing=Preprocessing.from_dict(data["preprocessing"]),
            config=data.get("config", {}),
            step=int(data.get("step", 0)),
            metrics=data.get("metrics"),
        )


def build_model(meta: CheckpointMeta) -> nn.Module:
    return create_model(
        meta.model_name,
        num_classes=meta.charset.num_classes,
        in_channels=meta.preprocessing.channels,
        height=meta.preprocessing.height,
        width=meta.preprocessing.width,
        max_length=meta.max_length,
        **meta.model_args,
    )


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder, or a run folder (its ``best``, else ``last`` checkpoint)."""
    path = Path(path)
    if (path / META_FILE).exists():
        return path
    for name in ("best", "last"):
        if (path / name / META_FILE).exists():
            return path / name
    raise FileNotFoundError(f"no checkpoint at {path} (expected {META_FILE} or best/ or last/)")


def save_checkpoint(
    folder: Path,
    model: nn.Module,
    meta: CheckpointMeta,
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """Write atomically: into a temporary folder, then swap it in."""
    folder = Path(folder)
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(staging / WEIGHTS_FILE))
    if optimizer is not None:
        tensors, state = _training_state(optimizer)
        save_file(tensors, str(staging / "training.safetensors"))
        (staging / "training.json").write_text(json.dumps(state))
    (staging / META_FILE).write_text(json.dumps(meta.to_dict(), indent=2))
    backup = folder.with_name(folder.name + ".old")
    shutil.rmtree(backup, ignore_errors=True)
    if folder.exists():
        folder.rename(backup)
    staging.rename(folder)
    shutil.rmtree(backup, ignore_errors=True)
    return folder


def _training_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():  # dropout on a GPU draws from the CUDA generators
        for index, cuda_state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = cuda_state
    scalars: dict[str, dict[str, float]] = {}
    for param_id, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                tensors[f"state.{param_id}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(param_id), {})[key] = float(value)
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def load_meta(path: str | Path) -> CheckpointMeta:
    """A checkpoint's metadata alone (no weights are read)."""
    folder = resolve_checkpoint(path)
    return CheckpointMeta.from_dict(json.loads((folder / META_FILE).read_text()))


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[nn.Module, CheckpointMeta]:
    """Rebuild the model from a checkpoint folder (or run folder) and load its weights."""
    folder = resolve_checkpoint(path)
    meta = CheckpointMeta.from_dict(json.loads((folder / META_FILE).read_text()))
    model = build_model(meta)
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE), device="cpu"))
    return model.to(device), meta


def load_training_state(folder: Path, optimizer: torch.optim.Optimizer) -> None:
    """Restore optimiser moments, hyper-parameters and the CPU and CUDA RNGs for ``--resume``."""
    folder = Path(folder)
    tensors = load_file(str(folder / "training.safetensors"), device="cpu")
    saved = json.loads((folder / "training.json").read_text())
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("state."):
            _, param_id, key = name.split(".", 2)
            state.setdefault(int(param_id), {})[key] = value
    for param_id, values in saved["scalars"].items():
        for key, value in values.items():
            state.setdefault(int(param_id), {})[key] = torch.tensor(value)
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    restore_cuda_rng(tensors)


def restore_cuda_rng(tensors: dict[str, torch.Tensor]) -> int:
    """Set each CUDA device's generator saved as ``rng.cuda.N``; returns how many were set.

    States saved on a machine with more GPUs than this one are ignored for the missing ones.
    """
    if not torch.cuda.is_available():
        return 0
    restored = 0
    for index in range(torch.cuda.device_count()):
        saved = tensors.get(f"rng.cuda.{index}")
        if saved is not None:
            torch.cuda.set_rng_state(saved, index)
            restored += 1
    return restored
