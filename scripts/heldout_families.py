"""Draw a contact sheet of the held-out benchmark schemes, to check them by eye.

    python scripts/heldout_families.py                       # -> docs/images/heldout_families.png
    python scripts/heldout_families.py --seed 3 --out /tmp/sheet.png

One row per ``configs/schemes/heldout_*.yaml``: its name, then samples at native size (as
many as fit in the row), each captioned with its label. Samples are those a benchmark sees
first (``sample_at(seed, 0..)``; the peer benchmark's test seed by default).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from captchalab.schemes import get_scheme
from captchalab.schemes.fonts import shipped_fonts
from captchalab.training.config import TEST_SEED

REPO = Path(__file__).resolve().parents[1]
ROW_WIDTH = 820  # pixels of samples per row
NAME_WIDTH = 170
GAP = 8
CAPTION = 14


def family_row(path: Path, seed: int, font: ImageFont.FreeTypeFont) -> Image.Image:
    """The row for one scheme file: its name, then captioned samples."""
    scheme = get_scheme(str(path))
    samples: list[tuple[Image.Image, str]] = []
    used = 0
    for index in range(8):
        image, text = scheme.sample_at(seed, index)
        if samples and used + image.width > ROW_WIDTH:
            break
        samples.append((image, text))
        used += image.width + GAP
    height = max(image.height for image, _ in samples) + CAPTION + 2 * GAP
    row = Image.new("RGB", (NAME_WIDTH + ROW_WIDTH + GAP, height), (255, 255, 255))
    draw = ImageDraw.Draw(row)
    draw.text((GAP, GAP), path.stem, font=font, fill=(0, 0, 0))
    x = NAME_WIDTH
    for image, text in samples:
        row.paste(image, (x, GAP))
        draw.text((x, GAP + image.height + 2), text, font=font, fill=(60, 60, 60))
        x += image.width + GAP
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=TEST_SEED, help="sampling seed")
    parser.add_argument("--schemes", type=Path, default=REPO / "configs" / "schemes")
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "images" / "heldout_families.png"
    )
    args = parser.parse_args(argv)
    paths = sorted(args.schemes.glob("heldout_*.yaml"))
    if not paths:
        raise SystemExit(f"error: no heldout_*.yaml in {args.schemes}")
    font = ImageFont.truetype(shipped_fonts()[0], 12)
    rows = [family_row(path, args.seed, font) for path in paths]
    sheet = Image.new("RGB", (rows[0].width, sum(row.height for row in rows)), (255, 255, 255))
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
        ImageDraw.Draw(sheet).line(((0, y - 1), (sheet.width, y - 1)), fill=(200, 200, 200))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out} ({len(rows)} schemes, {sheet.width}x{sheet.height})")


if __name__ == "__main__":
    main()
