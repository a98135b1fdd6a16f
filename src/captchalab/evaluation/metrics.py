"""Accuracy metrics over a labelled set: exact match, character error rate, per position,
per character, and the character confusions behind the errors.

Plain Python, no torch: the torch-free ONNX solver path evaluates with it too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from captchalab.evaluation.alignment import GAP, align, edit_distance

# How many of the most frequent confusions ``EvaluationResult.top_confusions`` keeps;
# ``confusion_counts`` always holds every aligned pair.
TOP_CONFUSIONS = 50

Confusion = tuple[str, str, int]


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics for one labelled set. Rates are fractions in [0, 1] (CER can exceed 1).

    Confusions are ``(true_char, predicted_char, count)``; ``""`` as predicted char is a
    deletion, ``""`` as true char an insertion. ``top_confusions`` holds errors only, most
    frequent first; ``confusion_counts`` holds every aligned pair, matches included (the
    diagonal of the confusion matrix).
    """

    count: int
    exact_accuracy: float
    case_insensitive_accuracy: float
    character_error_rate: float
    length_accuracy: float
    per_position_accuracy: list[float]
    top_confusions: list[Confusion]
    per_character_accuracy: dict[str, float]
    confusion_counts: list[Confusion]
    mean_confidence: float | None = None
    case_sensitive: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable view; confusions become ``{"true", "predicted", "count"}`` dicts."""
        data = asdict(self)
        for key in ("top_confusions", "confusion_counts"):
            data[key] = [
                {"true": true, "predicted": predicted, "count": count}
                for true, predicted, count in data[key]
            ]
        return data


def evaluate_predictions(
    labels: Sequence[str],
    predictions: Sequence[str],
    confidences: Sequence[float] | None = None,
    case_sensitive: bool = True,
) -> EvaluationResult:
    """Score ``predictions`` against ``labels`` (same order, same length).

    With ``case_sensitive=False`` both sides are folded to lower case before every
    comparison (exact match, CER, positions, confusions); ``case_insensitive_accuracy`` is
    always reported on folded strings.
    """
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions")
    if not labels:
        raise ValueError("nothing to evaluate: no labels given")
    if confidences is not None and len(confidences) != len(labels):
        raise ValueError(f"{len(labels)} labels but {len(confidences)} confidences")

    folded_labels = [label.lower() for label in labels]
    folded_predictions = [prediction.lower() for prediction in predictions]
    if not case_sensitive:
        labels, predictions = folded_labels, folded_predictions

    count = len(labels)
    exact = sum(label == prediction for label, prediction in zip(labels, predictions, strict=True))
    folded_exact = sum(a == b for a, b in zip(folded_labels, folded_predictions, strict=True))
    same_length = sum(len(a) == len(b) for a, b in zip(labels, predictions, strict=True))
    edits = sum(edit_distance(a, b) for a, b in zip(labels, predictions, strict=True))
    # An all-empty label set would divide by zero; count each edit against one character.
    label_chars = max(sum(len(label) for label in labels), 1)

    pair_counts = _aligned_pair_counts(labels, predictions)
    return EvaluationResult(
        count=count,
        exact_accuracy=exact / count,
        case_insensitive_accuracy=folded_exact / count,
        character_error_rate=edits / label_chars,
        length_accuracy=same_length / count,
        per_position_accuracy=per_position_accuracy(labels, predictions),
        top_confusions=_sorted_confusions(
            (pair, n) for pair, n in pair_counts.items() if pair[0] != pair[1]
        )[:TOP_CONFUSIONS],
        per_character_accuracy=_per_character_accuracy(pair_counts),
        confusion_counts=_sorted_confusions(pair_counts.items()),
        mean_confidence=(
            sum(float(c) for c in confidences) / count if confidences is not None else None
        ),
        case_sensitive=case_sensitive,
    )


def per_position_accuracy(labels: Sequence[str], predictions: Sequence[str]) -> list[float]:
    """For each position i, the fraction of labels longer than i whose prediction has the
    same character at i (a prediction too short to reach i counts as wrong)."""
    longest = max((len(label) for label in labels), default=0)
    accuracies = []
    for position in range(longest):
        reaching = [(a, b) for a, b in zip(labels, predictions, strict=True) if len(a) > position]
        hits = sum(position < len(b) and a[position] == b[position] for a, b in reaching)
        accuracies.append(hits / len(reaching))
    return accuracies


def _aligned_pair_counts(
    labels: Sequence[str], predictions: Sequence[str]
) -> Counter[tuple[str, str]]:
    pairs: Counter[tuple[str, str]] = Counter()
    for label, prediction in zip(labels, predictions, strict=True):
        pairs.update(align(label, prediction))
    return pairs


def _sorted_confusions(items: Iterable[tuple[tuple[str, str], int]]) -> list[Confusion]:
    """Most frequent first; ties broken by characters so output is deterministic."""
    confusions = [(true, predicted, int(n)) for (true, predicted), n in items]
    return sorted(confusions, key=lambda c: (-c[2], c[0], c[1]))


def _per_character_accuracy(pair_counts: Counter[tuple[str, str]]) -> dict[str, float]:
    """Recall per label character: aligned occurrences predicted as themselves / all."""
    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for (true, predicted), n in pair_counts.items():
        if true == GAP:
            continue  # insertions have no label character
        totals[true] += n
        if predicted == true:
            hits[true] += n
    return {char: hits[char] / totals[char] for char in sorted(totals)}
