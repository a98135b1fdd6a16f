"""What the logits mean: label encoding, loss, decoding and confidences.

The objectives need torch; ``decoding`` does not. They are imported on first use so that the
torch-free Solver can import ``captchalab.objectives.decoding`` without pulling in torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from captchalab.charset import Charset

if TYPE_CHECKING:
    from captchalab.objectives.base import Objective

__all__ = ["OBJECTIVES", "Objective", "create_objective"]


def _objectives() -> dict[str, type[Objective]]:
    from captchalab.objectives.attention import AttentionObjective
    from captchalab.objectives.ctc import CTCObjective
    from captchalab.objectives.fixed_length import FixedLengthObjective

    return {cls.name: cls for cls in (FixedLengthObjective, CTCObjective, AttentionObjective)}


def create_objective(name: str, charset: Charset, max_length: int) -> Objective:
    objectives = _objectives()
    if name not in objectives:
        raise KeyError(f"unknown objective {name!r}; known: {', '.join(objectives)}")
    return objectives[name](charset, max_length)


def __getattr__(name: str) -> Any:
    if name == "OBJECTIVES":
        return _objectives()
    if name == "Objective":
        from captchalab.objectives.base import Objective

        return Objective
    raise AttributeError(f"module 'captchalab.objectives' has no attribute {name!r}")
