"""Learning rate as a pure function of the step, so a resumed run needs no scheduler state."""

from __future__ import annotations

import math


def learning_rate(step: int, total: int, peak: float, kind: str, warmup: float = 0.1) -> float:
    """LR at ``step`` (0-based) of ``total``.

    onecycle: linear warm-up from peak/25 over ``warmup`` of the run, then cosine to peak/1e4;
    cosine: cosine from peak to peak/100 with the same warm-up; constant: peak.
    """
    if kind == "constant":
        return peak
    warmup_steps = max(1, int(total * warmup))
    floor = peak / 1e4 if kind == "onecycle" else peak / 100
    if step < warmup_steps:
        start = peak / 25 if kind == "onecycle" else floor
        return start + (peak - start) * step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total - warmup_steps))
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))
