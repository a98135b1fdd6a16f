"""Adapting a model to a site without human labels: answers its owner's checker accepts
become labels for fine-tuning (see ``loop.adapt``)."""

from captchalab.adapt.checkers import (
    Checker,
    CheckerError,
    CommandChecker,
    HttpChecker,
    OracleChecker,
    make_checker,
)
from captchalab.adapt.loop import AdaptConfig, AdaptRound, adapt

__all__ = [
    "AdaptConfig",
    "AdaptRound",
    "Checker",
    "CheckerError",
    "CommandChecker",
    "HttpChecker",
    "OracleChecker",
    "adapt",
    "make_checker",
]
