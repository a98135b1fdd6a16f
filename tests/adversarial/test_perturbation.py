"""Budgets, masks and reproducibility of the perturbation, checked on the served 8-bit PNG."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captchalab.adversarial import Hardener, HardeningSettings
from captchalab.adversarial.masks import background_mask
from captchalab.adversarial.mixture import region_union
from captchalab.adversarial.quantise import budget_levels

SETTINGS = [
    HardeningSettings(method="linf", mask="full", linf=0.1),
    HardeningSettings(method="linf", mask="background", linf=0.3, iterative=False),
    HardeningSettings(method="linf", mask="0.25", linf=0.2, momentum=0.9),
    HardeningSettings(method="l0", mask="full", l0=100),
    HardeningSettings(method="l0", mask="background", l0=25, iterative=False),
    HardeningSettings(method="mixture", mask="background", linf=0.3, l0=100),
    HardeningSettings(method="mixture", mask="full", masks=3, linf=0.3, l0=50, iterative=False),
    HardeningSettings(method="mixture", mask="0.25", masks=2, steps=4, jpeg_quality=70),
    HardeningSettings(method="mixture", mask="background", linf=0.3, l0=50, smooth=2.0),
    HardeningSettings(method="linf", mask="background", linf=0.2, diversity=1.0, jpeg_quality=80),
    HardeningSettings(method="linf", mask="glyph", linf=0.3),
    HardeningSettings(method="mixture", mask="glyph", linf=0.3, l0=100),
]


def _served(image: Image.Image) -> np.ndarray:
    """What a client decodes from the PNG the service would send."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), dtype=np.int16)


CASES = [("crnn", s) for s in SETTINGS] + [
    ("multihead", SETTINGS[5]),
    ("attention", SETTINGS[5]),
    ("multihead", SETTINGS[3]),
]


@pytest.mark.parametrize(
    "model_name, settings", CASES, ids=lambda c: c if isinstance(c, str) else f"{c.method}-{c.mask}"
)
def test_budgets_and_masks_hold_to_the_pixel(
    settings: HardeningSettings,
    model_name: str,
    tiny_checkpoints: dict[str, Path],
    captchas: tuple[list[Image.Image], list[str]],
) -> None:
    images, texts = captchas[0][:2], captchas[1][:2]
    settings = dataclasses.replace(settings, steps=min(settings.steps, 3))
    hardener = Hardener.load(tiny_checkpoints[model_name], settings)
    results = hardener.harden_detailed(images, texts, seed=5)
    background_of = [background_mask(im) for im in images]
    changed_any = 0
    for original, result, background in zip(images, results, background_of, strict=True):
        assert result.image.size == original.size and result.image.mode == "RGB"
        before, after = np.asarray(original, dtype=np.int16), _served(result.image)
        diff = np.abs(after - before)
        changed = diff.max(axis=-1) > 0
        changed_any += int(changed.sum())
        # nothing outside the allowed regions moves, not even by one grey level
        assert not (changed & ~region_union(result.regions)).any()
        if settings.mask == "background":
            assert not (changed & ~background).any()
        if settings.mask == "glyph":  # L-inf near the ink, L0 (mixture) in the background
            linf_area = np.zeros_like(background)
            for region in result.regions:
                if region.norm == "linf":
                    linf_area |= region.mask
            assert not (linf_area & background).any()
        for region in result.regions:
            inside = changed & region.mask
            if region.norm == "linf":
                assert diff[region.mask].max(initial=0) <= budget_levels(region.budget)
                assert budget_levels(region.budget) <= round(settings.linf * 255)
            else:
                assert inside.sum() <= region.budget
                if settings.method == "mixture":  # L0 only in the background (section 5.1)
                    assert not (inside & ~background).any()
        l0_total = sum(int((changed & r.mask).sum()) for r in result.regions if r.norm == "l0")
        assert l0_total <= settings.l0
        if settings.method == "linf":
            assert diff.max() <= budget_levels(settings.linf)
    assert changed_any > 0  # the attack did perturb something


def test_harden_is_reproducible_by_seed(
    tiny_checkpoints: dict[str, Path], captchas: tuple[list[Image.Image], list[str]]
) -> None:
    images, texts = captchas[0][:4], captchas[1][:4]
    hardener = Hardener.load(tiny_checkpoints["crnn"], HardeningSettings(steps=2))
    first = [im.tobytes() for im in hardener.harden(images, texts, seed=1)]
    again = [im.tobytes() for im in hardener.harden(images, texts, seed=1)]
    other = [im.tobytes() for im in hardener.harden(images, texts, seed=2)]
    assert first == again
    assert first != other


