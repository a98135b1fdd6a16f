"""Fixed-length recogniser: a CNN and one softmax head per character slot (Deep-CAPTCHA).

Conv 5x5 blocks (32, 48, 64) with max-pooling, a 512-unit dense layer with dropout 0.3, then
``max_length`` parallel classifiers. Slot ``i`` predicts the ``i``-th symbol, or class 0 when
the text is shorter than ``i + 1``.
"""

from __future__ import annotations

import torch
from torch import nn

from captchalab.models.layers import RowChannel, conv_bn_relu, feature_shape
from captchalab.models.registry import register_model


class MultiHeadCNN(nn.Module):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        height: int,
        width: int,
        max_length: int,
        channels: tuple[int, ...] = (32, 48, 64),
        hidden: int = 512,
        dropout: float = 0.3,
        row_channel: bool = False,
    ) -> None:
        super().__init__()
        self.rows = RowChannel(height) if row_channel else None
        stem_channels = in_channels + (1 if row_channel else 0)
        blocks: list[nn.Module] = []
        previous = stem_channels
        for out in channels:
            blocks += [conv_bn_relu(previous, out, kernel=5), nn.MaxPool2d(2)]
            previous = out
        self.backbone = nn.Sequential(*blocks)
        c, h, w = feature_shape(self.backbone, stem_channels, height, width)
        self.dense = nn.Sequential(
            nn.Flatten(), nn.Linear(c * h * w, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)
        )
        self.heads = nn.ModuleList(nn.Linear(hidden, num_classes) for _ in range(max_length))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> ``(B, max_length, num_classes)`` logits."""
        if self.rows is not None:
            images = self.rows(images)
        shared = self.dense(self.backbone(images))  # (B, hidden)
        return torch.stack([head(shared) for head in self.heads], dim=1)


@register_model("multihead", objective="fixed_length")
def multihead(**args: object) -> nn.Module:
    """Fixed-length CNN with one softmax head per character position (Deep-CAPTCHA, CNN5)."""
    return MultiHeadCNN(**args)  # type: ignore[arg-type]
