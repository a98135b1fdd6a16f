"""Model registry: each model is registered with the objective its logits are trained under.

Trainer, evaluator and exporter ask the registry, never branch on model names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from captchalab.registry import add_unique


@dataclass(frozen=True)
class ModelEntry:
    name: str
    objective: str
    builder: Callable[..., nn.Module]
    description: str


_MODELS: dict[str, ModelEntry] = {}


def register_model(
    name: str, objective: str
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator registering a builder ``(num_classes, in_channels, height, width, max_length,
    **options) -> nn.Module`` whose forward returns ``(B, S, num_classes)`` logits."""

    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        doc = (builder.__doc__ or "").strip().splitlines()
        add_unique(
            _MODELS, "model", name, ModelEntry(name, objective, builder, doc[0] if doc else "")
        )
        return builder

    return wrap


def _ensure_loaded() -> None:
    # Importing the model modules runs their @register_model decorators.
    from captchalab.models import (  # noqa: F401
        cnn_ctc,
        crnn,
        multihead_cnn,
        seq2seq_attention,
    )


def list_models() -> list[str]:
    _ensure_loaded()
    return sorted(_MODELS)


def model_entry(name: str) -> ModelEntry:
    _ensure_loaded()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]


def create_model(name: str, **args: Any) -> nn.Module:
    return model_entry(name).builder(**args)
