"""Adversarial hardening inside the audit: how much `captchalab harden` slows the attackers.

The strongest attacker of the audit is the substitute: test captchas are hardened against it
with the default settings (``HardeningSettings()``: the mixture method, L-inf 0.3 and L0 100,
iterative, background masks), saved as 8-bit images as a site would serve them, and every
attacker's best model reads them again. The substitute's own drop is the white-box effect,
an upper bound; the other attackers, trained separately, give the transfer effect, which is
what an unknown attacker would meet. SSIM against the original says how much the look changed
(1 = unchanged).
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from captchalab.audit.attack import Trained, predict_checkpoint, score
from captchalab.audit.targets import AuditTarget, ScoringImages


def hardening_effect(
    target: AuditTarget,
    trained: dict[str, list[Trained]],
    raw_images: list[Image.Image],
    texts: list[str],
    count: int,
    seed: int,
) -> dict[str, Any]:
    """Clean and hardened accuracy of each curve's strongest attacker on ``count`` test
    captchas hardened against the strongest of them; ``{"available": False, ...}`` when the
    substitute cannot be used."""
    from captchalab.adversarial import Hardener, HardeningSettings
    from captchalab.adversarial.usability import ssim

    best = {name: max(runs, key=lambda r: r.point.accuracy) for name, runs in trained.items()}
    substitute_name = max(best, key=lambda name: (best[name].point.accuracy, -len(name)))
    substitute = best[substitute_name]
    count = min(count, len(texts))
    originals, labels = raw_images[:count], texts[:count]
    settings = HardeningSettings()
    try:
        hardener = Hardener.load(substitute.checkpoint, settings)
        hardened = hardener.harden(originals, labels, seed)
    except ValueError as exc:  # e.g. a label the substitute cannot encode
        return {"available": False, "note": str(exc)}
    hardened_set = ScoringImages(hardened)
    rows = []
    for name, run in best.items():
        clean, _ = score(labels, run.predictions[:count], target.charset.case_sensitive)
        after, _ = score(
            labels, predict_checkpoint(run.checkpoint, hardened_set), target.charset.case_sensitive
        )
        rows.append(
            {
                "attacker": name,
                "role": "substitute" if name == substitute_name else "transfer",
                "samples": run.point.samples,
                "clean": clean,
                "hardened": after,
            }
        )
    similarity = [ssim(a, b) for a, b in zip(originals, hardened, strict=True)]
    return {
        "available": True,
        "settings": {
            "method": settings.method,
            "linf": settings.linf,
            "l0": settings.l0,
            "mask": settings.mask,
            "iterative": settings.iterative,
        },
        "count": count,
        "substitute": substitute_name,
        "attackers": rows,
        "ssim": sum(similarity) / max(1, len(similarity)),
    }
