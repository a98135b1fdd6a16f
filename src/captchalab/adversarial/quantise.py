"""The perturbation must survive the file it is served in: 8-bit PNG, optionally JPEG.

During optimisation the image is quantised with a straight-through estimator (the forward
pass sees exactly the 8-bit pixels, the backward pass the identity); a JPEG round trip is
handled the same way. The final image is ``original + round(255 * delta)``, clipped to
[0, 255]: with an integer L-inf budget ``floor(255 * eps)`` the rounding can never exceed it,
and pixels with ``delta == 0`` are left exactly as they were.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image


def budget_levels(eps: float) -> int:
    """The largest whole number of grey levels within an L-inf budget on [0, 1] pixels."""
    return math.floor(eps * 255 + 1e-6)


def to_tensor(images: list[Image.Image]) -> torch.Tensor:
    """Same-size RGB images -> ``(B, 3, H, W)`` float32 in [0, 1] (exact multiples of 1/255)."""
    arrays = np.stack([np.asarray(im.convert("RGB"), dtype=np.uint8) for im in images])
    return torch.from_numpy(arrays).permute(0, 3, 1, 2).float() / 255.0


def straight_through_quantise(x: torch.Tensor) -> torch.Tensor:
    """Forward: ``round(255 x) / 255``; backward: identity."""
    return x + (torch.round(x * 255.0) / 255.0 - x).detach()


def jpeg_round_trip(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Forward: encode each image as JPEG at ``quality`` and decode it; backward: identity."""
    decoded = []
    for image in x.detach().cpu():
        array = (image.permute(1, 2, 0).numpy() * 255.0).round().clip(0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
        buffer.seek(0)
        back = np.asarray(Image.open(buffer).convert("RGB"), dtype=np.float32) / 255.0
        decoded.append(torch.from_numpy(back).permute(2, 0, 1))
    target = torch.stack(decoded).to(x.device)
    return x + (target - x).detach()


def apply_delta(originals: torch.Tensor, delta: torch.Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` originals in [0, 1] and ``(B, 1, H, W)`` grey delta -> ``(B, H, W, 3)``
    uint8 served pixels."""
    base = torch.round(originals * 255.0)
    levels = torch.round(delta.detach() * 255.0)
    out = torch.clamp(base + levels, 0, 255).to(torch.uint8)
    return out.permute(0, 2, 3, 1).cpu().numpy()
