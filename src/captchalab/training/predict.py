"""Batched prediction with a torch model (training-side; the Solver uses ONNX Runtime)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from captchalab.objectives import Objective
from captchalab.objectives.decoding import Prediction


@torch.no_grad()
def predict_arrays(
    model: nn.Module,
    objective: Objective,
    images: np.ndarray,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> list[Prediction]:
    """``(N, C, H, W)`` images (uint8 or float in [0, 1]) -> decoded predictions."""
    was_training = model.training
    model.eval()
    results: list[Prediction] = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        batch = torch.from_numpy(np.ascontiguousarray(chunk)).to(device)
        batch = batch.float() / 255.0 if chunk.dtype == np.uint8 else batch.float()
        results.extend(objective.decode(model(batch)))
    model.train(was_training)
    return results
