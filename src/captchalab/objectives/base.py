"""The objective contract: how a model's logits are trained and read."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch

from captchalab.charset import Charset
from captchalab.objectives.decoding import Prediction, decode


class Objective(ABC):
    """Label encoding, loss and decoding for one family of models.

    All models emit logits ``(B, S, C)`` with class 0 meaning "no symbol".
    """

    name: str

    def __init__(self, charset: Charset, max_length: int) -> None:
        self.charset = charset
        self.max_length = max_length

    def encode(self, texts: list[str]) -> list[list[int]]:
        ids = [self.charset.encode(t) for t in texts]
        for text, seq in zip(texts, ids, strict=True):
            if len(seq) > self.max_length:
                raise ValueError(f"label {text!r} is longer than max_length={self.max_length}")
        return ids

    def padded_targets(self, texts: list[str], length: int, fill: int = 0) -> torch.Tensor:
        """``(B, length)`` int64 ids, padded with ``fill``."""
        out = torch.full((len(texts), length), fill, dtype=torch.long)
        for row, seq in enumerate(self.encode(texts)):
            out[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        return out

    @abstractmethod
    def loss(self, logits: torch.Tensor, texts: list[str]) -> torch.Tensor:
        """Mean loss of ``(B, S, C)`` logits against the texts."""

    def decode(self, logits: torch.Tensor | np.ndarray) -> list[Prediction]:
        if isinstance(logits, torch.Tensor):
            logits = logits.detach().float().cpu().numpy()
        return decode(logits, self.charset, self.name)

    def teacher_forcing_targets(self, texts: list[str]) -> torch.Tensor | None:
        """Decoder inputs for models trained with teacher forcing; ``None`` otherwise."""
        return None
