from __future__ import annotations

import pytest

from captchalab.adversarial import HardeningSettings


def test_round_trip_through_a_dict() -> None:
    settings = HardeningSettings(method="l0", iterative=False, l0=50, mask="0.25", jpeg_quality=80)
    assert HardeningSettings.from_dict(settings.to_dict()) == settings


def test_yaml_numbers_are_accepted_for_mask_and_budget() -> None:
    settings = HardeningSettings.from_dict({"mask": 0.25, "linf": 0})
    assert settings.mask == "0.25" and settings.linf == 0.0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"method": "fgsm"}, "method"),
        ({"linf": 1.5}, "linf"),
        ({"linf": "0.3"}, "linf"),
        ({"l0": -1}, "l0"),
        ({"l0": 2.5}, "l0"),
        ({"mask": "corner"}, "mask"),
        ({"mask": "0"}, "fraction"),
        ({"masks": 0}, "masks"),
        ({"steps": 0}, "steps"),
        ({"momentum": 2}, "momentum"),
        ({"smooth": -1}, "smooth"),
        ({"smooth": "wide"}, "smooth must be a number"),
        ({"diversity": 1.5}, "diversity"),
        ({"diversity": "often"}, "diversity must be a number"),
        ({"jpeg_quality": 0}, "jpeg_quality"),
        ({"iterative": "yes"}, "iterative"),
        ({"colour": "red"}, "unknown"),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HardeningSettings.from_dict(data)


def test_direct_method_takes_one_step() -> None:
    assert HardeningSettings(iterative=False, steps=10).effective_steps == 1
    assert HardeningSettings(iterative=True, steps=7).effective_steps == 7


def test_glyph_mask_takes_no_l0_method() -> None:
    assert HardeningSettings(method="linf", mask="glyph").mask == "glyph"
    assert HardeningSettings(method="mixture", mask="glyph").mask == "glyph"
    with pytest.raises(ValueError, match="L-inf changes only"):
        HardeningSettings(method="l0", mask="glyph")
