"""benchmarks/case_bias.py: fitted offsets undo a planted upper->lower bias, and only that."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from captchalab.charset import Charset

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import case_bias  # noqa: E402


def _reader() -> SimpleNamespace:
    return SimpleNamespace(
        charset=Charset("aAbB1"), metadata=SimpleNamespace(objective="fixed_length")
    )


def test_offsets_undo_a_planted_bias() -> None:
    rng = np.random.default_rng(0)
    solver = _reader()
    symbols = solver.charset.symbols
    texts = ["".join(rng.choice(list(symbols), 3)) for _ in range(200)]
    logits = rng.normal(0, 0.1, (len(texts), 3, solver.charset.num_classes)).astype(np.float32)
    for row, text in enumerate(texts):
        for slot, symbol in enumerate(text):
            logits[row, slot, symbols.index(symbol) + 1] += 3.0
            if symbol == "A":  # the reader leans to "a" whenever it sees an "A"
                logits[row, slot, symbols.index("a") + 1] += 4.0
    zero = np.zeros(solver.charset.num_classes, dtype=np.float32)
    before = case_bias.exact(logits, texts, zero, solver)  # type: ignore[arg-type]
    offsets = case_bias.fit_offsets(logits, texts, solver, sweeps=1)  # type: ignore[arg-type]
    assert before == np.mean(["A" not in text for text in texts])  # every "A" read as "a"
    assert case_bias.exact(logits, texts, offsets, solver) == 1.0  # type: ignore[arg-type]
    assert case_bias.upper_with_twin(solver.charset) == [2, 4]  # "A", "B"; never "1"
    assert offsets[symbols.index("A") + 1] > 0 and offsets[symbols.index("B") + 1] == 0
