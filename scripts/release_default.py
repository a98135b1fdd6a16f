"""Install a trained run as the shipped default model, unless it is worse on the benchmark.

    python scripts/release_default.py runs/default_mix [--calibration-images 2000] [--force]

Exports the run's best checkpoint to ONNX (with a parity check), fits the confidence
temperature on images rendered from the training scheme's validation seed (never the test
seed), then reads the fixed benchmark (every scheme preset and every ``configs/schemes/`` YAML
scheme at the test seed, plus the ``test`` split of ``../shared/data/kaggle_captcha_v2`` when
present) with both the candidate and the shipped ``src/captchalab/assets/default.onnx``. A
candidate whose mean exact accuracy is below the shipped model's is refused (exit 2) unless
``--force``. Only then are the checkpoint (weights + JSON only, no optimiser state; the start
point of ``train --init default``) and the ONNX file copied into the assets, with
``default-int8.onnx`` beside it: the same model with int8 LSTM and dense weights
(``captchalab quantize``), refused when it reads differently from the float model on more
than 15% of the held-out images.

The default model never trains on another project's generator, so that the benchmark keeps
measuring generalisation: a run whose training scheme draws with one (``Scheme.generators``,
e.g. the seed presets of the python ``captcha`` library) is refused before anything else.
``--exclude-generator "python captcha"`` leaves the sets of that generator out of the
decision (they are still read and shown): use it when the shipped model was trained on it
and the candidate was not.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from rich.progress import Progress

from captchalab.evaluation.format import format_reliability
from captchalab.evaluation.held_out import calibrate_model, held_out_images
from captchalab.evaluation.release import (
    BenchmarkSet,
    ReleaseRefused,
    check_release,
    compare_models,
    release_benchmark,
)
from captchalab.inference import Solver
from captchalab.training.checkpoint import META_FILE, WEIGHTS_FILE, load_checkpoint
from captchalab.training.config import VALIDATION_SEED
from captchalab.training.export import check_parity, export_onnx, parity_images
from captchalab.training.quantize import check_agreement, quantize_onnx

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "src" / "captchalab" / "assets"
SCHEME_FILES = REPO / "configs" / "schemes"
KAGGLE_DIR = REPO.parent / "shared" / "data" / "kaggle_captcha_v2"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder (its best/ checkpoint is used)")
    parser.add_argument("--calibration-images", type=int, default=2000, help="0: do not fit T")
    parser.add_argument("--count", type=int, default=300, help="images per synthetic set")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument(
        "--benchmark",
        type=Path,
        action="append",
        help="a folder with split.csv whose 'test' rows replace the default benchmark sets "
        "(repeatable)",
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.0, help="allowed drop in mean exact accuracy (0-1)"
    )
    parser.add_argument("--force", action="store_true", help="release even if it is worse")
    parser.add_argument(
        "--exclude-generator",
        action="append",
        default=[],
        metavar="NAME",
        help="leave the sets drawn (even partly) by generator NAME out of the decision, e.g. "
        '"python captcha" when the shipped model trained on it (repeatable)',
    )
    parser.add_argument(
        "--min-int8-agreement",
        type=float,
        default=0.85,
        help="refuse when default-int8.onnx reads the same as the float model on fewer of the "
        "held-out images than this share (0-1)",
    )
    parser.add_argument("--assets", type=Path, default=ASSETS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def third_party_generators(scheme: str | None) -> set[str]:
    """The generators other than captchalab's own that draw ``scheme`` (none for real data)."""
    if not scheme:
        return set()
    from captchalab.schemes import get_scheme

    return set(get_scheme(scheme).generators()) - {"captchalab"}


def benchmark_sets(args: argparse.Namespace) -> list[BenchmarkSet]:
    return release_benchmark(SCHEME_FILES, args.kaggle, args.count, args.benchmark or ())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    source = args.run / "best"
    _, meta = load_checkpoint(source)
    outside = third_party_generators(meta.config.get("scheme"))
    if outside:
        print(
            f"refusing to release: the run trained on {meta.config['scheme']!r}, drawn by "
            f"{', '.join(sorted(outside))}; the default model trains only on captchalab's own "
            "renderers",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        candidate_path = export_onnx(source, Path(scratch) / "candidate.onnx")
        temperature = 1.0
        floats = parity_images(source)
        if args.calibration_images > 0:
            scheme = meta.config.get("scheme")
            if not scheme:
                raise SystemExit("the run has no scheme to render calibration images from")
            floats, labels = held_out_images(
                meta.preprocessing,
                meta.charset,
                VALIDATION_SEED,
                scheme,
                count=args.calibration_images,
            )
        parity = check_parity(source, candidate_path, floats[:100])
        print(parity.describe())
        if not parity.ok():
            raise SystemExit(f"ONNX parity failed: {parity}")
        if args.calibration_images > 0:  # the same fit as `captchalab calibrate`
            calibration = calibrate_model(candidate_path, candidate_path, floats, labels)
            print(format_reliability(calibration.before, calibration.after))
            temperature = calibration.temperature
        int8_path = quantize_onnx(candidate_path, Path(scratch) / "candidate-int8.onnx")
        agreement = check_agreement(candidate_path, int8_path, floats[:500])
        print(
            f"int8 agrees with float on {agreement.agreeing} of {agreement.num_images} "
            f"held-out images ({agreement.rate:.1%})"
        )
        if not agreement.ok(args.min_int8_agreement):
            print(f"refusing to release: int8 agreement below {args.min_int8_agreement:.0%}")
            return 2
        shipped_path = args.assets / "default.onnx"
        if shipped_path.exists():
            sets = benchmark_sets(args)
            total = 2 * sum(len(bench.labels) for bench in sets)
            with Progress() as progress:
                task = progress.add_task("benchmark: candidate vs shipped", total=total)
                comparison = compare_models(
                    Solver.load(candidate_path),
                    Solver.load(shipped_path),
                    sets,
                    tolerance=args.tolerance,
                    advance=lambda n: progress.advance(task, n),
                    exclude_generators=args.exclude_generator,
                )
            print(comparison.table())
            try:
                check_release(comparison, force=args.force)
            except ReleaseRefused as refused:
                print(str(refused).split("\n")[0], file=sys.stderr)
                return 2
            if not comparison.passed:
                print("worse than the shipped model, released anyway (--force)")
        else:
            print(f"note: no shipped model at {shipped_path}; nothing to compare against")
        target = args.assets / "default"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in (META_FILE, WEIGHTS_FILE):
            shutil.copy2(source / name, target / name)
        shutil.copy2(candidate_path, shipped_path)
        shutil.copy2(int8_path, args.assets / "default-int8.onnx")
    size_mb = shipped_path.stat().st_size / 1e6
    print(f"default model: step {meta.step}, {size_mb:.1f} MB, temperature {temperature:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
