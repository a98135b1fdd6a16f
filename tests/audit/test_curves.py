"""Power-law fits and the cost to reach a target accuracy."""

from __future__ import annotations

import pytest

from captchalab.audit.curves import cost_to_reach, fit_power_law


def test_fit_recovers_a_power_law() -> None:
    xs = [50, 200, 1000, 5000]
    accuracies = [1 - 3.0 * x**-0.4 for x in xs]
    law = fit_power_law(xs, accuracies)
    assert law is not None
    assert law.a == pytest.approx(3.0, rel=1e-6) and law.b == pytest.approx(0.4, rel=1e-6)
    assert law.cost(0.9) == pytest.approx((3.0 / 0.1) ** (1 / 0.4), rel=1e-6)


def test_cost_is_measured_interpolated_or_extrapolated() -> None:
    assert cost_to_reach([10, 100], [0.95, 0.99], 0.9).method == "measured"
    between = cost_to_reach([10, 100], [0.4, 0.6], 0.5)
    assert between.method == "interpolated" and between.value == pytest.approx(10**1.5)
    beyond = cost_to_reach([100, 1000], [0.2, 0.6], 0.9)
    assert beyond.method == "extrapolated" and beyond.value is not None
    assert beyond.value > 1000
    assert "extrapolated" in beyond.text()


def test_flat_or_falling_curve_is_not_estimable() -> None:
    assert cost_to_reach([100, 1000], [0.3, 0.3], 0.9).value is None
    assert cost_to_reach([100, 1000], [0.3, 0.1], 0.9).value is None
    assert fit_power_law([100], [0.5]) is None


def test_far_extrapolation_is_only_a_bound() -> None:
    cost = cost_to_reach([40, 160], [0.29, 0.34], 0.9)
    assert cost.method == "beyond" and cost.value is None
    assert cost.bound == 160 * 1000 and "beyond" in cost.text()


def test_plateau_points_are_left_out_of_the_fit() -> None:
    # the full hku audit's from-scratch curve: 0% until learning starts, then 30.8% -> 74.75%
    xs, accuracies = [50, 200, 1000, 10_000, 100_000], [0.0, 0.0, 0.0, 0.308, 0.7475]
    law = fit_power_law(xs, accuracies)
    alone = fit_power_law(xs[3:], accuracies[3:])
    assert law is not None and alone is not None and law == alone
    cost = cost_to_reach(xs, accuracies, 0.9)
    assert cost.method == "extrapolated" and cost.value is not None
    assert 500_000 < cost.value < 2_000_000
    assert fit_power_law([50, 200, 1000], [0.0, 0.0, 0.3]) is None  # one point past it
    assert cost_to_reach([50, 200, 1000], [0.0, 0.0, 0.3], 0.9).value is None


def test_near_equal_costs_give_no_fit() -> None:
    # two timings of equally long runs: no trend to fit, and no overflow from a huge slope
    assert fit_power_law([0.005179322516666455, 0.0051762340999999875], [0.0, 1 / 6]) is None
    assert fit_power_law([1.0, 1.05], [0.2, 0.4]) is None
    assert fit_power_law([1.0, 1.2], [0.2, 0.4]) is not None


def test_nearly_flat_trend_is_beyond_not_an_error() -> None:
    from captchalab.audit.curves import PowerLaw

    assert PowerLaw(a=0.9, b=1e-4).cost(0.99) == float("inf")
    cost = cost_to_reach([100, 1000], [0.1, 0.1001], 0.99)
    assert cost.method in ("beyond", "unreachable") and cost.value is None
