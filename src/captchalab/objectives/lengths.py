"""Decoding under a known answer length, in numpy only (the Solver shares it with training).

Most sites draw every captcha with the same number of characters, or a few numbers of them.
Told that number, a decoder can refuse answers of any other length: a stray stroke read as an
extra character, or two merged glyphs read as one, then give way to the most probable answer
of an allowed length.

* **CTC**: the most probable frame path whose collapsed text has an allowed length (a Viterbi
  search over ``(characters emitted, last frame's class)``). Unconstrained greedy decoding is
  the most probable path of any length, so an answer that already has an allowed length is
  unchanged.
* **Fixed length** (``multihead``): the most probable slots with an allowed number ``k`` of
  characters, filling the first ``k`` slots with their best symbols and leaving the rest
  empty, as training pads shorter texts.

Attention decoders feed their own choices back into the next step inside the exported graph,
so a length cannot be imposed after the fact; :func:`check_lengths_supported` says so.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

SUPPORTED = ("ctc", "fixed_length")
MAX_LENGTH = 64


def parse_lengths(spec: str | int | Iterable[int]) -> frozenset[int]:
    """``5``, ``"5"``, ``"4-6"``, ``"4,6"`` or ``[4, 6]`` -> the allowed lengths.

    Raises ValueError with what was wrong for anything else (empty, zero, reversed ranges,
    lengths above 64)."""
    if isinstance(spec, bool):
        raise ValueError(f"a length must be a whole number, got {spec!r}")
    if isinstance(spec, int):
        values = {spec}
    elif isinstance(spec, str):
        values = set()
        parts = [p.strip() for p in spec.split(",")]
        if not spec.strip() or any(not p for p in parts):
            raise ValueError(f"lengths look like 5, 4-6 or 4,6; got {spec!r}")
        for part in parts:
            low, dash, high = part.partition("-")
            try:
                start = int(low)
                end = int(high) if dash else start
            except ValueError:
                raise ValueError(f"lengths look like 5, 4-6 or 4,6; got {spec!r}") from None
            if end < start:
                raise ValueError(f"the range {part!r} runs backwards")
            values.update(range(start, end + 1))
    else:
        values = set()
        for value in spec:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"a length must be a whole number, got {value!r}")
            values.add(value)
    if not values:
        raise ValueError("at least one length is needed")
    if min(values) < 1 or max(values) > MAX_LENGTH:
        raise ValueError(f"lengths must be from 1 to {MAX_LENGTH}, got {sorted(values)}")
    return frozenset(values)


def format_lengths(lengths: frozenset[int]) -> str:
    """The inverse of :func:`parse_lengths` in its shortest form: ``5``, ``4-6``, ``4,6``."""
    ordered = sorted(lengths)
    runs: list[list[int]] = []
    for value in ordered:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def check_lengths_supported(decoder: str) -> None:
    if decoder not in SUPPORTED:
        raise ValueError(
            f"a known answer length needs a CTC or fixed-length model; this one decodes with "
            f"{decoder!r}, which chooses its length inside the model"
        )


def ctc_best_path(probs: np.ndarray, lengths: frozenset[int]) -> np.ndarray | None:
    """The most probable ``(T,)`` frame path of ``(T, C)`` probabilities whose collapsed
    text has a length in ``lengths``; ``None`` when no path can (fewer frames than needed).

    States are ``(k, c)``: ``k`` characters emitted so far, ``c`` the last frame's class (0 =
    blank). A symbol frame after the same symbol repeats it; after a blank or another symbol
    it emits one more character.
    """
    frames, classes = probs.shape
    top = min(max(lengths), frames)
    if min(lengths) > top:
        return None
    with np.errstate(divide="ignore"):
        logp = np.log(probs)
    score = np.full((top + 1, classes), -np.inf)
    score[0, 0] = 0.0
    # back[t, k, c]: the previous state's class, and whether it came from row k - 1
    back_class = np.zeros((frames, top + 1, classes), dtype=np.int32)
    back_emit = np.zeros((frames, top + 1, classes), dtype=bool)
    rows = np.arange(top + 1)
    for t in range(frames):
        best_class = score.argmax(axis=1)  # (K+1,)
        best = score[rows, best_class]
        masked = score.copy()
        masked[rows, best_class] = -np.inf
        second_class = masked.argmax(axis=1)
        second = masked[rows, second_class]
        new = np.full_like(score, -np.inf)
        # a blank keeps k, from any class
        new[:, 0] = best + logp[t, 0]
        back_class[t, :, 0] = best_class
        # a repeated symbol keeps k
        repeat = score[:, 1:] + logp[t, 1:]
        # a new symbol c comes from row k - 1, from the best class that is not c
        emit = np.full((top + 1, classes - 1), -np.inf)
        emit_from = np.zeros((top + 1, classes - 1), dtype=np.int32)
        if top >= 1:
            symbols = np.arange(1, classes)
            same = best_class[:-1, None] == symbols[None, :]  # (K, C-1)
            source = np.where(same, second[:-1, None], best[:-1, None])
            emit[1:] = source + logp[t, 1:]
            emit_from[1:] = np.where(same, second_class[:-1, None], best_class[:-1, None])
        take_emit = emit > repeat
        new[:, 1:] = np.where(take_emit, emit, repeat)
        back_class[t, :, 1:] = np.where(take_emit, emit_from, symbols_grid(top, classes))
        back_emit[t, :, 1:] = take_emit
        score = new
    allowed = np.array([k in lengths for k in range(top + 1)])
    final = np.where(allowed[:, None], score, -np.inf)
    if not np.isfinite(final).any():
        return None
    row, column = np.unravel_index(int(final.argmax()), final.shape)
    k, c = int(row), int(column)
    path = np.zeros(frames, dtype=np.int64)
    for t in range(frames - 1, -1, -1):
        path[t] = c
        previous = int(back_class[t, k, c])
        if back_emit[t, k, c]:
            k -= 1
        c = previous
    return path


def symbols_grid(top: int, classes: int) -> np.ndarray:
    """``(K+1, C-1)``: each symbol's own class, the source of a repeat."""
    return np.broadcast_to(np.arange(1, classes, dtype=np.int32), (top + 1, classes - 1))


def slots_best_choice(probs: np.ndarray, lengths: frozenset[int]) -> np.ndarray | None:
    """The most probable ``(S,)`` slot classes of ``(S, C)`` probabilities with an allowed
    number of non-empty slots; ``None`` when there are too few slots."""
    slots = probs.shape[0]
    allowed = [k for k in lengths if k <= slots]
    if not allowed:
        return None
    with np.errstate(divide="ignore"):
        logp = np.log(probs)
    symbol = logp[:, 1:].argmax(axis=1) + 1
    filled = logp[np.arange(slots), symbol]
    empty = logp[:, 0]
    # trained texts fill the first k slots and leave the rest empty
    filled_prefix = np.concatenate([[0.0], np.cumsum(filled)])
    empty_suffix = np.concatenate([np.cumsum(empty[::-1])[::-1], [0.0]])
    k = max(allowed, key=lambda n: (filled_prefix[n] + empty_suffix[n], -n))
    choice = np.zeros(slots, dtype=np.int64)
    choice[:k] = symbol[:k]
    return choice
