"""Decoding under a known answer length: exact against brute force, and through the Solver."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from captchalab.charset import Charset
from captchalab.inference import Solver
from captchalab.objectives.decoding import decode
from captchalab.objectives.lengths import (
    ctc_best_path,
    format_lengths,
    parse_lengths,
    slots_best_choice,
)


def _collapse(path: tuple[int, ...]) -> list[int]:
    out, previous = [], 0
    for c in path:
        if c != 0 and c != previous:
            out.append(c)
        previous = c
    return out


def _random_probs(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    logits = rng.normal(0.0, 2.0, (rows, classes))
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(12))
def test_ctc_best_path_is_the_most_probable_path_of_an_allowed_length(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frames, classes = 6, 4
    probs = _random_probs(rng, frames, classes)
    lengths = frozenset(rng.choice([1, 2, 3, 4], size=int(rng.integers(1, 3)), replace=False))
    best_score, best_paths = -np.inf, []
    for path in itertools.product(range(classes), repeat=frames):
        if len(_collapse(path)) not in lengths:
            continue
        score = float(np.log(probs[np.arange(frames), path]).sum())
        if score > best_score + 1e-12:
            best_score, best_paths = score, [path]
        elif abs(score - best_score) <= 1e-12:
            best_paths.append(path)
    found = ctc_best_path(probs, lengths)
    assert found is not None
    assert len(_collapse(tuple(found))) in lengths
    assert float(np.log(probs[np.arange(frames), found]).sum()) == pytest.approx(best_score)


def test_ctc_best_path_gives_up_when_the_frames_cannot_hold_the_length() -> None:
    probs = np.full((3, 4), 0.25)
    assert ctc_best_path(probs, frozenset({5})) is None
    # three frames hold at most three characters (no blank needed between different ones)
    found = ctc_best_path(probs, frozenset({3}))
    assert found is not None and len(_collapse(tuple(found))) == 3


@pytest.mark.parametrize("seed", range(8))
def test_slots_choice_is_the_most_probable_prefix_fill(seed: int) -> None:
    rng = np.random.default_rng(seed)
    slots, classes = 6, 5
    probs = _random_probs(rng, slots, classes)
    lengths = frozenset({int(rng.integers(1, slots + 1))})
    (k,) = lengths
    best = max(
        (
            float(np.log(probs[np.arange(slots), list(fill) + [0] * (slots - k)]).sum()),
            list(fill),
        )
        for fill in itertools.product(range(1, classes), repeat=k)
    )
    choice = slots_best_choice(probs, lengths)
    assert choice is not None
    assert list(choice[:k]) == best[1] and not choice[k:].any()


def test_an_answer_of_an_allowed_length_is_unchanged_and_others_give_way() -> None:
    charset = Charset("abc")
    # frames: a a - b c - with a strong 'c' in frame 4 and a weaker blank alternative
    probs = np.full((6, 4), 0.01)
    for t, c in enumerate([1, 1, 0, 2, 3, 0]):
        probs[t, c] = 0.97
    probs[4, 3], probs[4, 0] = 0.6, 0.37  # 'c' beats blank, narrowly
    logits = np.log(probs)[None]
    assert decode(logits, charset, "ctc")[0].text == "abc"
    assert decode(logits, charset, "ctc", frozenset({3}))[0].text == "abc"
    two = decode(logits, charset, "ctc", frozenset({2}))[0]
    assert two.text == "ab"  # blank in frame 4 is the best way to read two characters
    assert len(two.char_probs) == 2
    assert two.confidence < decode(logits, charset, "ctc")[0].confidence


def test_fixed_length_slots_drop_the_weakest_trailing_character() -> None:
    charset = Charset("abc")
    probs = np.full((4, 4), 0.01)
    for s, c in enumerate([1, 2, 3, 3]):
        probs[s, c] = 0.97
    probs[3, 3], probs[3, 0] = 0.55, 0.42
    logits = np.log(probs)[None]
    assert decode(logits, charset, "fixed_length")[0].text == "abcc"
    assert decode(logits, charset, "fixed_length", frozenset({3}))[0].text == "abc"


def test_attention_models_refuse_a_length() -> None:
    with pytest.raises(ValueError, match="CTC or fixed-length"):
        decode(np.zeros((1, 3, 4)), Charset("abc"), "attention", frozenset({2}))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (5, {5}),
        ("5", {5}),
        ("4-6", {4, 5, 6}),
        ("4,6", {4, 6}),
        ([3, 7], {3, 7}),
        (" 4 - 5 ", {4, 5}),
        ("4-", None),
    ],
)
def test_parse_lengths(spec: object, expected: set[int] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            parse_lengths(spec)  # type: ignore[arg-type]
    else:
        assert parse_lengths(spec) == expected  # type: ignore[arg-type]
        assert parse_lengths(format_lengths(frozenset(expected))) == expected


@pytest.mark.parametrize("bad", ["", "0", "6-4", "a", "4,,5", "65", True, [2, "3"]])
def test_parse_lengths_rejects_with_a_message(bad: object) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_lengths(bad)  # type: ignore[arg-type]


def test_solver_keeps_lengths_through_its_other_views(onnx_model_path: Path) -> None:
    solver = Solver.load(onnx_model_path).with_lengths("3-4")
    assert solver.lengths == {3, 4}
    assert solver.restricted("123").lengths == {3, 4}
    assert solver.case_insensitive().lengths == {3, 4}
    assert solver.with_lengths(None).lengths is None
    assert "lengths='3-4'" in repr(solver)
    images = np.random.default_rng(0).random((6, 1, 32, 96), dtype=np.float32)
    assert all(len(p.text) in {3, 4} for p in solver.solve_arrays(images))


def test_solver_refuses_a_length_for_an_attention_model(
    tmp_path: Path, make_checkpoint: Callable[..., Path]
) -> None:
    from captchalab.training.export import export_onnx

    onnx_path = export_onnx(
        make_checkpoint(tmp_path / "attention", "attention"), tmp_path / "a.onnx"
    )
    with pytest.raises(ValueError, match="CTC or fixed-length"):
        Solver.load(onnx_path).with_lengths(4)
