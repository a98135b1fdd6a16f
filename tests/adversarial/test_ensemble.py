"""Hardening against an ensemble of substitutes: the members' gradients are combined, every
member must fool, and a one-member ensemble is the plain substitute."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from captchalab.adversarial import Hardener, HardeningSettings
from captchalab.adversarial.zoo import CheckpointAttacker, success_rate

SETTINGS = HardeningSettings(method="linf", mask="full", linf=0.1, steps=5)


def test_an_ensemble_of_one_model_twice_is_that_model(
    memorised_checkpoint: Path, captchas: tuple[list[Image.Image], list[str]]
) -> None:
    """Each member's gradient is scaled by a positive number per image, so doubling a member
    changes neither a sign step (L-inf) nor a ranking of pixels (L0)."""
    images, texts = captchas[0][:6], captchas[1][:6]
    for settings in (SETTINGS, HardeningSettings(method="mixture", linf=0.3, l0=50)):
        alone = Hardener.load(memorised_checkpoint, settings).harden(images, texts, seed=3)
        twice = Hardener.load([memorised_checkpoint] * 2, settings).harden(images, texts, seed=3)
        assert [a.tobytes() for a in alone] == [t.tobytes() for t in twice]


def test_an_ensemble_fools_every_member_where_each_alone_transfers_poorly(
    memorised_checkpoint: Path,
    second_memorised_checkpoint: Path,
    captchas: tuple[list[Image.Image], list[str]],
) -> None:
    images, texts = captchas
    settings = HardeningSettings(method="linf", mask="full", linf=0.15, steps=10)
    members = [memorised_checkpoint, second_memorised_checkpoint]
    readers = [CheckpointAttacker(str(n), path) for n, path in enumerate(members)]
    assert all(success_rate(r.read(images), texts, True) >= 0.9 for r in readers)

    def rates(substitutes: list[Path]) -> list[float]:
        hardened = Hardener.load(substitutes, settings).harden(images, texts, seed=0)
        return [success_rate(r.read(hardened), texts, True) for r in readers]

    first_only, second_only, both = rates(members[:1]), rates(members[1:]), rates(members)
    assert first_only[0] <= 0.1 and second_only[1] <= 0.1  # white-box: each breaks itself
    assert both[0] <= 0.2 and both[1] <= 0.2, both
    # ... and the ensemble does better on each member than the other member's attack alone
    assert both[1] < first_only[1] and both[0] < second_only[0], (first_only, second_only)


def test_an_ensemble_member_that_cannot_read_a_text_is_a_clear_error(
    memorised_checkpoint: Path,
    tiny_checkpoints: dict[str, Path],
    captchas: tuple[list[Image.Image], list[str]],
) -> None:
    hardener = Hardener.load([tiny_checkpoints["crnn"], memorised_checkpoint], SETTINGS)
    images = captchas[0][:1]
    with pytest.raises(ValueError, match="1 to 4 symbols"):  # the second member reads 4
        hardener.harden(images, ["12345"], seed=0)
    with pytest.raises(ValueError, match="give at least one substitute"):
        Hardener.load([], SETTINGS)
