"""Adversarial hardening of captchas (advCAPTCHA): perturb, serve, learn from answers, repeat.

Needs torch; the service imports it lazily, only when a challenge file asks for hardening.
"""

from captchalab.adversarial.engine import HardenedCaptcha, Hardener
from captchalab.adversarial.settings import HardeningSettings

__all__ = ["HardenedCaptcha", "Hardener", "HardeningSettings"]
