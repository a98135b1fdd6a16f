"""Where a trained attacker looks: gradient saliency, and the attention model's own maps.

``gradient_saliency`` (any model; used for ``crnn`` and ``multihead``) is the magnitude of
the gradient of the decoded symbols' logits with respect to the input pixels. Models that
expose ``forward_with_attention`` (the ``attention`` model, seed 000) also give one attention
map over the encoder's feature grid per decoded symbol, which :func:`attention_maps`
upsamples to the image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from captchalab.training.checkpoint import load_checkpoint


def gradient_saliency(checkpoint: Path, images: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` uint8 images -> ``(N, H, W)`` saliency in [0, 1] (per image max 1)."""
    model, _ = load_checkpoint(checkpoint)
    model.eval()
    batch = torch.from_numpy(images).float().div(255.0).requires_grad_(True)
    logits = model(batch)  # (N, S, C)
    best = logits[:, :, 1:].max(dim=2).values  # (N, S) the strongest symbol per step
    symbol_steps = (logits.argmax(dim=2) != 0).float()  # steps that emit a symbol
    weights = torch.where(symbol_steps.sum(dim=1, keepdim=True) > 0, symbol_steps, 1.0)
    (best * weights).sum().backward()
    assert batch.grad is not None
    grad = batch.grad.abs().amax(dim=1, keepdim=True)  # (N, 1, H, W)
    grad = F.avg_pool2d(grad, 3, stride=1, padding=1)[:, 0]
    peak = grad.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]
    return (grad / peak).detach().numpy()


def has_attention(checkpoint: Path) -> bool:
    model, _ = load_checkpoint(checkpoint)
    return hasattr(model, "forward_with_attention")


@torch.no_grad()
def attention_maps(checkpoint: Path, images: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``(N, S, H, W)`` attention maps in [0, 1] and the decoded length of each image."""
    model, meta = load_checkpoint(checkpoint)
    model.eval()
    batch = torch.from_numpy(images).float().div(255.0)
    forward: Any = getattr(model, "forward_with_attention")  # noqa: B009
    logits, weights = forward(batch)  # (N, S, C), (N, S, h*w)
    grid_h, grid_w = getattr(model, "grid")  # noqa: B009
    maps = weights.reshape(weights.shape[0], weights.shape[1], grid_h, grid_w)
    maps = F.interpolate(maps, size=images.shape[2:], mode="bilinear", align_corners=False)
    peak = maps.flatten(2).amax(dim=2).clamp_min(1e-12)[:, :, None, None]
    ids = logits.argmax(dim=2).numpy()  # (N, S)
    lengths = []
    for row in ids:
        ends = np.flatnonzero(row == 0)
        lengths.append(int(ends[0]) if ends.size else len(row))
    del meta
    return (maps / peak).numpy(), lengths
