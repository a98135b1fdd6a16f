"""``Hardener``: a substitute checkpoint plus settings -> hardened captchas, reproducibly."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from captchalab.adversarial.attacks import Region, Substitute, perturb
from captchalab.adversarial.mixture import plan_regions
from captchalab.adversarial.quantise import apply_delta, to_tensor
from captchalab.adversarial.settings import HardeningSettings
from captchalab.training.checkpoint import CheckpointMeta, load_checkpoint

BATCH = 32


@dataclass(frozen=True)
class HardenedCaptcha:
    """A hardened image with the regions it was allowed to change."""

    image: Image.Image
    regions: list[Region]


class Hardener:
    """Perturbs captchas against a substitute solver (advCAPTCHA, section 3.3)."""

    def __init__(
        self,
        model: nn.Module,
        meta: CheckpointMeta,
        settings: HardeningSettings,
        device: str = "cpu",
        ensemble: Sequence[tuple[nn.Module, CheckpointMeta]] = (),
    ) -> None:
        """``model``/``meta``: the substitute; ``ensemble``: further substitutes attacked at
        the same time (every text must be readable by every member)."""
        from captchalab.objectives import create_objective

        self.meta, self.settings, self.device = meta, settings, torch.device(device)
        self.metas = [meta, *(member_meta for _, member_meta in ensemble)]
        self.substitutes: list[Substitute] = []
        for member, member_meta in [(model, meta), *ensemble]:
            member = member.to(self.device).eval()
            for parameter in member.parameters():
                parameter.requires_grad_(False)
            objective = create_objective(
                member_meta.objective, member_meta.charset, member_meta.max_length
            )
            self.substitutes.append(Substitute(member, objective, member_meta.preprocessing))
        self.substitute = self.substitutes[0]

    @classmethod
    def load(
        cls,
        substitute: str | Path | Sequence[str | Path],
        settings: HardeningSettings,
        device: str = "cpu",
    ) -> Hardener:
        """From a checkpoint folder or run folder (``best``, else ``last``), or several: an
        ensemble whose first member is the substitute proper."""
        paths = [substitute] if isinstance(substitute, str | Path) else list(substitute)
        if not paths:
            raise ValueError("give at least one substitute")
        members = []
        for path in paths:
            try:
                members.append(load_checkpoint(path))
            except FileNotFoundError:
                raise
            except Exception as exc:  # corrupt JSON, weights or an incompatible model
                raise ValueError(f"cannot load the substitute at {path}: {exc}") from exc
        (model, meta), *rest = members
        return cls(model, meta, settings, device, ensemble=rest)

    def _check(self, images: Sequence[Image.Image], texts: Sequence[str]) -> list[str]:
        if len(images) != len(texts):
            raise ValueError(f"{len(images)} images but {len(texts)} texts")
        clean = []
        for text in texts:
            for number, meta in enumerate(self.metas):
                where = (
                    "the substitute's charset"
                    if number == 0
                    else f"substitute {number + 1}'s charset"
                )
                normal = meta.charset.validate(text, where=where)
                if not normal or len(normal) > meta.max_length:
                    raise ValueError(
                        f"text {text!r}: the substitute reads 1 to {meta.max_length} symbols"
                    )
            clean.append(text)  # each member's objective applies its own case policy
        return clean

    def plan(self, image: Image.Image, seed: int, index: int) -> list[Region]:
        """The regions of image ``index`` for ``seed`` (a pure function of both)."""
        return plan_regions(image, self.settings, random.Random(f"harden:{seed}:{index}"))

    def harden_detailed(
        self,
        images: Sequence[Image.Image],
        texts: Sequence[str],
        seed: int,
        progress: Callable[[int], None] | None = None,
    ) -> list[HardenedCaptcha]:
        """Like :meth:`harden`, with each image's regions; ``progress(n)`` after each batch."""
        clean = self._check(images, texts)
        rgb = [im.convert("RGB") for im in images]
        plans = [self.plan(im, seed, i) for i, im in enumerate(rgb)]
        by_size: dict[tuple[int, int], list[int]] = {}
        for index, image in enumerate(rgb):
            by_size.setdefault(image.size, []).append(index)
        out: list[HardenedCaptcha | None] = [None] * len(rgb)
        for indices in by_size.values():
            for start in range(0, len(indices), BATCH):
                chunk = indices[start : start + BATCH]
                originals = to_tensor([rgb[i] for i in chunk]).to(self.device)
                delta = perturb(
                    self.substitutes,
                    originals,
                    [clean[i] for i in chunk],
                    [plans[i] for i in chunk],
                    self.settings.effective_steps,
                    self.settings.momentum,
                    self.settings.jpeg_quality,
                    smooth=self.settings.smooth,
                    diversity=self.settings.diversity,
                    generator=torch.Generator().manual_seed((seed * 1_000_003 + chunk[0]) % 2**63),
                )
                pixels = apply_delta(originals, delta)
                for row, index in enumerate(chunk):
                    image = Image.fromarray(np.ascontiguousarray(pixels[row]), "RGB")
                    out[index] = HardenedCaptcha(image, plans[index])
                if progress:
                    progress(len(chunk))
        return [item for item in out if item is not None]

    def harden(
        self, images: Sequence[Image.Image], texts: Sequence[str], seed: int
    ) -> list[Image.Image]:
        """Same size as the inputs, RGB, already quantised to 8 bits (PNG-safe)."""
        return [item.image for item in self.harden_detailed(images, texts, seed)]
