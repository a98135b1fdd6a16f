"""captchalab: security toolkit for text CAPTCHAs.

``from captchalab import Solver`` is light (onnxruntime, numpy, Pillow); ``create_model`` and
``list_models`` need torch. All three are imported on first use, so ``import captchalab`` is
instant and never pulls in torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from captchalab.inference.solver import Solver
    from captchalab.models import create_model, list_models

_LAZY = {
    "Solver": "captchalab.inference.solver",
    "create_model": "captchalab.models",
    "list_models": "captchalab.models",
}

__all__ = ["Solver", "__version__", "create_model", "list_models"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'captchalab' has no attribute {name!r}")
