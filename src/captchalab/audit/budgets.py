"""How much compute an audit spends: the training sizes of the curves and their steps.

``tiny`` fits in a CI job (about 0.7 CPU-minutes per audited scheme, measured), ``quick``
is sized for 15 minutes and ``full`` for about 2 hours on 2 idle cores, from the measured
cost of a training step of the default-size CRNN (about 0.12 CPU-seconds per batch of 32 on
one core) plus rendering. Steps grow with the training-set size (more data needs more
passes to be learnt) but are capped, so CPU time stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Budget:
    """One audit budget. ``sizes`` are labelled training captchas per curve point."""

    name: str
    sizes: tuple[int, ...]
    scratch_steps: tuple[int, ...]  # optimiser steps per size, from scratch
    finetune_steps: tuple[int, ...]  # optimiser steps per size, fine-tuning the default model
    test_size: int  # test captchas per scheme (never seen in training)
    sensitivity_size: int  # training captchas per sensitivity run
    sensitivity_steps: int
    factors: tuple[str, ...] | None = None  # None: every factor the scheme can vary
    batch_size: int = 32
    lr: float = 2e-3
    finetune_lr: float = 3e-4
    examples: int = 8  # saliency examples per grid (half correct, half wrong when possible)
    hardening_size: int = 100  # test captchas hardened for the adversarial-hardening row
    model_args: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (len(self.sizes) == len(self.scratch_steps) == len(self.finetune_steps)):
            raise ValueError(f"budget {self.name}: sizes and steps differ in length")
        if list(self.sizes) != sorted(self.sizes) or len(self.sizes) < 2:
            raise ValueError(f"budget {self.name}: need at least two increasing sizes")

    def args_for(self, model: str) -> dict[str, Any]:
        return dict(self.model_args.get(model, {}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sizes": list(self.sizes),
            "scratch_steps": list(self.scratch_steps),
            "finetune_steps": list(self.finetune_steps),
            "test_size": self.test_size,
            "sensitivity_size": self.sensitivity_size,
            "sensitivity_steps": self.sensitivity_steps,
            "batch_size": self.batch_size,
        }


# Model sizes shared by quick and full; the shipped default CRNN has the same crnn shape.
_MODELS: dict[str, dict[str, Any]] = {
    "crnn": {"channels": [16, 32, 64, 96], "hidden": 128},
    "multihead": {"channels": [16, 32, 48], "hidden": 256, "dropout": 0.3},
    "attention": {
        "channels": [16, 16, 32, 32, 64, 64],
        "hidden": 128,
        "embedding": 32,
        "attention_dim": 64,
    },
}
_TINY_MODELS: dict[str, dict[str, Any]] = {
    "crnn": {"channels": [8, 16, 32, 32], "hidden": 32},
    "multihead": {"channels": [8, 16, 16], "hidden": 64, "dropout": 0.1},
    "attention": {
        "channels": [8, 8, 16, 16, 32, 32],
        "hidden": 32,
        "embedding": 16,
        "attention_dim": 32,
    },
}

BUDGETS: dict[str, Budget] = {
    "tiny": Budget(
        "tiny",
        sizes=(40, 160),
        scratch_steps=(40, 80),
        finetune_steps=(10, 20),
        test_size=100,
        sensitivity_size=160,
        sensitivity_steps=20,
        factors=("rotation", "charset"),
        lr=5e-3,
        examples=4,
        hardening_size=8,
        model_args=_TINY_MODELS,
    ),
    "quick": Budget(
        "quick",
        sizes=(200, 1000, 4000),
        scratch_steps=(200, 500, 1200),
        finetune_steps=(100, 200, 400),
        test_size=300,
        sensitivity_size=1000,
        sensitivity_steps=200,
        model_args=_MODELS,
    ),
    "full": Budget(
        "full",
        sizes=(50, 200, 1000, 10_000, 100_000),
        scratch_steps=(200, 400, 1000, 3000, 8000),
        finetune_steps=(60, 120, 300, 800, 2000),
        test_size=2000,
        hardening_size=300,
        sensitivity_size=10_000,
        sensitivity_steps=800,
        batch_size=64,
        model_args=_MODELS,
    ),
}


def get_budget(name: str) -> Budget:
    if name not in BUDGETS:
        raise KeyError(f"unknown budget {name!r}; known: {', '.join(BUDGETS)}")
    return BUDGETS[name]
