"""Case policy: read ``a`` and ``A`` as one symbol, for sites that ignore case.

A model trained case-sensitively splits its probability between the two cases of a letter, and
under greedy decoding a letter the model is sure of (``a`` 0.4 + ``A`` 0.4) can lose to a
wrong symbol (``e`` 0.2 beats neither alone, but ``o`` 0.45 beats both). Folding sums the
probability of both cases of each letter *before* decoding: exact per frame (CTC) and per slot
(fixed-length); for attention models the ONNX graph has already fed its own case-sensitive
choice back into the next step, so folding changes what is read at each step but not what the
decoder was conditioned on (an approximation).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from captchalab.charset import Charset

CasePolicy = Literal["sensitive", "insensitive"]
CASE_POLICIES: tuple[str, ...] = ("sensitive", "insensitive")
_MASKED = np.float32(-1e9)


def check_case(policy: str) -> CasePolicy:
    """``policy`` if it is a known case policy, else a ValueError naming the known ones."""
    if policy == "sensitive":
        return "sensitive"
    if policy == "insensitive":
        return "insensitive"
    raise ValueError(f"unknown case policy {policy!r}; use one of: {', '.join(CASE_POLICIES)}")


def fold_targets(charset: Charset) -> np.ndarray:
    """``(C,)`` int: the class each class folds into (its lower-case twin when the charset has
    one, else itself). Class 0 (blank / end / empty) folds into itself."""
    targets = np.arange(charset.num_classes)
    index = {symbol: i for i, symbol in enumerate(charset.symbols, 1)}
    for i, symbol in enumerate(charset.symbols, 1):
        twin = index.get(symbol.lower())
        if twin is not None and twin != i:
            targets[i] = twin
    return targets


def absent_case_targets(charset: Charset, allowed: np.ndarray) -> np.ndarray | None:
    """For answers restricted to ``allowed`` classes: each letter that may not appear folds
    into its other case when that one may (``fold_targets``' layout), or None when no letter
    does. A site that writes only lower-case letters calls a glyph that looks like ``A`` an
    ``a``, so ``A``'s probability belongs to ``a`` rather than to nothing."""
    targets = np.arange(charset.num_classes)
    index = {symbol: i for i, symbol in enumerate(charset.symbols, 1)}
    for i, symbol in enumerate(charset.symbols, 1):
        twin = index.get(symbol.swapcase())
        if not allowed[i] and twin is not None and twin != i and allowed[twin]:
            targets[i] = twin
    return None if (targets == np.arange(len(targets))).all() else targets


def fold_logits(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Merge the classes that fold together: a target class gets the log of the summed
    probability of its members (so a softmax over the result equals the summed softmax), a
    class folded away gets no probability. ``logits`` ``(..., C)``."""
    merged = np.asarray(logits, dtype=np.float32).copy()
    for target in np.unique(targets[targets != np.arange(len(targets))]):
        members = np.flatnonzero(targets == target)
        merged[..., target] = np.logaddexp.reduce(logits[..., members], axis=-1)
        merged[..., members[members != target]] = _MASKED
    return merged


def fold_allowed(allowed: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """A class mask after folding: a target class is allowed when any of its members was."""
    folded = np.zeros_like(allowed)
    np.logical_or.at(folded, targets, allowed)
    return folded
