"""Is a reader's case error a threshold bias? Fit per-letter logit offsets, then re-score.

python `captcha` readers mostly read upper-case letters as lower case (`V`->`v`, `X`->`x`),
rarely the other way. If that were a bias of the decision, not missing information, shifting
each upper-case letter's logit by a constant would recover most of it. This fits one offset
per upper-case letter that has a lower-case twin, by coordinate search on images rendered at
a seed used neither for training, validation nor the test (``--fit-seed``), and scores the
test images (samples ``0..count-1`` at the test seed) before and after. Logits come from the
exported ONNX model through the Solver's own preprocessing and temperature.

    python benchmarks/case_bias.py runs/ab_context_bf16/model.onnx --scheme hku --count 2000
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from captchalab.charset import Charset
from captchalab.data.preprocess import to_array
from captchalab.inference.solver import Solver
from captchalab.objectives.decoding import decode
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED, VALIDATION_SEED

STEPS = (-1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0)  # offsets tried per letter and sweep


def scored_logits(
    solver: Solver, scheme: str, seed: int, count: int
) -> tuple[np.ndarray, list[str]]:
    """Calibrated ``(count, S, C)`` logits and the true texts of samples ``0..count-1``."""
    samples = [get_scheme(scheme).sample_at(seed, index) for index in range(count)]
    batch = np.stack([to_array(image, solver.preprocessing) for image, _ in samples])
    logits = solver.logits(batch.astype(np.float32)) / solver.metadata.temperature
    return logits, [text for _, text in samples]


def exact(logits: np.ndarray, texts: Sequence[str], offsets: np.ndarray, solver: Solver) -> float:
    answers = decode(logits + offsets, solver.charset, solver.metadata.objective)
    return float(np.mean([a.text == t for a, t in zip(answers, texts, strict=True)]))


def upper_with_twin(charset: Charset) -> list[int]:
    """Class ids (1-based; 0 is blank/end) of upper-case letters whose lower case is read too."""
    symbols = charset.symbols
    return [i + 1 for i, s in enumerate(symbols) if s.isupper() and s.lower() in symbols]


def fit_offsets(
    logits: np.ndarray, texts: Sequence[str], solver: Solver, sweeps: int
) -> np.ndarray:
    offsets = np.zeros(solver.charset.num_classes, dtype=np.float32)
    for _ in range(sweeps):
        for k in upper_with_twin(solver.charset):
            best, value = exact(logits, texts, offsets, solver), offsets[k]
            for step in STEPS:
                trial = offsets.copy()
                trial[k] += step
                score = exact(logits, texts, trial, solver)
                if score > best + 1e-9:
                    best, value = score, trial[k]
            offsets[k] = value
    return offsets


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="exported .onnx file")
    parser.add_argument("--scheme", required=True)
    parser.add_argument("--count", type=int, default=2000, help="fit and test images each")
    parser.add_argument("--fit-seed", type=int, default=VALIDATION_SEED + 7)
    parser.add_argument("--sweeps", type=int, default=2)
    args = parser.parse_args(argv)
    solver = Solver.load(args.model, threads=1)
    fit_logits, fit_texts = scored_logits(solver, args.scheme, args.fit_seed, args.count)
    test_logits, test_texts = scored_logits(solver, args.scheme, TEST_SEED, args.count)
    zero = np.zeros(solver.charset.num_classes, dtype=np.float32)
    offsets = fit_offsets(fit_logits, fit_texts, solver, args.sweeps)
    print(
        f"fit images: exact {exact(fit_logits, fit_texts, zero, solver):.2%} -> "
        f"{exact(fit_logits, fit_texts, offsets, solver):.2%}"
    )
    print(
        f"test images: exact {exact(test_logits, test_texts, zero, solver):.2%} -> "
        f"{exact(test_logits, test_texts, offsets, solver):.2%}"
    )
    symbols = solver.charset.symbols
    chosen = {symbols[k - 1]: float(offsets[k]) for k in upper_with_twin(solver.charset)}
    print("offsets:", ", ".join(f"{s} {v:+.1f}" for s, v in chosen.items() if v))


if __name__ == "__main__":
    main()
