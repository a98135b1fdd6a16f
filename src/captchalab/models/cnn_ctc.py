"""CNN-only CTC: depthwise-separable convolutions read columns, 1-D convolutions relate them.

No recurrence: every output frame sees a fixed window of columns (the receptive field grows
with ``temporal_layers`` x ``temporal_kernel``), and the whole model is convolutions, so it
is cheap per image on a CPU and takes any input width. Same downsampling as ``crnn`` (height
/16, width /4), so the two read the same inputs.
"""

from __future__ import annotations

import torch
from torch import nn

from captchalab.models.layers import conv_bn_relu, feature_shape
from captchalab.models.registry import register_model

_POOLS = ((2, 2), (2, 2), (2, 1), (2, 1))


class SeparableBlock(nn.Module):
    """3x3 depthwise then 1x1 pointwise conv, each with batch norm; residual at equal widths."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.residual = in_channels == out_channels
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return self.relu(y + x if self.residual else y)


class TemporalBlock(nn.Module):
    """A residual depthwise 1-D conv over frames, then a pointwise mix of channels."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(
            channels, channels, kernel, padding=kernel // 2, groups=channels, bias=False
        )
        self.norm = nn.BatchNorm1d(channels)
        self.pointwise = nn.Conv1d(channels, channels, 1)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        return x + self.pointwise(self.act(self.norm(self.depthwise(x))))


class CNNCTC(nn.Module):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        height: int,
        width: int,
        max_length: int,
        channels: tuple[int, ...] = (32, 64, 96, 128),
        hidden: int = 192,
        temporal_layers: int = 4,
        temporal_kernel: int = 5,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_relu(in_channels, channels[0])]
        previous = channels[0]
        for out, pool in zip(channels, _POOLS, strict=True):
            layers += [SeparableBlock(previous, out), SeparableBlock(out, out)]
            layers.append(nn.MaxPool2d(pool, pool))
            previous = out
        self.backbone = nn.Sequential(*layers)
        c, h, w = feature_shape(self.backbone, in_channels, height, width)
        if w < 2 * max_length + 1:
            raise ValueError(f"{w} frames cannot hold {max_length} symbols; use a wider input")
        self.project = nn.Conv1d(c * h, hidden, 1)
        self.temporal = nn.Sequential(
            *[TemporalBlock(hidden, temporal_kernel) for _ in range(temporal_layers)]
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Conv1d(hidden, num_classes, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> ``(B, T, num_classes)`` per-column logits, T = W / 4."""
        features = self.backbone(images)
        batch, channels, height, width = features.shape
        columns = features.reshape(batch, channels * height, width)  # (B, C*H, T)
        sequence = self.temporal(self.project(columns))
        return self.classifier(self.dropout(sequence)).transpose(1, 2)


@register_model("cnnctc", objective="ctc")
def cnnctc(**args: object) -> nn.Module:
    """Convolutions only (depthwise-separable CNN + 1-D temporal convs) + CTC, any width."""
    return CNNCTC(**args)  # type: ignore[arg-type]
