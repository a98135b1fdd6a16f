"""CRNN: a CNN reads columns, a 2-layer BiLSTM relates them, CTC aligns them to text.

The backbone halves the height four times and the width twice, so a 128-pixel-wide input
gives 32 frames: comfortably more than twice the longest captcha, as CTC needs room for
blanks between repeated symbols.
"""

from __future__ import annotations

import torch
from torch import nn

from captchalab.models.layers import ResidualBlock, conv_bn_relu, feature_shape
from captchalab.models.registry import register_model

# Pooling per stage: (height, width) factors.
_POOLS = ((2, 2), (2, 2), (2, 1), (2, 1))


def small_backbone(in_channels: int, channels: tuple[int, ...]) -> nn.Sequential:
    """Four conv-BN-ReLU stages, each followed by max-pooling (advCAPTCHA's substitute)."""
    layers: list[nn.Module] = []
    previous = in_channels
    for out, pool in zip(channels, _POOLS, strict=True):
        layers += [conv_bn_relu(previous, out), nn.MaxPool2d(pool, pool)]
        previous = out
    return nn.Sequential(*layers)


def resnet_backbone(in_channels: int, channels: tuple[int, ...]) -> nn.Sequential:
    """A stem conv, then a residual block and max-pooling per stage."""
    layers: list[nn.Module] = [conv_bn_relu(in_channels, channels[0])]
    previous = channels[0]
    for out, pool in zip(channels, _POOLS, strict=True):
        layers += [ResidualBlock(previous, out), nn.MaxPool2d(pool, pool)]
        previous = out
    return nn.Sequential(*layers)


BACKBONES = {"small": small_backbone, "resnet": resnet_backbone}


class CRNN(nn.Module):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        height: int,
        width: int,
        max_length: int,
        backbone: str = "small",
        channels: tuple[int, ...] = (32, 64, 128, 128),
        hidden: int = 128,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; known: {', '.join(BACKBONES)}")
        self.backbone = BACKBONES[backbone](in_channels, tuple(channels))
        c, h, w = feature_shape(self.backbone, in_channels, height, width)
        if w < 2 * max_length + 1:
            raise ValueError(f"{w} frames cannot hold {max_length} symbols; use a wider input")
        self.project = nn.Linear(c * h, hidden)
        self.rnn = nn.LSTM(
            hidden, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=dropout
        )
        self.classifier = nn.Linear(2 * hidden, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> ``(B, T, num_classes)`` per-column logits, T = W / 4."""
        features = self.backbone(images)
        batch, channels, height, width = features.shape
        # (B, C, H, W) -> (B, W, C*H): one feature vector per column
        columns = features.permute(0, 3, 1, 2).reshape(batch, width, channels * height)
        sequence, _ = self.rnn(self.project(columns))  # (B, T, 2*hidden)
        return self.classifier(sequence)


@register_model("crnn", objective="ctc")
def crnn(**args: object) -> nn.Module:
    """CNN + 2-layer BiLSTM + CTC for variable-length text (small or ResNet-style backbone)."""
    return CRNN(**args)  # type: ignore[arg-type]
