"""``captchalab`` command line: each command parses, calls one library function, prints."""

from __future__ import annotations

import logging

import captchalab.cli.hardening  # noqa: F401  (the harden sub-app)
from captchalab.cli import adapt, audit, data, inference, training  # noqa: F401  (register the commands)
from captchalab.cli.app import app


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


__all__ = ["app", "main"]
