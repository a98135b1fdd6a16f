"""Connectionist temporal classification over the columns of the feature map."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from captchalab.charset import BLANK_ID
from captchalab.objectives.base import Objective


class CTCObjective(Objective):
    name = "ctc"

    def loss(self, logits: torch.Tensor, texts: list[str]) -> torch.Tensor:
        batch, frames, _ = logits.shape
        ids = self.encode(texts)
        targets = torch.tensor([i for seq in ids for i in seq], dtype=torch.long)
        target_lengths = torch.tensor([len(seq) for seq in ids], dtype=torch.long)
        input_lengths = torch.full((batch,), frames, dtype=torch.long)
        # (B, T, C) -> (T, B, C), the layout ctc_loss expects; computed in float32 for stability
        log_probs = F.log_softmax(logits.float(), dim=-1).transpose(0, 1)
        return F.ctc_loss(
            log_probs,
            targets.to(logits.device),
            input_lengths,
            target_lengths,
            blank=BLANK_ID,
            zero_infinity=True,
        )
