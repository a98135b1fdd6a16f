from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from captchalab.adversarial.cleaning import get_cleaning, list_cleanings, tv_denoise
from captchalab.adversarial.masks import ink_mask
from captchalab.adversarial.usability import glyph_energy_share, psnr, ssim
from captchalab.adversarial.zoo import Cleaned, success_rate


def _noisy(captchas: tuple[list[Image.Image], list[str]]) -> tuple[Image.Image, Image.Image]:
    clean = captchas[0][0]
    rng = np.random.default_rng(0)
    array = np.asarray(clean, dtype=np.int16) + rng.integers(-40, 41, (40, 120, 1))
    return clean, Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("name", ["median", "blur", "jpeg", "binarise", "tv"])
def test_every_cleaning_keeps_size_and_mode(name: str, captchas) -> None:
    _, noisy = _noisy(captchas)
    out = get_cleaning(name)(noisy)
    assert out.size == noisy.size and out.mode == "RGB"


def test_cleanings_are_registered() -> None:
    assert set(list_cleanings()) == {"median", "blur", "jpeg", "binarise", "tv"}
    with pytest.raises(KeyError, match="unknown cleaning"):
        get_cleaning("sharpen")


def test_denoising_brings_a_noisy_captcha_closer(captchas) -> None:
    clean, noisy = _noisy(captchas)
    for name in ("median", "tv"):
        assert psnr(clean, get_cleaning(name)(noisy)) > psnr(clean, noisy)


def test_tv_denoise_flattens_noise() -> None:
    rng = np.random.default_rng(1)
    noise = 0.5 + 0.2 * rng.standard_normal((30, 30))
    assert tv_denoise(noise, weight=0.2).std() < 0.5 * noise.std()


def test_ssim_psnr_and_glyph_energy(captchas) -> None:
    clean, noisy = _noisy(captchas)
    assert ssim(clean, clean) == pytest.approx(1.0)
    assert psnr(clean, clean) == float("inf")
    assert ssim(clean, noisy) < 0.9
    assert 0.0 < glyph_energy_share(clean, noisy) < 0.5  # uniform noise: mostly background
    dark = np.asarray(clean).copy()
    dark[~ink_mask(clean)] = 0  # change background only
    assert glyph_energy_share(clean, Image.fromarray(dark)) == 0.0


def test_cleaned_attacker_and_success_rate() -> None:
    class Echo:
        name = "echo"

        def read(self, images):
            return ["AB" if im.mode == "RGB" else "" for im in images]

    attacker = Cleaned(Echo(), "median")
    assert attacker.name == "echo+median"
    answers = attacker.read([Image.new("L", (20, 10))])
    assert success_rate(answers, ["ab"], case_sensitive=False) == 1.0
    assert success_rate(answers, ["ab"], case_sensitive=True) == 0.0
