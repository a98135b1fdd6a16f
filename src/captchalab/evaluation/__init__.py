"""Evaluation over a labelled set: metrics, calibration, confusion matrix and reports.

No torch imports anywhere here: the ONNX solver path evaluates with it too.
"""

from captchalab.evaluation.alignment import align, edit_distance
from captchalab.evaluation.confusion_plot import confusion_matrix, plot_confusion
from captchalab.evaluation.format import format_summary
from captchalab.evaluation.metrics import (
    EvaluationResult,
    evaluate_predictions,
    per_position_accuracy,
)
from captchalab.evaluation.reliability import (
    DEFAULT_THRESHOLDS,
    accuracy_above,
    coverage_table,
    expected_calibration_error,
    reliability_table,
)
from captchalab.evaluation.report import render_summary, write_report

__all__ = [
    "DEFAULT_THRESHOLDS",
    "EvaluationResult",
    "accuracy_above",
    "align",
    "confusion_matrix",
    "coverage_table",
    "edit_distance",
    "evaluate_predictions",
    "expected_calibration_error",
    "format_summary",
    "per_position_accuracy",
    "plot_confusion",
    "reliability_table",
    "render_summary",
    "write_report",
]
