"""Autoregressive decoding with an end token (id 0), trained with teacher forcing."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from captchalab.objectives.base import Objective

IGNORE = -100


class AttentionObjective(Objective):
    name = "attention"

    def loss(self, logits: torch.Tensor, texts: list[str]) -> torch.Tensor:
        batch, steps, classes = logits.shape
        # text ids, then the end token 0, then ignored positions
        targets = self.padded_targets(texts, steps, fill=IGNORE)
        for row, text in enumerate(texts):
            targets[row, len(self.charset.normalize(text))] = 0
        targets = targets.to(logits.device)
        return F.cross_entropy(
            logits.reshape(batch * steps, classes), targets.reshape(-1), ignore_index=IGNORE
        )

    def teacher_forcing_targets(self, texts: list[str]) -> torch.Tensor:
        """``(B, max_length + 1)`` ids the decoder should emit; the model shifts them itself."""
        return self.padded_targets(texts, self.max_length + 1)
