"""Learning curves: the cost (samples or CPU-minutes) at which an attacker reaches a target.

The error rate of a learner typically falls as a power law of its training data,
``error(x) = a * x ** -b``. Where the measured curve crosses a target, the cost is read off
by interpolating between the two measured points around it (in log x); where the budget
stops short, the power law fitted to the measured points is extrapolated, and the result
says so.

The power law describes a learner that has started to learn. A from-scratch CTC model first
sits on a plateau at 0% (it outputs blanks) for tens of thousands of samples; points on that
plateau are left out of the fit, which starts at the first point that reads anything, so they
do not flatten the slope (with them, a curve that rises 31% -> 75% over a tenfold budget would
extrapolate to > 100M captchas for 90% instead of about 1M).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

TARGETS = (0.5, 0.9)
# Extrapolating a power law more than this factor past the last measured point says little:
# such costs are reported as "beyond" that bound instead of as a number.
EXTRAPOLATION_LIMIT = 1000.0
_EPS = 1e-3  # accuracies of exactly 0 or 1 carry no slope; clip them for the fit
PLATEAU = 0.01  # leading points below this accuracy have not started learning: not fitted
MIN_SPREAD = 1.1  # a fit needs its largest cost at least this many times its smallest


@dataclass(frozen=True)
class PowerLaw:
    """``error(x) = a * x ** -b`` fitted in log-log space."""

    a: float
    b: float

    def accuracy(self, x: float) -> float:
        return 1.0 - min(1.0, self.a * x**-self.b)

    def cost(self, accuracy: float) -> float | None:
        """The ``x`` at which the fitted accuracy reaches ``accuracy`` (None: never)."""
        if self.b <= 0:
            return None
        try:
            return float((self.a / (1.0 - accuracy)) ** (1.0 / self.b))
        except OverflowError:  # a nearly flat trend: further than any float
            return math.inf


@dataclass(frozen=True)
class Cost:
    """The cost to reach ``target``: ``value`` (None: not estimable), and how it was found."""

    target: float
    value: float | None
    method: str  # "measured" | "interpolated" | "extrapolated" | "beyond" | "unreachable"
    bound: float | None = None  # for "beyond": the cost exceeds this

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self, unit: str = "") -> str:
        if self.method == "beyond" and self.bound is not None:
            return f"> {_human(self.bound)}{unit} (beyond {EXTRAPOLATION_LIMIT:.0f}x the budget)"
        if self.value is None:
            return "not estimable (no upward trend)"
        number = _human(self.value) + unit
        if self.method == "extrapolated":
            return f"~{number} (extrapolated)"
        if self.method == "measured":
            return f"<= {number} (measured)"
        return f"{number} (interpolated)"


def learning_points(xs: Sequence[float], accuracies: Sequence[float]) -> list[tuple[float, float]]:
    """``(x, accuracy)`` sorted by ``x``, from the first point at or above ``PLATEAU`` on."""
    pairs = sorted((x, acc) for x, acc in zip(xs, accuracies, strict=True) if x > 0)
    first = next((i for i, (_, acc) in enumerate(pairs) if acc >= PLATEAU), len(pairs))
    return pairs[first:]


def fit_power_law(xs: Sequence[float], accuracies: Sequence[float]) -> PowerLaw | None:
    """Least-squares fit of ``log(error) = log(a) - b log(x)`` past the zero-accuracy plateau.

    None with < 2 usable points, with points whose ``x`` spans less than ``MIN_SPREAD``
    (near-equal costs, e.g. two timings of equally long runs, give no trend), or when the
    fitted law is not representable."""
    points = [
        (math.log(x), math.log(min(1 - _EPS, max(_EPS, 1.0 - acc))))
        for x, acc in learning_points(xs, accuracies)
    ]
    if len(points) < 2:
        return None
    mean_x = sum(p[0] for p in points) / len(points)
    mean_y = sum(p[1] for p in points) / len(points)
    var = sum((p[0] - mean_x) ** 2 for p in points)
    if var == 0 or points[-1][0] - points[0][0] < math.log(MIN_SPREAD):
        return None
    slope = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points) / var
    intercept = mean_y - slope * mean_x
    try:
        return PowerLaw(a=math.exp(intercept), b=-slope)
    except OverflowError:
        return None


def cost_to_reach(xs: Sequence[float], accuracies: Sequence[float], target: float) -> Cost:
    """Measured, interpolated, or (past the last point) power-law-extrapolated cost."""
    pairs = sorted(zip(xs, accuracies, strict=True))
    if not pairs:
        return Cost(target, None, "unreachable")
    if pairs[0][1] >= target:
        return Cost(target, float(pairs[0][0]), "measured")
    for (x0, a0), (x1, a1) in itertools.pairwise(pairs):
        if a0 < target <= a1:
            # linear in log(x) between the two measured points that bracket the target
            t = (target - a0) / (a1 - a0)
            return Cost(
                target, math.exp(math.log(x0) + t * (math.log(x1) - math.log(x0))), "interpolated"
            )
    law = fit_power_law([x for x, _ in pairs], [a for _, a in pairs])
    value = law.cost(target) if law else None
    if value is None or value < pairs[-1][0]:
        return Cost(target, None, "unreachable")
    bound = pairs[-1][0] * EXTRAPOLATION_LIMIT
    if value > bound:
        return Cost(target, None, "beyond", bound)
    return Cost(target, value, "extrapolated")


def costs(xs: Sequence[float], accuracies: Sequence[float]) -> list[Cost]:
    return [cost_to_reach(xs, accuracies, target) for target in TARGETS]


def _human(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:.1f}G"
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}"
