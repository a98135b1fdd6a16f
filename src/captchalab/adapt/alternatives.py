"""Runner-up answers for an image the checker rejected, from the model's own logits.

The best path's least certain positions are the likeliest mistakes: each alternative swaps one
position (a CTC frame, a fixed-length slot, an attention step) to its second-best class and
decodes again. Alternatives come most probable first and never repeat an answer. For
attention models this is approximate (the graph fed its own first choice to the next step).
"""

from __future__ import annotations

import numpy as np

from captchalab.charset import Charset
from captchalab.objectives.decoding import decode, softmax


def alternatives(logits: np.ndarray, charset: Charset, decoder: str, k: int) -> list[str]:
    """Up to ``k`` answers for one image's ``(S, C)`` logits, the best first."""
    if k < 1:
        return []
    probs = softmax(logits.astype(np.float64))
    order = np.argsort(-probs, axis=1)
    top, second = order[:, 0], order[:, 1]
    frames = np.arange(len(probs))
    best_path = np.log(probs[frames, top] + 1e-30).sum()
    swapped = [
        (best_path - np.log(probs[f, top[f]] + 1e-30) + np.log(probs[f, second[f]] + 1e-30), f)
        for f in frames
    ]
    answers = [decode(logits[None], charset, decoder)[0].text]
    for _, frame in sorted(swapped, reverse=True):
        if len(answers) >= k:
            break
        edited = logits.astype(np.float32).copy()
        edited[frame, second[frame]] = edited[frame].max() + 10.0
        text = decode(edited[None], charset, decoder)[0].text
        if text and text not in answers:
            answers.append(text)
    return answers[:k]
