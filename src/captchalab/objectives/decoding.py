"""Turning logits into text, in numpy only, so the torch-free Solver shares it with training.

Every model emits logits of shape ``(B, S, C)`` where class 0 means "no symbol": the CTC
blank, the end of an attention sequence, or an empty slot of a fixed-length model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from captchalab.charset import Charset
from captchalab.objectives.lengths import (
    check_lengths_supported,
    ctc_best_path,
    slots_best_choice,
)

DECODERS = ("fixed_length", "ctc", "attention")


@dataclass(frozen=True)
class Prediction:
    """One answer: the text, its sequence probability and each character's probability.

    What decoders return, in training and evaluation, and what the Solver answers.
    """

    text: str
    confidence: float
    char_probs: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": self.confidence,
            "char_probs": list(self.char_probs),
        }


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def decode(
    logits: np.ndarray,
    charset: Charset,
    decoder: str,
    lengths: frozenset[int] | None = None,
) -> list[Prediction]:
    """``(B, S, C)`` logits -> one :class:`Prediction` per batch item.

    ``lengths``: the answer lengths allowed (``objectives.lengths``; CTC and fixed-length
    decoders only). An answer of another length gives way to the most probable one of an
    allowed length, where the model's output can hold one.
    """
    if logits.ndim != 3:
        raise ValueError(f"expected logits of shape (B, S, C), got {logits.shape}")
    if lengths is not None:
        check_lengths_supported(decoder)
    probs = softmax(logits.astype(np.float64))
    if decoder == "fixed_length":
        return [_decode_slots(p, charset, lengths) for p in probs]
    if decoder == "ctc":
        return [_decode_ctc(p, charset, lengths) for p in probs]
    if decoder == "attention":
        return [_decode_until_end(p, charset) for p in probs]
    raise ValueError(f"unknown decoder {decoder!r}; known: {', '.join(DECODERS)}")


def _decode_slots(
    probs: np.ndarray, charset: Charset, lengths: frozenset[int] | None = None
) -> Prediction:
    """Each slot is independent; empty slots (id 0) pad shorter texts."""
    ids = probs.argmax(axis=1)
    if lengths is not None and int((ids != 0).sum()) not in lengths:
        choice = slots_best_choice(probs, lengths)
        if choice is not None:
            ids = choice
    best = probs[np.arange(len(ids)), ids]
    kept = [(int(i), float(p)) for i, p in zip(ids, best, strict=True) if i != 0]
    text = charset.decode([i for i, _ in kept])
    return Prediction(text, float(np.prod(best)), tuple(p for _, p in kept))


def _decode_ctc(
    probs: np.ndarray, charset: Charset, lengths: frozenset[int] | None = None
) -> Prediction:
    """Greedy best path: collapse repeats, drop blanks.

    The confidence is the best path's probability, a lower bound on the label's probability
    that is tight when the model is sharp (calibrated against held-out data by the Solver).
    With ``lengths``, a best path of another length gives way to the best path of an allowed
    one.
    """
    ids = probs.argmax(axis=1)
    if lengths is not None and _collapsed_length(ids) not in lengths:
        path = ctc_best_path(probs, lengths)
        if path is not None:
            ids = path
    best = probs[np.arange(len(ids)), ids]
    emitted: list[int] = []
    char_probs: list[float] = []
    previous = 0
    for frame_id, frame_prob in zip(ids, best, strict=True):
        if frame_id != 0 and frame_id != previous:
            emitted.append(int(frame_id))
            char_probs.append(float(frame_prob))
        elif frame_id != 0 and char_probs:
            char_probs[-1] = max(char_probs[-1], float(frame_prob))
        previous = int(frame_id)
    return Prediction(charset.decode(emitted), float(np.prod(best)), tuple(char_probs))


def _collapsed_length(ids: np.ndarray) -> int:
    """How many characters a CTC frame path reads: runs of one symbol count once."""
    if len(ids) == 0:
        return 0
    starts = np.concatenate([[True], ids[1:] != ids[:-1]])
    return int(((ids != 0) & starts).sum())


def _decode_until_end(probs: np.ndarray, charset: Charset) -> Prediction:
    """Read symbols until the first end token (id 0); the end token's probability counts.

    The last step can only end the text: a model that never ends still reads at most
    ``S - 1`` symbols, with the last step's end probability in its confidence.
    """
    ids = probs.argmax(axis=1)
    ids[-1] = 0
    emitted: list[int] = []
    char_probs: list[float] = []
    confidence = 1.0
    for step, token in enumerate(ids):
        p = float(probs[step, token])
        confidence *= p
        if token == 0:
            break
        emitted.append(int(token))
        char_probs.append(p)
    return Prediction(charset.decode(emitted), confidence, tuple(char_probs))
