"""One softmax per character slot; shorter texts fill trailing slots with the empty class 0."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from captchalab.objectives.base import Objective


class FixedLengthObjective(Objective):
    name = "fixed_length"

    def loss(self, logits: torch.Tensor, texts: list[str]) -> torch.Tensor:
        batch, slots, classes = logits.shape
        targets = self.padded_targets(texts, slots).to(logits.device)
        # (B, S, C) -> (B*S, C): every slot is an independent classification
        return F.cross_entropy(logits.reshape(batch * slots, classes), targets.reshape(-1))
