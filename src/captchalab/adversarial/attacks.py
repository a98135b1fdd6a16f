"""L-inf and L0 perturbations on the substitute's loss: direct (one step) or iterative
(``s`` steps of ``alpha = eps / s``), with optional momentum, restricted to masks.

One grey perturbation ``delta`` (added to all three channels) is optimised per image:

* an L-inf region takes ``delta += alpha * sign(g)`` and is clipped to ``[-eps, eps]``;
* an L0 region changes at most ``count`` pixels, those whose first-order gain
  ``|g| * (room to move in the direction of g)`` is largest, pushing each to black or white;
  the iterative method picks ``count / s`` new pixels per step.

``g`` is the gradient of the true text's loss with respect to the served pixels, taken
through the quantised image (and its JPEG round trip when asked) and the substitute's own
preprocessing. With momentum ``mu`` (Dong et al.), ``g`` is replaced by
``g_t = mu * g_{t-1} + grad / mean|grad|``. With ``smooth = sigma > 0`` the L-inf step takes
the sign of ``g`` convolved with a Gaussian of that many pixels (the translation-invariant
attack of Dong et al., 2019): the perturbation comes in blobs rather than single-pixel
speckle, which transfers better to other models and leaves flat backgrounds structurally
intact (SSIM compares local variance, and a blob is locally flat). With ``diversity = p > 0``
each step, with probability ``p``, takes the gradient through a random shrink-and-shift of
the substitute's input (input diversity, Xie et al., 2019), drawn from a seeded generator.
With several substitutes (an ensemble, Liu et al., 2017), ``g`` is the sum of the members'
gradients, each scaled to a mean magnitude of 1 per image: a perturbation that fools several
architectures at once is more likely to fool one it has never seen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from captchalab.adversarial.losses import true_label_loss
from captchalab.adversarial.model_input import diverse, model_input, to_grey
from captchalab.adversarial.quantise import (
    budget_levels,
    jpeg_round_trip,
    straight_through_quantise,
)
from captchalab.data.preprocess import Preprocessing
from captchalab.objectives import Objective

NORMS = ("linf", "l0")
SMALLEST = 0.8  # the smallest scale of an input-diversity transform


@dataclass(frozen=True)
class Region:
    """One mask with its own perturbation: ``budget`` is eps on [0, 1] pixels for ``linf``,
    a pixel count for ``l0``."""

    mask: np.ndarray  # (H, W) bool
    norm: str
    budget: float

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"norm must be 'linf' or 'l0', not {self.norm!r}")


@dataclass(frozen=True)
class Substitute:
    """A differentiable model with the objective and preprocessing it was trained with."""

    model: nn.Module
    objective: Objective
    preprocessing: Preprocessing


def _loss_and_grad(
    substitutes: Sequence[Substitute],
    x: torch.Tensor,
    texts: list[str],
    jpeg_quality: int | None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """The gradient of one substitute's loss, or an ensemble's: each member's gradient scaled
    to a mean magnitude of 1 per image, then summed, so that no member's loss scale (CTC
    against cross-entropy) outvotes the others."""
    if len(substitutes) == 1:
        return _member_grad(substitutes[0], x, texts, jpeg_quality, transform)
    total = torch.zeros(())
    for member in substitutes:
        grad = _member_grad(member, x, texts, jpeg_quality, transform)
        total = total + grad / grad.abs().mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
    return total


def _member_grad(
    substitute: Substitute,
    x: torch.Tensor,
    texts: list[str],
    jpeg_quality: int | None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    served = straight_through_quantise(x)

    def loss_of(images: torch.Tensor) -> torch.Tensor:
        inputs = model_input(images, substitute.preprocessing)
        if transform is not None:
            inputs = transform(inputs)
        return true_label_loss(substitute.model, substitute.objective, inputs, texts)

    loss = loss_of(served)
    if jpeg_quality is not None:
        loss = loss + loss_of(jpeg_round_trip(served, jpeg_quality))
    (grad,) = torch.autograd.grad(loss, x)
    return grad.sum(dim=1, keepdim=True)  # d loss / d (grey delta shared by the channels)


def perturb(
    substitute: Substitute | Sequence[Substitute],
    originals: torch.Tensor,
    texts: list[str],
    plans: list[list[Region]],
    steps: int,
    momentum: float = 0.0,
    jpeg_quality: int | None = None,
    on_step: Callable[[int], None] | None = None,
    smooth: float = 0.0,
    diversity: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``(B, 1, H, W)`` grey perturbation for ``(B, 3, H, W)`` originals in [0, 1].

    ``substitute`` is one model or an ensemble (each step follows the members' normalised
    gradients summed). ``plans[b]`` lists the (non-overlapping) regions of image ``b``;
    pixels outside every region get exactly 0. ``generator`` draws the input-diversity
    transforms (a fixed seed when none is given), so the result is a pure function of the
    arguments.
    """
    members = [substitute] if isinstance(substitute, Substitute) else list(substitute)
    if not members:
        raise ValueError("perturb needs at least one substitute")
    if diversity > 0 and generator is None:
        generator = torch.Generator().manual_seed(0)
    batch, _, height, width = originals.shape
    device = originals.device
    eps = torch.zeros(batch, 1, height, width, device=device)
    l0_regions: list[list[tuple[torch.Tensor, int]]] = []
    for b, plan in enumerate(plans):
        regions = []
        for region in plan:
            mask = torch.from_numpy(region.mask).to(device)
            if mask.shape != (height, width):
                raise ValueError(f"mask of shape {tuple(mask.shape)} on a {width}x{height} image")
            if region.norm == "linf":
                level = budget_levels(region.budget) / 255.0
                eps[b, 0][mask] = torch.maximum(eps[b, 0][mask], torch.tensor(level))
            else:
                regions.append((mask.flatten(), int(region.budget)))
        l0_regions.append(regions)
    alpha = eps / steps
    grey = to_grey(originals)
    delta = torch.zeros(batch, 1, height, width, device=device)
    chosen = torch.zeros(batch, height * width, dtype=torch.bool, device=device)
    accumulated = torch.zeros_like(delta)
    for step in range(steps):
        x = torch.clamp(originals + delta, 0.0, 1.0)
        transform = None
        if diversity > 0:
            assert generator is not None
            coin, scale, down, right = torch.rand(4, generator=generator).tolist()
            if coin < diversity:
                draw = (SMALLEST + (1.0 - SMALLEST) * scale, down, right)
                transform = functools.partial(diverse, draw=draw)
        grad = _loss_and_grad(members, x, texts, jpeg_quality, transform)
        if momentum > 0:
            scale = grad.abs().mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
            accumulated = momentum * accumulated + grad / scale
            direction = accumulated
        else:
            direction = grad
        with torch.no_grad():
            linf_direction = gaussian_blur(direction, smooth) if smooth > 0 else direction
            linf = torch.maximum(
                torch.minimum(delta + alpha * torch.sign(linf_direction), eps), -eps
            )
            delta = torch.where(eps > 0, linf, delta)
            _l0_step(delta, direction, grey, l0_regions, chosen, step, steps)
        if on_step:
            on_step(step + 1)
    return delta.detach()


