"""The substitute's own loss of the true text, per objective, summed over the batch.

CTC for ``crnn``, cross-entropy per slot for ``multihead`` and cross-entropy with teacher
forcing for ``attention``: exactly the objectives the models were trained with, so raising the
loss of the true label is the steepest way to make the substitute misread it.
"""

from __future__ import annotations

import torch
from torch import nn

from captchalab.objectives import Objective


def true_label_loss(
    model: nn.Module, objective: Objective, inputs: torch.Tensor, texts: list[str]
) -> torch.Tensor:
    """Sum over the batch of each image's loss of its true text (a scalar to ascend).

    Images are independent (the model is in eval mode), so the gradient of the sum with
    respect to one image is the gradient of that image's own loss.
    """
    teacher = objective.teacher_forcing_targets(texts)
    logits = model(inputs) if teacher is None else model(inputs, teacher.to(inputs.device))
    return objective.loss(logits, texts) * len(texts)
