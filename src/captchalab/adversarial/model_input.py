"""The substitute's preprocessing in torch, so gradients reach the served image's pixels.

It mirrors :func:`captchalab.data.preprocess.to_array` (grey conversion, optional median
filter, "stretch" or "pad" resize with Pillow's antialiased bilinear filter) to within a few
grey levels, so a perturbation is optimised, and its budget measured, on the PNG that is served
rather than on the model's smaller input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from captchalab.data.preprocess import Preprocessing

# ITU-R 601-2 luma, as Pillow's convert("L")
_LUMA = (0.299, 0.587, 0.114)


def to_grey(images: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` RGB -> ``(B, 1, H, W)`` luminance."""
    weights = torch.tensor(_LUMA, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


def median_filter(images: torch.Tensor, size: int) -> torch.Tensor:
    """Median over ``size x size`` windows, edges replicated (as Pillow's MedianFilter)."""
    pad = size // 2
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")
    batch, channels, height, width = images.shape
    windows = F.unfold(padded, size)  # (B, C*size*size, H*W)
    windows = windows.view(batch, channels, size * size, height * width)
    return windows.median(dim=2).values.view(batch, channels, height, width)


def _resize(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    if images.shape[-2:] == (height, width):
        return images
    return F.interpolate(
        images, size=(height, width), mode="bilinear", align_corners=False, antialias=True
    )


def _border_fill(images: torch.Tensor) -> torch.Tensor:
    """Per image and channel, the median of the outer ring (treated as a constant)."""
    ring = torch.cat(
        [images[..., 0, :], images[..., -1, :], images[..., :, 0], images[..., :, -1]], dim=-1
    )
    return ring.detach().median(dim=-1).values  # (B, C)


def model_input(images: torch.Tensor, spec: Preprocessing) -> torch.Tensor:
    """``(B, 3, H, W)`` served RGB in [0, 1] -> ``(B, C, h, w)`` model input, differentiably."""
    x = to_grey(images) if spec.channels == 1 else images
    if spec.median_filter:
        x = median_filter(x, spec.median_filter)
    height, width = x.shape[-2:]
    if spec.resize == "stretch" or (height, width) == (spec.height, spec.width):
        return _resize(x, spec.height, spec.width)
    scale = min(spec.width / width, spec.height / height)
    inner_w, inner_h = max(1, round(width * scale)), max(1, round(height * scale))
    inner = _resize(x, inner_h, inner_w)
    fill = _border_fill(inner)[:, :, None, None]
    canvas = fill.expand(x.shape[0], x.shape[1], spec.height, spec.width).clone()
    canvas[:, :, :inner_h, :inner_w] = inner
    return canvas


def diverse(images: torch.Tensor, draw: tuple[float, float, float]) -> torch.Tensor:
    """A shrink-and-shift of a ``(B, C, h, w)`` model input, differentiably.

    ``draw = (scale, down, right)``: the content is scaled by ``scale`` (<= 1) and placed at
    the fractions ``down`` and ``right`` of the free room on a canvas of the input's size,
    filled with the border's median (the input diversity of Xie et al., 2019: gradients
    taken through such random transforms overfit the substitute less, so the perturbation
    transfers better to other models).
    """
    scale, down, right = draw
    height, width = images.shape[-2:]
    inner_h, inner_w = max(1, round(height * scale)), max(1, round(width * scale))
    top, left = round(down * (height - inner_h)), round(right * (width - inner_w))
    fill = _border_fill(images)[:, :, None, None]
    canvas = fill.expand(*images.shape).clone()
    canvas[:, :, top : top + inner_h, left : left + inner_w] = _resize(images, inner_h, inner_w)
    return canvas
