"""Case-insensitive decoding: both cases of a letter pool their probability before decoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing
from captchalab.inference import Solver
from captchalab.inference.case import check_case, fold_logits, fold_targets
from captchalab.inference.metadata import ModelMetadata
from captchalab.objectives.decoding import softmax

SYMBOLS = "abAB7"  # ids: a=1 b=2 A=3 B=4 7=5; blank / end / empty = 0
SPEC = Preprocessing(height=8, width=16)


class _Input:
    name = "images"


class _FixedSession:
    """Stands in for an onnxruntime session: returns the same hand-made logits per image."""

    def __init__(self, logits: np.ndarray) -> None:
        self.logits = logits.astype(np.float32)

    def get_inputs(self) -> list[_Input]:
        return [_Input()]

    def run(self, _outputs: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        batch = len(feeds["images"])
        return [np.repeat(self.logits[None], batch, axis=0)]


def _solver(probs: list[list[float]], objective: str, symbols: str = SYMBOLS) -> Solver:
    metadata = ModelMetadata("fake", objective, Charset(symbols), 4, SPEC)
    logits = np.log(np.asarray(probs, dtype=np.float64) + 1e-12)
    return Solver(_FixedSession(logits), metadata, "fake")  # type: ignore[arg-type]


def _answer(solver: Solver) -> str:
    return solver.solve_arrays(np.zeros((1, 1, 8, 16), dtype=np.float32))[0].text


#                blank   a     b     A     B     7
CTC_FRAMES = [
    [0.00, 0.30, 0.00, 0.30, 0.00, 0.40],  # a+A 0.6 beats 7 0.4 only when summed
    [0.90, 0.00, 0.00, 0.00, 0.00, 0.10],
    [0.00, 0.00, 0.35, 0.00, 0.30, 0.35],  # b+B 0.65; case-sensitive: a tie that 'b' wins
    [1.00, 0.00, 0.00, 0.00, 0.00, 0.00],
]


def test_ctc_summing_the_cases_changes_the_answer() -> None:
    solver = _solver(CTC_FRAMES, "ctc")
    assert _answer(solver) == "7b"
    insensitive = solver.case_insensitive()
    assert _answer(insensitive) == "ab"
    assert insensitive.case == "insensitive" and solver.case == "sensitive"
    prediction = insensitive.solve_arrays(np.zeros((1, 1, 8, 16), dtype=np.float32))[0]
    assert prediction.char_probs == pytest.approx((0.6, 0.65), abs=1e-6)
    assert _answer(insensitive.case_sensitive()) == "7b"


def test_ctc_repeat_across_cases_collapses_like_one_symbol() -> None:
    frames = [
        [0.0, 0.6, 0.0, 0.0, 0.0, 0.4],
        [0.0, 0.0, 0.0, 0.6, 0.0, 0.4],  # 'a' then 'A': one letter when case does not matter
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ]
    solver = _solver(frames, "ctc")
    assert _answer(solver) == "aA"
    assert _answer(solver.case_insensitive()) == "a"


def test_fixed_length_slots_are_folded_independently() -> None:
    slots = [
        [0.00, 0.10, 0.00, 0.10, 0.00, 0.80],  # 7 wins either way
        [0.00, 0.00, 0.30, 0.00, 0.30, 0.40],  # b+B 0.6 beats 7
        [0.40, 0.00, 0.00, 0.00, 0.60, 0.00],  # B alone: read as lower case
        [0.70, 0.00, 0.00, 0.00, 0.00, 0.30],
    ]
    solver = _solver(slots, "fixed_length")
    assert _answer(solver) == "77B"
    assert _answer(solver.case_insensitive()) == "7bb"


def test_attention_reads_folded_steps_until_the_end_token() -> None:
    steps = [
        [0.00, 0.35, 0.00, 0.35, 0.00, 0.30],
        [0.40, 0.00, 0.30, 0.00, 0.30, 0.00],  # end 0.4 loses to b+B 0.6
        [0.90, 0.00, 0.00, 0.00, 0.00, 0.10],
        [1.00, 0.00, 0.00, 0.00, 0.00, 0.00],
        [1.00, 0.00, 0.00, 0.00, 0.00, 0.00],
    ]
    solver = _solver(steps, "attention")
    assert _answer(solver) == "a"
    assert _answer(solver.case_insensitive()) == "ab"


def test_upper_case_only_charset_answers_in_lower_case() -> None:
    frames = [[0.0, 0.0, 0.9, 0.1], [1.0, 0.0, 0.0, 0.0]]  # symbols "AB7": B
    solver = _solver(frames, "ctc", symbols="AB7")
    assert _answer(solver) == "B"
    assert _answer(solver.case_insensitive()) == "b"
    assert solver.case_insensitive().symbols == "ab7"


def test_restricted_and_case_insensitive_compose_in_either_order() -> None:
    solver = _solver(CTC_FRAMES, "ctc")
    # Restricted to the upper-case letters: on a case-insensitive site that means both cases.
    for composed in (
        solver.restricted("AB").case_insensitive(),
        solver.case_insensitive().restricted("AB"),
    ):
        assert _answer(composed) == "ab"
        assert composed.symbols == "ab"
    assert _answer(solver.restricted("AB")) == "AB"


def test_folded_softmax_is_the_summed_softmax() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 7, 6)).astype(np.float32)
    targets = fold_targets(Charset(SYMBOLS))
    assert targets.tolist() == [0, 1, 2, 1, 2, 5]
    folded = softmax(fold_logits(logits, targets).astype(np.float64))
    plain = softmax(logits.astype(np.float64))
    np.testing.assert_allclose(folded[..., 1], plain[..., 1] + plain[..., 3], rtol=1e-5)
    np.testing.assert_allclose(folded[..., 2], plain[..., 2] + plain[..., 4], rtol=1e-5)
    np.testing.assert_allclose(folded[..., [0, 5]], plain[..., [0, 5]], rtol=1e-5)
    assert folded[..., [3, 4]].max() < 1e-12
    np.testing.assert_allclose(folded.sum(-1), 1.0, rtol=1e-6)


def test_unknown_policy_is_a_clear_error() -> None:
    assert check_case("insensitive") == "insensitive"
    with pytest.raises(ValueError, match="sensitive, insensitive"):
        check_case("lower")


def test_real_model_case_insensitive_answers_are_lower_case(onnx_model_path: Path) -> None:
    solver = Solver.load(onnx_model_path, threads=1)  # digits only: folding changes nothing
    images = np.random.default_rng(1).random((4, 1, 32, 96), dtype=np.float32)
    plain = [p.text for p in solver.solve_arrays(images)]
    assert [p.text for p in solver.case_insensitive().solve_arrays(images)] == plain
    assert "case='insensitive'" in repr(solver.case_insensitive())


def test_a_letter_told_in_one_case_takes_the_probability_of_the_other() -> None:
    frames = [
        [0.00, 0.25, 0.00, 0.35, 0.00, 0.40],  # a 0.25 + A 0.35 beats 7 0.40 only summed
        [1.00, 0.00, 0.00, 0.00, 0.00, 0.00],
    ]
    solver = _solver(frames, "ctc")
    assert _answer(solver.restricted("ab7")) == "a"
    assert _answer(solver.restricted("AB7")) == "A"
    assert _answer(solver.restricted("aAbB7")) == "7"  # both cases told: each its own
    assert _answer(solver.restricted("b7")) == "7"  # neither case of the letter told
    prediction = solver.restricted("ab7").solve_arrays(np.zeros((1, 1, 8, 16), np.float32))[0]
    assert prediction.char_probs == pytest.approx((0.6,), abs=1e-6)
