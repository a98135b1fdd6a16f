"""captchalab: security toolkit for text CAPTCHAs."""

__version__ = "0.1.0"
