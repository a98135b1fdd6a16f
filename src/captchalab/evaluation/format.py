"""Compact plain-text summaries (an ``EvaluationResult``, reliability tables) for the CLI."""

from __future__ import annotations

from typing import Any

from captchalab.evaluation.alignment import GAP
from captchalab.evaluation.metrics import EvaluationResult

SUMMARY_CONFUSIONS = 5


def format_summary(result: EvaluationResult, confusions: int = SUMMARY_CONFUSIONS) -> str:
    """Multi-line text: exact, case-insensitive, CER, length, per position, top confusions.

    Positions are numbered from 1. No trailing newline.
    """
    mode = "case-sensitive" if result.case_sensitive else "case-insensitive"
    lines = [
        f"samples           {result.count} ({mode})",
        f"exact accuracy    {result.exact_accuracy:.2%}",
        f"case-insensitive  {result.case_insensitive_accuracy:.2%}",
        f"char error rate   {result.character_error_rate:.2%}",
        f"length accuracy   {result.length_accuracy:.2%}",
        "per position      "
        + "  ".join(
            f"{position}:{accuracy:.1%}"
            for position, accuracy in enumerate(result.per_position_accuracy, start=1)
        ),
    ]
    if result.mean_confidence is not None:
        lines.append(f"mean confidence   {result.mean_confidence:.3f}")
    top = result.top_confusions[:confusions]
    shown = "  ".join(f"{describe_confusion(t, p)} x{n}" for t, p, n in top)
    lines.append(f"top confusions    {shown or 'none'}")
    return "\n".join(lines)


def describe_confusion(true: str, predicted: str) -> str:
    """``'y'->'z'``; a deletion reads ``'b'->(deleted)``, an insertion ``(inserted)->'x'``."""
    left = "(inserted)" if true == GAP else repr(true)
    right = "(deleted)" if predicted == GAP else repr(predicted)
    return f"{left}->{right}"


def format_reliability(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    """Two reliability tables (``reliability_table`` rows) side by side, one line per
    confidence bin: answers in the bin, their mean confidence and accuracy, before and after."""

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    lines = [
        f"{'':10}  {'before':^26}  {'after':^26}",
        f"{'confidence':10}  {'count':>6} {'mean':>9} {'right':>9}  "
        f"{'count':>6} {'mean':>9} {'right':>9}",
    ]
    for old, new in zip(before, after, strict=True):
        lines.append(
            f"{old['lower']:.1f}-{old['upper']:.1f}".ljust(10)
            + f"  {old['count']:>6} {cell(old['mean_confidence']):>9} {cell(old['accuracy']):>9}"
            + f"  {new['count']:>6} {cell(new['mean_confidence']):>9} {cell(new['accuracy']):>9}"
        )
    return "\n".join(lines)