def gaussian_blur(planes: torch.Tensor, sigma: float) -> torch.Tensor:
    """``(B, 1, H, W)`` blurred by a separable Gaussian of ``sigma`` pixels (reflected edges)."""
    radius = max(1, round(2 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=planes.dtype, device=planes.device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    height, width = planes.shape[-2:]
    pad_x, pad_y = min(radius, width - 1), min(radius, height - 1)
    x = nn.functional.pad(planes, (pad_x, pad_x, 0, 0), mode="reflect")
    x = nn.functional.conv2d(x, kernel[radius - pad_x : radius + pad_x + 1].view(1, 1, 1, -1))
    x = nn.functional.pad(x, (0, 0, pad_y, pad_y), mode="reflect")
    return nn.functional.conv2d(x, kernel[radius - pad_y : radius + pad_y + 1].view(1, 1, -1, 1))


def _l0_step(
    delta: torch.Tensor,
    direction: torch.Tensor,
    grey: torch.Tensor,
    l0_regions: list[list[tuple[torch.Tensor, int]]],
    chosen: torch.Tensor,
    step: int,
    steps: int,
) -> None:
    """Set this step's share of each L0 region's pixels to black or white, in place."""
    flat_dir = direction.flatten(1)
    flat_grey = grey.flatten(1)
    room = torch.where(flat_dir > 0, 1.0 - flat_grey, flat_grey)
    gain = flat_dir.abs() * room
    flat_delta = delta.view(delta.shape[0], -1)
    for b, regions in enumerate(l0_regions):
        for mask, count in regions:
            wanted = round(count * (step + 1) / steps) - round(count * step / steps)
            if wanted <= 0:
                continue
            scores = torch.where(mask & ~chosen[b] & (gain[b] > 0), gain[b], -1.0)
            top = torch.topk(scores, min(wanted, scores.numel()))
            picked = top.indices[top.values > 0]
            chosen[b, picked] = True
            flat_delta[b, picked] = torch.sign(flat_dir[b, picked])
