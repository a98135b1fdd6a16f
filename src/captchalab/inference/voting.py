"""Combine the predictions for several renderings of one captcha into one answer.

The rule:

* **Same length** (every prediction has as many characters as the others): vote per position.
  At each position a character's weight is the sum of the probabilities the predictions gave
  it, so three renderings that each misread a different character still yield the right text.
* **Different lengths**: vote over whole strings, each weighted by its sequence confidence.

Ties go to the candidate with the highest single probability, then to the earliest one.

The combined confidence is deliberately conservative, never more than the mean confidence:
``mean(confidence) * prod(share_i)`` per position, where ``share_i`` is the winning
character's share of the weight at position ``i``; and for a whole-string vote,
``sum(confidence of agreeing predictions) / n``. Each character probability is the mean over
predictions of the probability given to the winning character (0 from dissenters). With one
prediction, or with unanimous ones of equal confidence, the answer is that prediction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from captchalab.inference.solver import Prediction


def vote(predictions: Sequence[Prediction]) -> Prediction:
    """The combined answer for predictions of the same captcha (see the module docstring)."""
    if not predictions:
        raise ValueError("cannot vote without predictions")
    lengths = {len(p.text) for p in predictions}
    if len(lengths) == 1 and all(len(p.char_probs) == len(p.text) for p in predictions):
        return _vote_per_position(predictions)
    return _vote_whole_strings(predictions)


def _best(weights: dict[str, float], peaks: dict[str, float]) -> str:
    """Highest total weight, then highest single weight; dicts keep first-seen order."""
    return max(weights, key=lambda key: (weights[key], peaks[key]))


def _vote_whole_strings(predictions: Sequence[Prediction]) -> Prediction:
    weights: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for p in predictions:
        weights[p.text] = weights.get(p.text, 0.0) + p.confidence
        peaks[p.text] = max(peaks.get(p.text, 0.0), p.confidence)
    winner = _best(weights, peaks)
    agreeing = [p.char_probs for p in predictions if p.text == winner]
    if len({len(probs) for probs in agreeing}) > 1:  # malformed input: keep the first's shape
        agreeing = [probs for probs in agreeing if len(probs) == len(agreeing[0])]
    # The mean over all predictions, dissenters giving the winner probability 0.
    char_probs = np.sum(np.asarray(agreeing, dtype=np.float64), axis=0) / len(predictions)
    return Prediction(
        text=winner,
        confidence=weights[winner] / len(predictions),
        char_probs=tuple(float(v) for v in char_probs),
    )


def _vote_per_position(predictions: Sequence[Prediction]) -> Prediction:
    count = len(predictions)
    text: list[str] = []
    char_probs: list[float] = []
    agreement = 1.0
    for position in range(len(predictions[0].text)):
        weights: dict[str, float] = {}
        peaks: dict[str, float] = {}
        for p in predictions:
            symbol, prob = p.text[position], p.char_probs[position]
            weights[symbol] = weights.get(symbol, 0.0) + prob
            peaks[symbol] = max(peaks.get(symbol, 0.0), prob)
        winner = _best(weights, peaks)
        total = sum(weights.values())
        agreement *= weights[winner] / total if total > 0 else 1.0 / len(weights)
        text.append(winner)
        char_probs.append(weights[winner] / count)
    mean_confidence = sum(p.confidence for p in predictions) / count
    return Prediction("".join(text), mean_confidence * agreement, tuple(char_probs))
