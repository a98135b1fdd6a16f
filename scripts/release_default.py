"""Install a trained run as the shipped default model.

    python scripts/release_default.py runs/default_mix [--calibration-images 2000]

Copies the run's best checkpoint (weights + JSON only, no optimiser state) to
``src/captchalab/assets/default/`` (the start point of ``train --init default``), exports it to
``src/captchalab/assets/default.onnx`` with a parity check, and fits the confidence temperature
on images rendered from the training scheme's validation seed (never the test seed).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from captchalab.evaluation.format import format_reliability
from captchalab.evaluation.held_out import calibrate_model, held_out_images
from captchalab.training.checkpoint import META_FILE, WEIGHTS_FILE, load_checkpoint
from captchalab.training.config import VALIDATION_SEED
from captchalab.training.export import check_parity, export_onnx

ASSETS = Path(__file__).resolve().parent.parent / "src" / "captchalab" / "assets"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder (its best/ checkpoint is used)")
    parser.add_argument("--calibration-images", type=int, default=2000)
    args = parser.parse_args()
    source = args.run / "best"
    _, meta = load_checkpoint(source)
    scheme = meta.config.get("scheme")
    if not scheme:
        raise SystemExit("the run has no scheme to render calibration images from")
    target = ASSETS / "default"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in (META_FILE, WEIGHTS_FILE):
        shutil.copy2(source / name, target / name)
    onnx_path = export_onnx(target, ASSETS / "default.onnx")
    images, labels = held_out_images(
        meta.preprocessing, meta.charset, VALIDATION_SEED, scheme, count=args.calibration_images
    )
    parity = check_parity(target, onnx_path, images[:100])
    if not parity.ok():
        raise SystemExit(f"ONNX parity failed: {parity}")
    calibration = calibrate_model(onnx_path, onnx_path, images, labels)  # `captchalab calibrate`
    print(format_reliability(calibration.before, calibration.after))
    temperature = calibration.temperature
    size_mb = onnx_path.stat().st_size / 1e6
    print(
        f"default model: step {meta.step}, {size_mb:.1f} MB, parity {parity.max_abs_diff:.1e}, "
        f"temperature {temperature:.2f}"
    )


if __name__ == "__main__":
    main()