def test_bad_inputs_get_clear_errors(
    tiny_checkpoints: dict[str, Path], captchas: tuple[list[Image.Image], list[str]], tmp_path: Path
) -> None:
    hardener = Hardener.load(tiny_checkpoints["crnn"], HardeningSettings())
    images = captchas[0][:2]
    with pytest.raises(ValueError, match="2 images but 1 texts"):
        hardener.harden(images, ["1234"], seed=0)
    with pytest.raises(ValueError, match="'x'"):
        hardener.harden(images, ["12x4", "1234"], seed=0)
    with pytest.raises(ValueError, match="1 to 6 symbols"):
        hardener.harden(images, ["1234567", "1234"], seed=0)
    with pytest.raises(FileNotFoundError):
        Hardener.load(tmp_path / "missing", HardeningSettings())
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "checkpoint.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot load the substitute"):
        Hardener.load(broken, HardeningSettings())


def test_hardening_lowers_the_substitutes_accuracy(
    memorised_checkpoint: Path, captchas: tuple[list[Image.Image], list[str]]
) -> None:
    from captchalab.adversarial.zoo import CheckpointAttacker, success_rate

    images, texts = captchas
    reader = CheckpointAttacker("substitute", memorised_checkpoint)
    before = success_rate(reader.read(images), texts, case_sensitive=True)
    settings = HardeningSettings(method="linf", mask="full", linf=0.1, steps=5)
    hardened = Hardener.load(memorised_checkpoint, settings).harden(images, texts, seed=0)
    after = success_rate(reader.read(hardened), texts, case_sensitive=True)
    assert before >= 0.9
    assert after <= before - 0.5, (before, after)


def test_gaussian_blur_keeps_constants_and_spreads_a_point() -> None:
    import torch

    from captchalab.adversarial.attacks import gaussian_blur

    flat = torch.full((1, 1, 9, 12), 0.7)
    assert torch.allclose(gaussian_blur(flat, 2.0), flat, atol=1e-6)
    point = torch.zeros(1, 1, 9, 12)
    point[0, 0, 4, 6] = 1.0
    blurred = gaussian_blur(point, 1.5)
    assert blurred.shape == point.shape
    assert abs(float(blurred.sum()) - 1.0) < 1e-5  # mass kept away from the edges
    assert float(blurred.max()) < 0.2 and float(blurred[0, 0, 4, 8]) > 0
    assert gaussian_blur(torch.rand(2, 1, 3, 2), 4.0).shape == (2, 1, 3, 2)  # tiny images


def test_smooth_steps_still_break_the_substitute_and_spare_ssim(
    memorised_checkpoint: Path, captchas: tuple[list[Image.Image], list[str]]
) -> None:
    from captchalab.adversarial.usability import ssim
    from captchalab.adversarial.zoo import CheckpointAttacker, success_rate

    images, texts = captchas
    reader = CheckpointAttacker("substitute", memorised_checkpoint)
    scores = {}
    for smooth in (0.0, 2.0):
        settings = HardeningSettings(method="linf", mask="full", linf=0.15, steps=5, smooth=smooth)
        hardened = Hardener.load(memorised_checkpoint, settings).harden(images, texts, seed=0)
        accuracy = success_rate(reader.read(hardened), texts, case_sensitive=True)
        similarity = float(np.mean([ssim(a, b) for a, b in zip(images, hardened, strict=True)]))
        scores[smooth] = (accuracy, similarity)
    assert scores[2.0][0] <= 0.5, scores
    assert scores[2.0][1] > scores[0.0][1] + 0.05, scores


def test_diverse_shrinks_and_shifts_within_the_canvas() -> None:
    import torch

    from captchalab.adversarial.model_input import diverse

    image = torch.ones(1, 1, 10, 20)
    image[0, 0, 3:7, 4:10] = 0.0  # a dark block inside a light border (the fill)
    same = diverse(image, (1.0, 0.5, 0.5))
    assert torch.equal(same, image)
    moved = diverse(image, (0.5, 1.0, 1.0))  # half size in the bottom-right corner
    assert moved.shape == image.shape
    assert float(moved[0, 0, :5].min()) == 1.0 and float(moved[0, 0, :, :10].min()) == 1.0
    assert float(moved[0, 0, 5:, 10:].min()) < 0.5  # the dark block, shrunk


def test_diversity_is_reproducible_and_still_breaks_the_substitute(
    memorised_checkpoint: Path, captchas: tuple[list[Image.Image], list[str]]
) -> None:
    from captchalab.adversarial.zoo import CheckpointAttacker, success_rate

    images, texts = captchas
    reader = CheckpointAttacker("substitute", memorised_checkpoint)
    settings = HardeningSettings(method="linf", mask="full", linf=0.15, steps=5, diversity=0.7)
    hardener = Hardener.load(memorised_checkpoint, settings)
    first, again = (hardener.harden(images, texts, seed=3) for _ in range(2))
    assert all(
        np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, again, strict=True)
    )
    other = hardener.harden(images, texts, seed=4)
    assert any(
        not np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, other, strict=True)
    )
    assert success_rate(reader.read(first), texts, case_sensitive=True) <= 0.5
