"""What tells upper from lower case in python `captcha`'s glyphs?

`captcha` 0.7 draws each character, crops it to its ink, rotates it, and warps it back into
the font's character box. With the default monospace font that box is the same for every
letter, so `v` and `V` come out the same size. This script renders single glyphs of a preset
(`hku4` by default) with the scheme's own generator. For each case pair it measures the
glyph box, the ink height, width and area, and how well the best single threshold on ink
area separates the two cases. That is an upper bound for a reader that only judges size.

    python benchmarks/case_cues.py --samples 300 --out benchmarks/results/case_cues.md
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from bench_common import REPO_ROOT, command_line, markdown_table, publish
from PIL import Image, ImageDraw

from captchalab.schemes import get_scheme
from captchalab.schemes.imagecaptcha import ImageCaptchaScheme, captcha_random

PAIRS = ("vV", "xX", "zZ", "cC", "sS", "uU", "wW", "kK", "pP", "aA")


def glyph_stats(scheme: ImageCaptchaScheme, char: str, samples: int, seed: int) -> dict:
    """Box size and ink height / width / area of ``samples`` renderings of ``char``."""
    generator = scheme._generator
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    rng = random.Random(f"{seed}:{char}")
    boxes, heights, widths, areas = [], [], [], []
    for _ in range(samples):
        with captcha_random(rng):
            glyph = generator._draw_character(char, draw, (0, 0, 0))
        ink = np.asarray(glyph.split()[-1]) > 128
        rows, cols = np.nonzero(ink)
        boxes.append(glyph.size)
        heights.append(int(rows.max() - rows.min() + 1) if rows.size else 0)
        widths.append(int(cols.max() - cols.min() + 1) if cols.size else 0)
        areas.append(int(ink.sum()))
    return {"boxes": boxes, "heights": heights, "widths": widths, "areas": areas}


def best_threshold_accuracy(first: Sequence[int], second: Sequence[int]) -> float:
    """The best accuracy of one threshold on a value that is to tell two classes apart."""
    values = np.concatenate([first, second])
    labels = np.r_[np.zeros(len(first), bool), np.ones(len(second), bool)]
    best = 0.0
    for threshold in np.unique(values):
        above = values > threshold
        best = max(best, float((above == labels).mean()), float((above != labels).mean()))
    return best


def mean_sd(values: Sequence[int]) -> str:
    return f"{statistics.fmean(values):.1f} ± {statistics.pstdev(values):.1f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scheme", default="hku4", help="a python `captcha` preset")
    parser.add_argument("--samples", type=int, default=300, help="renderings per character")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "case_cues.md"
    )
    args = parser.parse_args(argv)
    scheme = get_scheme(args.scheme)
    if not isinstance(scheme, ImageCaptchaScheme):
        parser.error(f"{args.scheme} is not drawn by python `captcha`")
    if args.samples < 2:
        parser.error("--samples must be at least 2")
    rows = []
    for pair in PAIRS:
        lower, upper = (glyph_stats(scheme, c, args.samples, args.seed) for c in pair)
        box = {f"{w}x{h}" for w, h in lower["boxes"] + upper["boxes"]}
        rows.append(
            [
                f"`{pair[0]}` / `{pair[1]}`",
                ", ".join(sorted(box)),
                f"{mean_sd(lower['heights'])} / {mean_sd(upper['heights'])}",
                f"{mean_sd(lower['widths'])} / {mean_sd(upper['widths'])}",
                f"{mean_sd(lower['areas'])} / {mean_sd(upper['areas'])}",
                f"{100 * best_threshold_accuracy(lower['areas'], upper['areas']):.1f}%",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    lines = [
        f"# Case cues in `{args.scheme}` glyphs",
        "",
        f"Command: `{command_line()}`; {args.samples} renderings per character (font sizes "
        f"{', '.join(map(str, scheme.font_sizes))}), before the captcha is assembled (no "
        "noise, no squeeze).",
        "",
        *markdown_table(
            [
                "pair (lower / upper)",
                "glyph box px",
                "ink height px",
                "ink width px",
                "ink area px",
                "best area threshold",
            ],
            rows,
        ),
        "",
        "The box is where the warped glyph is drawn, so both cases fill the same box. A "
        "threshold accuracy of 50% means the value says nothing about case.",
    ]
    publish("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
