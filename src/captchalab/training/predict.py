"""Batched prediction with a torch model (training-side; the Solver uses ONNX Runtime)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from captchalab.data.preprocess import Preprocessing, width_groups
from captchalab.objectives import Objective
from captchalab.objectives.decoding import Prediction


@torch.no_grad()
def predict_arrays(
    model: nn.Module,
    objective: Objective,
    images: np.ndarray,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    preprocessing: Preprocessing | None = None,
) -> list[Prediction]:
    """``(N, C, H, W)`` images (uint8 or float in [0, 1]) -> decoded predictions.

    With the model's ``preprocessing`` given, a dynamic-width model reads each image at its
    own input width, as the Solver does (``data.preprocess.width_groups``).
    """
    if preprocessing is not None and preprocessing.dynamic_width and len(images):
        answers: list[Prediction | None] = [None] * len(images)
        for indices, width in width_groups(images, preprocessing):
            group = _predict(model, objective, images[indices, :, :, :width], batch_size, device)
            for index, prediction in zip(indices, group, strict=True):
                answers[index] = prediction
        return [a for a in answers if a is not None]
    return _predict(model, objective, images, batch_size, device)


def _predict(
    model: nn.Module,
    objective: Objective,
    images: np.ndarray,
    batch_size: int,
    device: torch.device | str,
) -> list[Prediction]:
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
