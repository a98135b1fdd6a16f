"""Blocks shared by the model families."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 projected) shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class RowChannel(nn.Module):
    """Appends one channel holding each pixel's row, from -1 (top) to 1 (bottom).

    Max-pooling keeps what a feature saw but not where, so after four 2x poolings a glyph's
    height is known only to the nearest 16 pixels. With its row beside every pixel, the first
    convolution can respond to "ink this far from the middle", which is a glyph's size when
    glyphs are centred vertically, as python ``captcha`` centres them (and its only cue to
    case for c/k/o/p/s/u/v/w/x/z). Models take it as ``row_channel=True``.
    """

    values: torch.Tensor

    def __init__(self, height: int) -> None:
        super().__init__()
        self.height = height
        rows = torch.linspace(-1.0, 1.0, height).view(1, 1, height, 1)
        self.register_buffer("values", rows, persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = images.shape
        if height != self.height:
            raise ValueError(f"row channel built for height {self.height}, got {height}")
        rows = self.values.to(images.dtype).expand(batch, 1, height, width)
        return torch.cat([images, rows], dim=1)


def feature_shape(backbone: nn.Module, in_channels: int, height: int, width: int) -> torch.Size:
    """``(C, H, W)`` of the backbone's output for one input of the given size."""
    with torch.no_grad():
        was_training = backbone.training
        backbone.eval()
        shape = backbone(torch.zeros(1, in_channels, height, width)).shape[1:]
        backbone.train(was_training)
    return shape
