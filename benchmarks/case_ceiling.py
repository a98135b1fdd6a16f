"""How much of a python `captcha` glyph's case survives the generator? A ceiling from one glyph.

python `captcha` 0.7 crops each glyph to its ink, then stretches the crop to the box the font
gives the character, which is the same for upper and lower case of most letters (25 x 44
pixels at size 40 in its DroidSansMono, for `V` and `v` alike), with a random warp of up to
30% of the width on top. So `V` and `v` arrive at the same size and differ only in stroke
weight and shape.

`case_cues.py` measures size and shape cues pair by pair. This benchmark measures how well
case can be told from one glyph of every letter at once under the most favourable conditions:
black ink on white, no noise dots or curve, no neighbours, no resize of the whole line, the
glyph at its native resolution. It renders glyphs of every letter whose two cases are both in
the scheme's charset with the generator's own drawing routine, trains one small CNN on
growing training sets, and reports, per letter, the share of glyphs whose case is read right
when the letter is. A plateau as the training set grows says how much case information the
glyph holds; from it, the exact-accuracy ceiling of a reader that errs only on case follows
for the scheme's lengths (each symbol drawn uniformly, as the schemes draw them).

The number is an estimate, not a proof: a CNN trained on finite data finds at most what is
there (a lower bound on the isolated glyph's information), while a full captcha adds noise
and a line-wide resize but also neighbours drawn with the same font, colour and resize.

The same question holds for any pair of symbols the crop-and-stretch makes alike, such as
DroidSansMono's `O` and `0` (an unmarked zero, narrower than the `O` before the stretch):
`--pairs O0` measures those pairs instead of the two cases.

    python benchmarks/case_ceiling.py --scheme hku --sizes 20000 60000 180000
    python benchmarks/case_ceiling.py --scheme alnum5 --pairs O0 --canvas 40 64
    python benchmarks/case_ceiling.py --quick
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import torch
from bench_common import (
    REPO_ROOT,
    command_line,
    machine_lines,
    markdown_table,
    percent,
    progress_bar,
    publish,
)
from PIL import Image, ImageDraw
from rich.console import Console
from torch import nn

from captchalab.schemes import get_scheme
from captchalab.schemes.imagecaptcha import ImageCaptchaScheme, captcha_random

console = Console(stderr=True)
CANVAS = (32, 48)  # width, height: hku's line height, one glyph wide (--canvas for others)
TEST_SEED, TRAIN_SEED = 7_000_001, 7_000_002


@dataclass(frozen=True)
class Glyphs:
    images: np.ndarray  # (N, 1, H, W) float32, ink = 1
    labels: np.ndarray  # (N,) class index into `letters`
    letters: str
    pairs: tuple[str, ...] = ()  # the twin groups; none: a letter's two cases

    def twin(self, symbol: str) -> str:
        """The group a symbol belongs to: the same for every symbol of one twin group."""
        return next((pair for pair in self.pairs if symbol in pair), symbol.lower())


def twin_letters(scheme: ImageCaptchaScheme, pairs: Sequence[str] = ()) -> str:
    """The symbols to tell apart: those of ``pairs``, or else the letters whose upper and
    lower case are both in the charset, upper case first."""
    symbols = scheme.charset.symbols
    if pairs:
        missing = sorted({s for pair in pairs for s in pair} - set(symbols))
        if missing or any(len(pair) < 2 for pair in pairs):
            raise ValueError(
                f"each pair needs two or more of {scheme.name}'s symbols; not in it: {missing}"
            )
        return "".join(pairs)
    upper = sorted(s for s in symbols if s.isupper() and s.lower() in symbols)
    return "".join(upper) + "".join(s.lower() for s in upper)


def render(
    scheme: ImageCaptchaScheme,
    letters: str,
    count: int,
    seed: int,
    canvas: tuple[int, int] = CANVAS,
    pairs: tuple[str, ...] = (),
) -> Glyphs:
    """``count`` glyphs, each letter uniformly, drawn by the generator's own routine."""
    generator = scheme._generator
    rng = random.Random(seed)
    width, height = canvas
    images = np.zeros((count, 1, height, width), dtype=np.float32)
    labels = np.zeros(count, dtype=np.int64)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    with progress_bar(console) as bar:
        task = bar.add_task(f"render {count} glyphs", total=count)
        for i in range(count):
            label = rng.randrange(len(letters))
            with captcha_random(rng):
                glyph = generator._draw_character(letters[label], scratch, (0, 0, 0))
            ink = glyph.getchannel("A")  # coverage: the ink, whatever its colour
            board = Image.new("L", canvas, 0)  # centred, as the line pastes it (clipped)
            board.paste(ink, ((width - ink.width) // 2, (height - ink.height) // 2))
            images[i, 0] = np.asarray(board, dtype=np.float32) / 255.0
            labels[i] = label
            bar.advance(task)
    return Glyphs(images, labels, letters, pairs)


def classifier(classes: int, height: int, width: int) -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(1, 16),
        nn.MaxPool2d(2),
        *block(16, 32),
        nn.MaxPool2d(2),
        *block(32, 64),
        *block(64, 64),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * (height // 8) * (width // 8), 256),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(256, classes),
    )


def train(data: Glyphs, epochs: int, batch: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = classifier(len(data.letters), *data.images.shape[2:])
    steps = epochs * (len(data.labels) // batch)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps)
    images, labels = torch.from_numpy(data.images), torch.from_numpy(data.labels)
    order = torch.Generator().manual_seed(seed)
    model.train()
    with progress_bar(console) as bar:
        task = bar.add_task(f"train on {len(labels)}", total=steps)
        for _ in range(epochs):
            perm = torch.randperm(len(labels), generator=order)
            for start in range(0, len(perm) - batch + 1, batch):
                idx = perm[start : start + batch]
                loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                bar.advance(task)
    return model.eval()


def predict(model: nn.Module, data: Glyphs) -> np.ndarray:
    with torch.no_grad():
        chunks = [
            model(torch.from_numpy(data.images[i : i + 1024])).argmax(1).numpy()
            for i in range(0, len(data.labels), 1024)
        ]
    return np.concatenate(chunks)


def case_accuracy(data: Glyphs, predicted: np.ndarray) -> dict[str, tuple[float, int]]:
    """Per letter: the share read in the right case among those read as the right letter
    (with ``pairs``: read as the right symbol among those read within its pair)."""
    truth = np.array([data.letters[i] for i in data.labels])
    guess = np.array([data.letters[i] for i in predicted])
    guess_twin = np.array([data.twin(g) for g in guess])
    result: dict[str, tuple[float, int]] = {}
    for letter in data.letters:
        same_letter = (truth == letter) & (guess_twin == data.twin(letter))
        n = int(same_letter.sum())
        result[letter] = (float((guess[same_letter] == letter).mean()) if n else 0.0, n)
    return result


def exact_ceiling(scheme: ImageCaptchaScheme, per_letter: dict[str, tuple[float, int]]) -> float:
    """Exact accuracy of a reader that errs only on case, at these per-letter rates."""
    symbols = scheme.charset.symbols
    mean = float(np.mean([per_letter.get(s, (1.0, 0))[0] for s in symbols]))
    lengths = range(scheme.min_length, scheme.max_length + 1)
    return float(np.mean([mean**length for length in lengths]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scheme", default="hku", help="a python `captcha` preset (hku, alnum4)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 60_000, 180_000])
    parser.add_argument("--test", type=int, default=20_000, help="held-out glyphs")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--pairs",
        nargs="+",
        default=[],
        help="symbols to tell apart instead of the two cases, one group per word (e.g. O0 1I)",
    )
    parser.add_argument(
        "--canvas",
        type=int,
        nargs=2,
        default=list(CANVAS),
        metavar=("W", "H"),
        help="glyph canvas in pixels (default 32 48, hku's; alnum5's glyphs need 40 64)",
    )
    parser.add_argument("--quick", action="store_true", help="2,000 glyphs, 1 epoch: a smoke test")
    parser.add_argument("--out", type=Path, default=None, help="markdown report")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.test, args.epochs = [2_000], 1_000, 1
    torch.set_num_threads(args.threads)
    scheme = get_scheme(args.scheme)
    if not isinstance(scheme, ImageCaptchaScheme):
        parser.error(f"{args.scheme} is not a python `captcha` scheme")
    started = time.perf_counter()
    try:
        letters = twin_letters(scheme, args.pairs)
    except ValueError as error:
        parser.error(str(error))
    pairs, canvas = tuple(args.pairs), (args.canvas[0], args.canvas[1])
    test = render(scheme, letters, args.test, TEST_SEED, canvas, pairs)
    pool = render(scheme, letters, max(args.sizes), TRAIN_SEED, canvas, pairs)
    rows, last = [], {}
    for size in sorted(args.sizes):
        subset = Glyphs(pool.images[:size], pool.labels[:size], letters, pairs)
        t0 = time.perf_counter()
        predicted = predict(train(subset, args.epochs, 256, seed=size), test)
        last = case_accuracy(test, predicted)
        letter_ok = np.mean(
            [
                test.twin(letters[p]) == test.twin(letters[t])
                for p, t in zip(predicted, test.labels, strict=True)
            ]
        )
        twins = [acc for acc, _ in last.values()]
        worst = sorted(last, key=lambda s: last[s][0])[:4]
        rows.append(
            [
                f"{size:,}",
                percent(float(np.mean(predicted == test.labels))),
                percent(float(letter_ok)),
                percent(float(np.mean(twins))),
                ", ".join(f"`{s}` {percent(last[s][0])}" for s in worst),
                percent(exact_ceiling(scheme, last)),
                f"{(time.perf_counter() - t0) / 60:.1f}",
            ]
        )
        console.print(" | ".join(rows[-1]))
    stem = f"case_ceiling_{args.scheme}" + "".join(f"_{pair}" for pair in pairs)
    out = args.out or REPO_ROOT / "benchmarks" / "results" / f"{stem}.md"
    told = " / ".join(f"`{pair}`" for pair in pairs) if pairs else "Case"
    classes = (
        "the symbols of " + ", ".join(f"`{pair}`" for pair in pairs)
        if pairs
        else "the letters with both cases in the charset"
    )
    within = "symbol within its pair" if pairs else "case"
    lines = [
        f"# {told} from one python `captcha` glyph: `{args.scheme}`"
        + (" (quick)" if args.quick else ""),
        "",
        f"Command: `{command_line()}`; {(time.perf_counter() - started) / 60:.1f} min wall.",
        "",
        *machine_lines(["torch"]),
        "",
        f"{len(letters)} classes ({classes}); glyphs drawn "
        f"by the generator's own routine, black on white, {canvas[0]}x{canvas[1]}, no noise, "
        f"no neighbours; {args.test:,} held-out glyphs; {args.epochs} epochs per training set. "
        + (
            "Pair right = the share of glyphs read as a symbol of their pair; symbol right = "
            "the share of those read as the right symbol."
            if pairs
            else "Case right = the share of glyphs read in the right case among those read as "
            "the right letter."
        )
        + f" Ceiling = exact accuracy of a reader of the whole scheme that errs only on {within}"
        ", at the last row's per-symbol rates.",
        "",
        *markdown_table(
            [
                "training glyphs",
                "accuracy",
                "pair right" if pairs else "letter right",
                "symbol right (mean)" if pairs else "case right (mean of letters)",
                "hardest",
                "exact ceiling",
                "minutes",
            ],
            rows,
        ),
        "",
        "Per letter (last row): " + ", ".join(f"`{s}` {percent(last[s][0])}" for s in letters),
        "",
    ]
    publish("\n".join(lines), out)


if __name__ == "__main__":
    main()
