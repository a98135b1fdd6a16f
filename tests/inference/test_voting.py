"""Voting over renderings of one captcha."""

from __future__ import annotations

import pytest

from captchalab.inference import Prediction, vote


def _p(text: str, confidence: float, char_prob: float | None = None) -> Prediction:
    prob = confidence ** (1 / max(len(text), 1)) if char_prob is None else char_prob
    return Prediction(text, confidence, (prob,) * len(text))


def test_whole_string_majority_wins() -> None:
    predictions = [_p("abc12", 0.5), _p("abc1", 0.6), _p("abc12", 0.5), _p("xbc1", 0.7)]
    result = vote(predictions)
    assert result.text == "abc12"
    assert result.confidence == pytest.approx((0.5 + 0.5) / 4)
    assert len(result.char_probs) == 5


def test_whole_string_tie_goes_to_the_most_confident() -> None:
    # Equal total weight (0.9 each); "1234" has the single most confident reading.
    predictions = [_p("123", 0.45), _p("1234", 0.9), _p("123", 0.45)]
    assert vote(predictions).text == "1234"
    assert vote(list(reversed(predictions))).text == "1234"


def test_per_position_vote_fixes_single_character_errors() -> None:
    # Each rendering misreads a different character; no two agree on the whole string.
    predictions = [_p("x2345", 0.5), _p("1y345", 0.5), _p("12z45", 0.5)]
    result = vote(predictions)
    assert result.text == "12345"
    # Mean confidence times the winning share at each position: 2/3 at three positions.
    assert result.confidence == pytest.approx(0.5 * (2 / 3) ** 3)
    assert result.char_probs[3] == pytest.approx(0.5 ** (1 / 5))


def test_per_position_weights_by_character_probability() -> None:
    predictions = [
        Prediction("17", 0.3, (0.9, 0.35)),
        Prediction("17", 0.3, (0.9, 0.35)),
        Prediction("11", 0.9, (0.95, 0.95)),
    ]
    assert vote(predictions).text == "11"  # 0.95 outweighs 0.35 + 0.35


def test_single_and_unanimous_predictions_are_unchanged() -> None:
    single = Prediction("ab", 0.81, (0.9, 0.9))
    assert vote([single]) == single
    assert vote([single, single, single]) == single


def test_vote_needs_predictions() -> None:
    with pytest.raises(ValueError, match="without predictions"):
        vote([])
