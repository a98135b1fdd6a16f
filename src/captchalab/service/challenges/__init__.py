"""The challenge API: captchas a site shows its visitors, answers judged once and stored.

Mounted by ``create_app`` when ``ServiceSettings.challenges`` names a challenge file
(``captchalab serve --challenges FILE``). Torch-free unless the file asks for hardening.
"""

from captchalab.service.challenges.config import (
    ChallengeConfig,
    ChallengeConfigError,
    load_challenge_config,
)
from captchalab.service.challenges.service import ChallengeService

__all__ = ["ChallengeConfig", "ChallengeConfigError", "ChallengeService", "load_challenge_config"]
