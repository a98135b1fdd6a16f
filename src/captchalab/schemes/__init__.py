"""Captcha generators behind one interface, registered by name."""

from captchalab.schemes import combined as _combined  # noqa: F401  (composite schemes)
from captchalab.schemes import presets as _presets  # noqa: F401  (registers the presets)
from captchalab.schemes.base import Scheme
from captchalab.schemes.registry import get_scheme, list_schemes, register_scheme

__all__ = ["Scheme", "get_scheme", "list_schemes", "register_scheme"]
