"""Evaluation report folder: ``summary.md``, ``metrics.json`` and ``confusion.png``."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from captchalab.evaluation.alignment import GAP
from captchalab.evaluation.confusion_plot import plot_confusion
from captchalab.evaluation.metrics import EvaluationResult
from captchalab.evaluation.reliability import coverage_table, expected_calibration_error

SUMMARY_FILE = "summary.md"
METRICS_FILE = "metrics.json"
CONFUSION_FILE = "confusion.png"
REPORT_CONFUSIONS = 20
REPORT_FAILURES = 20

# (label, prediction, confidence or None)
Example = tuple[str, str, float | None]


def write_report(
    result: EvaluationResult,
    out_dir: Path,
    title: str,
    examples: Sequence[Example] | None = None,
    charset: str | None = None,
) -> Path:
    """Write the three report files into ``out_dir`` (created if missing); return summary.md.

    ``examples`` adds a list of failed examples and, when every example has a confidence,
    a calibration section. ``charset`` orders the confusion matrix axes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / METRICS_FILE).write_text(
        json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    plot_confusion(result, out_dir / CONFUSION_FILE, title=title, charset=charset)
    summary_path = out_dir / SUMMARY_FILE
    summary_path.write_text(render_summary(result, title, examples), encoding="utf-8")
    return summary_path


def render_summary(
    result: EvaluationResult, title: str, examples: Sequence[Example] | None = None
) -> str:
    """The markdown text of ``summary.md``."""
    sections = [
        f"# {title}",
        _headline_table(result),
        _position_table(result),
        _confusion_table(result),
    ]
    if examples:
        sections.append(_calibration_section(result, examples))
        sections.append(_failure_table(result, examples))
    sections.append(f"## Confusion matrix\n\n![confusion matrix]({CONFUSION_FILE})")
    return "\n\n".join(section for section in sections if section) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _code(text: str) -> str:
    """Inline code safe inside a markdown table cell; the empty string reads *(empty)*."""
    if not text:
        return "*(empty)*"
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    escaped = text.replace("|", "\\|")  # GFM splits cells on "|" even inside code spans
    return f"{fence}{padding}{escaped}{padding}{fence}"


def _headline_table(result: EvaluationResult) -> str:
    rows = [
        ["samples", str(result.count)],
        ["comparison", "case-sensitive" if result.case_sensitive else "case-insensitive"],
        ["exact accuracy", f"{result.exact_accuracy:.2%}"],
        ["case-insensitive accuracy", f"{result.case_insensitive_accuracy:.2%}"],
        ["character error rate", f"{result.character_error_rate:.2%}"],
        ["length accuracy", f"{result.length_accuracy:.2%}"],
    ]
    if result.mean_confidence is not None:
        rows.append(["mean confidence", f"{result.mean_confidence:.3f}"])
    return _table(["metric", "value"], rows)


def _position_table(result: EvaluationResult) -> str:
    rows = [
        [str(position), f"{accuracy:.2%}"]
        for position, accuracy in enumerate(result.per_position_accuracy, start=1)
    ]
    return "## Per-position accuracy\n\n" + _table(["position", "accuracy"], rows)


def _confusion_table(result: EvaluationResult) -> str:
    top = result.top_confusions[:REPORT_CONFUSIONS]
    if not top:
        return "## Top confusions\n\nNo character errors."
    rows = [
        [
            "*(inserted)*" if true == GAP else _code(true),
            "*(deleted)*" if predicted == GAP else _code(predicted),
            str(count),
        ]
        for true, predicted, count in top
    ]
    return "## Top confusions\n\n" + _table(["true", "predicted", "count"], rows)


def _is_correct(result: EvaluationResult, label: str, prediction: str) -> bool:
    if result.case_sensitive:
        return label == prediction
    return label.lower() == prediction.lower()


def _calibration_section(result: EvaluationResult, examples: Sequence[Example]) -> str:
    confidences = [confidence for _, _, confidence in examples]
    if any(confidence is None for confidence in confidences):
        return ""
    scores = [float(c) for c in confidences if c is not None]
    correct = [_is_correct(result, label, prediction) for label, prediction, _ in examples]
    rows = [
        [
            f"{row['threshold']:g}",
            f"{row['kept']} ({row['coverage']:.2%})",
            "-" if row["accuracy"] is None else f"{row['accuracy']:.2%}",
        ]
        for row in coverage_table(correct, scores)
    ]
    ece = expected_calibration_error(correct, scores)
    return f"## Calibration\n\nExpected calibration error (10 bins): {ece:.4f}\n\n" + _table(
        ["confidence >=", "kept", "accuracy of kept"], rows
    )


def _failure_table(result: EvaluationResult, examples: Sequence[Example]) -> str:
    failures = [example for example in examples if not _is_correct(result, example[0], example[1])]
    if not failures:
        return "## Failed examples\n\nNone."
    rows = [
        [_code(label), _code(prediction), "-" if confidence is None else f"{confidence:.3f}"]
        for label, prediction, confidence in failures[:REPORT_FAILURES]
    ]
    shown = f"first {len(rows)} of {len(failures)}" if len(failures) > len(rows) else "all"
    return f"## Failed examples ({shown})\n\n" + _table(["label", "prediction", "confidence"], rows)
