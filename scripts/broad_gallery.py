"""Draw a grid of labelled samples of a scheme (default ``broad``) for people to look at.

    python scripts/broad_gallery.py -o docs/images/broad_samples.png
    python scripts/broad_gallery.py --family hard --count 40 -o /tmp/hard.png

Each cell shows one sample, scaled to fit the cell with its aspect ratio kept, its label and
its original size underneath. ``--family`` shows only one family of a ``mix``-type scheme.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from PIL import Image, ImageDraw

from captchalab.schemes import get_scheme
from captchalab.schemes.fonts import shipped_fonts
from captchalab.schemes.mix import FAMILIES, MixScheme
from captchalab.schemes.styled_render import load_font

CELL = (300, 90)
LABEL = 18


def gallery(
    scheme_name: str, count: int, columns: int, seed: int, family: str | None
) -> Image.Image:
    scheme = get_scheme(scheme_name)
    if family is not None:
        if not isinstance(scheme, MixScheme) or family not in FAMILIES:
            raise SystemExit(f"--family needs a mix-type scheme and one of {FAMILIES}")
        weights = tuple(1.0 if name == family else 0.0 for name in FAMILIES)
        scheme = dataclasses.replace(scheme, family_weights=weights)
    rows = -(-count // columns)
    sheet = Image.new("RGB", (columns * CELL[0], rows * (CELL[1] + LABEL)), (255, 255, 255))
    pen = ImageDraw.Draw(sheet)
    font = load_font(shipped_fonts()[2], 13)  # DejaVu Sans Mono
    for index in range(count):
        image, text = scheme.sample_at(seed, index)
        scale = min((CELL[0] - 6) / image.width, (CELL[1] - 6) / image.height)
        shown = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        )
        x0 = (index % columns) * CELL[0]
        y0 = (index // columns) * (CELL[1] + LABEL)
        sheet.paste(shown, (x0 + (CELL[0] - shown.width) // 2, y0 + (CELL[1] - shown.height) // 2))
        caption = f"{text}  ({image.width}x{image.height})"
        pen.text((x0 + 4, y0 + CELL[1]), caption, font=font, fill=(0, 0, 0))
        pen.rectangle((x0, y0, x0 + CELL[0] - 1, y0 + CELL[1] + LABEL - 1), outline=(200, 200, 200))
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scheme", default="broad")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", default=None, help=f"only this family: {', '.join(FAMILIES)}")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/broad_samples.png"))
    args = parser.parse_args()
    sheet = gallery(args.scheme, args.count, args.columns, args.seed, args.family)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, optimize=True)
    print(f"wrote {args.output} ({sheet.width}x{sheet.height})")


if __name__ == "__main__":
    main()
