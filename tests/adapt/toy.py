"""A toy site scheme the shipped model half reads: two digits, each rotated up to 80 degrees."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).resolve().parents[2] / "src/captchalab/assets/fonts/DejaVuSansMono.ttf"


def rotated_digits(count: int, seed: int, length: int = 2) -> list[tuple[Image.Image, str]]:
    font = ImageFont.truetype(str(FONT), 26)
    rng = random.Random(seed)
    samples = []
    for _ in range(count):
        text = "".join(rng.choice("0123456789") for _ in range(length))
        image = Image.new("L", (110, 36), 255)
        x = 6 + rng.randint(0, 10)
        for char in text:
            glyph = Image.new("L", (30, 36), 0)
            ImageDraw.Draw(glyph).text((4, 2), char, fill=255, font=font)
            glyph = glyph.rotate(rng.uniform(-80, 80), resample=Image.Resampling.BILINEAR)
            image.paste(0, (x, 0), glyph)
            x += 16
        samples.append((image, text))
    return samples


def write_pool(folder: Path, count: int, seed: int) -> dict[str, str]:
    """Unlabelled images in ``folder``; returns their labels by file name (for the oracle)."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = {}
    for index, (image, text) in enumerate(rotated_digits(count, seed)):
        image.save(folder / f"p{index:04d}.png")
        labels[f"p{index:04d}.png"] = text
    return labels
