"""CRNN: a CNN reads columns, a 2-layer BiLSTM relates them, CTC aligns them to text.

Optionally ``context_layers`` self-attention blocks follow the BiLSTM, so every column sees
every other one directly: on python ``captcha``, where glyphs are stretched to one height,
the only cue to case for c/k/o/p/s/u/v/w/x/z is a glyph's size against its neighbours.

The backbone halves the height four times and the width twice, so a 128-pixel-wide input
gives 32 frames: comfortably more than twice the longest captcha, as CTC needs room for
blanks between repeated symbols.
"""

from __future__ import annotations

import torch
from torch import nn

from captchalab.models.layers import ResidualBlock, RowChannel, conv_bn_relu, feature_shape
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
        context_layers: int = 0,
        heads: int = 4,
        row_channel: bool = False,
    ) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; known: {', '.join(BACKBONES)}")
        self.rows = RowChannel(height) if row_channel else None
        stem_channels = in_channels + (1 if row_channel else 0)
        self.backbone = BACKBONES[backbone](stem_channels, tuple(channels))
        c, h, w = feature_shape(self.backbone, stem_channels, height, width)
        if w < 2 * max_length + 1:
            raise ValueError(f"{w} frames cannot hold {max_length} symbols; use a wider input")
        self.project = nn.Linear(c * h, hidden)
        self.rnn = nn.LSTM(
            hidden, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=dropout
        )
        if context_layers < 0 or (2 * hidden) % heads:
            raise ValueError(f"context_layers >= 0 and heads dividing {2 * hidden} needed")
        self.context = nn.ModuleList(
            SelfAttention(2 * hidden, heads, dropout) for _ in range(context_layers)
        )
        self.classifier = nn.Linear(2 * hidden, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> ``(B, T, num_classes)`` per-column logits, T = W / 4."""
        if self.rows is not None:
            images = self.rows(images)
        features = self.backbone(images)
        batch, channels, height, width = features.shape
        # (B, C, H, W) -> (B, W, C*H): one feature vector per column
        columns = features.permute(0, 3, 1, 2).reshape(batch, width, channels * height)
        sequence, _ = self.rnn(self.project(columns))  # (B, T, 2*hidden)
        for block in self.context:
            sequence = block(sequence)
        return self.classifier(sequence)


class SelfAttention(nn.Module):
    """A pre-norm transformer block over the frame sequence (the BiLSTM supplies position)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.drop = nn.Dropout(dropout)

    def start_as_identity(self) -> None:
        """Zero both residual branches' last layers: the block passes its input through
        unchanged, and still learns (their weights get gradients from the first step)."""
        for layer in (self.out, self.mlp[-1]):
            assert isinstance(layer, nn.Linear)
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, frames, dim = x.shape
        q, k, v = (
            self.qkv(self.norm1(x))
            .reshape(batch, frames, 3, self.heads, dim // self.heads)
            .permute(2, 0, 3, 1, 4)
        )
        weights = torch.softmax(q @ k.transpose(-2, -1) / (dim // self.heads) ** 0.5, dim=-1)
        mixed = (weights @ v).transpose(1, 2).reshape(batch, frames, dim)
        x = x + self.drop(self.out(mixed))
        return x + self.drop(self.mlp(self.norm2(x)))


@register_model("crnn", objective="ctc")
def crnn(**args: object) -> nn.Module:
    """CNN + 2-layer BiLSTM (+ optional self-attention) + CTC for variable-length text."""
    return CRNN(**args)  # type: ignore[arg-type]
