"""The one place the challenge service meets the hardening engine (``captchalab.adversarial``).

It is imported here, lazily, only when the challenge file has a ``hardening:`` section: the
engine needs torch, which the service itself never imports.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from PIL import Image

from captchalab.service.challenges.config import ChallengeConfigError, HardeningConfig

HardenFn = Callable[[Sequence[Image.Image], Sequence[str]], list[Image.Image]]
"""(images, their texts) -> hardened images of the same size, RGB, 8-bit."""


def load_hardener(config: HardeningConfig) -> HardenFn:
    """Load the substitute model and return a function that hardens a batch of captchas."""
    try:
        from captchalab.adversarial import Hardener, HardeningSettings
    except ImportError as exc:
        raise ChallengeConfigError(
            f"hardening needs torch and captchalab.adversarial ({exc}); install "
            "captchalab[train], or remove `hardening:` and serve a folder hardened beforehand "
            "(source: folder)"
        ) from None
    try:
        settings = HardeningSettings.from_dict(config.settings)
        hardener = Hardener.load(
            [config.substitute, *config.ensemble], settings, device=config.device
        )
    except (ValueError, TypeError, KeyError, FileNotFoundError) as exc:
        raise ChallengeConfigError(f"hardening: {str(exc).strip(chr(39))}") from None

    def harden(images: Sequence[Image.Image], texts: Sequence[str]) -> list[Image.Image]:
        # A fresh secret seed per batch: the perturbation must not be predictable.
        return hardener.harden(images, texts, seed=secrets.randbits(63))

    return harden
