"""Cheap batch augmentation for pre-rendered images: shifts, contrast and noise.

A cached set is finite; small random changes keep the model from memorising it.
"""

from __future__ import annotations

import torch


def augment_batch(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``(B, C, H, W)`` in [0, 1] -> same shape, randomly shifted and re-contrasted."""
    batch, _, height, width = images.shape
    max_dy, max_dx = max(1, height // 16), max(1, width // 32)
    shifts_y = torch.randint(-max_dy, max_dy + 1, (batch,), generator=generator)
    shifts_x = torch.randint(-max_dx, max_dx + 1, (batch,), generator=generator)
    # Translate through a padded copy, filled with each image's border colour.
    fill = images[:, :, :1, :1]
    padded = fill.expand(-1, -1, height + 2 * max_dy, width + 2 * max_dx).clone()
    padded[:, :, max_dy : max_dy + height, max_dx : max_dx + width] = images
    rows = (torch.arange(height)[None, :] + max_dy - shifts_y[:, None]).clamp(0)  # (B, H)
    cols = (torch.arange(width)[None, :] + max_dx - shifts_x[:, None]).clamp(0)  # (B, W)
    index = torch.arange(batch)[:, None, None]
    shifted = padded.permute(0, 2, 3, 1)[index, rows[:, :, None], cols[:, None, :]]
    shifted = shifted.permute(0, 3, 1, 2)  # (B, H, W, C) -> (B, C, H, W)
    contrast = 0.7 + 0.6 * torch.rand(batch, 1, 1, 1, generator=generator)
    brightness = 0.15 * (torch.rand(batch, 1, 1, 1, generator=generator) - 0.5)
    noise = 0.03 * torch.randn(shifted.shape, generator=generator)
    mean = shifted.mean(dim=(1, 2, 3), keepdim=True)
    return ((shifted - mean) * contrast + mean + brightness + noise).clamp(0, 1)
