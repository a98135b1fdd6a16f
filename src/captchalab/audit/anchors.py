"""Published accuracies the audit's curves are set beside (the seed papers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Anchor:
    short: str
    source: str
    scheme: str  # the captchalab preset that reproduces its data
    accuracy: float
    samples: int  # labelled training captchas the publication used

    def to_dict(self) -> dict[str, object]:
        return {
            "short": self.short,
            "source": self.source,
            "scheme": self.scheme,
            "accuracy": self.accuracy,
            "samples": self.samples,
        }


ANCHORS = (
    Anchor("Deep-CAPTCHA digits", "Deep-CAPTCHA, 5 digits", "digits5", 0.9894, 500_000),
    Anchor("Deep-CAPTCHA alnum", "Deep-CAPTCHA, 5 alphanumerics", "alnum5", 0.9831, 500_000),
    Anchor("HKU", "HKU report, CNN5+BLSTM+CTC, lengths 4-6", "hku", 0.956, 30_000),
)
