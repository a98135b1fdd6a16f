"""Evaluation metrics, calibration and reports, checked against hand-computed answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from captchalab.evaluation import (
    align,
    confusion_matrix,
    confusion_plot,
    coverage_table,
    edit_distance,
    evaluate_predictions,
    expected_calibration_error,
    format_summary,
    reliability_table,
    write_report,
)

# Hand-made set: an exact hit, an inserted "x", a substitution y->z, and a case-only miss.
LABELS = ["abcd", "abcd", "xyz", "AbC"]
PREDICTIONS = ["abcd", "abxcd", "xzz", "abc"]
CONFIDENCES = [0.9, 0.6, 0.5, 0.8]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("abc", "abd", 1),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("abcd", "abxcd", 1),
        ("ab", "ba", 2),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_alignment_keeps_characters_after_an_insertion_in_place() -> None:
    assert align("abcd", "abxcd") == [("a", "a"), ("b", "b"), ("", "x"), ("c", "c"), ("d", "d")]
    assert align("abcd", "acd") == [("a", "a"), ("b", ""), ("c", "c"), ("d", "d")]


def test_hand_computed_metrics() -> None:
    result = evaluate_predictions(LABELS, PREDICTIONS, confidences=CONFIDENCES)
    assert result.count == 4
    assert result.exact_accuracy == pytest.approx(1 / 4)
    assert result.case_insensitive_accuracy == pytest.approx(2 / 4)
    # edits 0 + 1 + 1 + 2 over label characters 4 + 4 + 3 + 3
    assert result.character_error_rate == pytest.approx(4 / 14)
    assert result.length_accuracy == pytest.approx(3 / 4)
    # position 4 exists only in the two "abcd" labels; "abxcd" has "c" there.
    assert result.per_position_accuracy == pytest.approx([3 / 4, 3 / 4, 2 / 4, 1 / 2])
    assert result.mean_confidence == pytest.approx(0.7)
    assert result.per_character_accuracy["y"] == 0.0
    assert result.per_character_accuracy["d"] == 1.0
    assert result.per_character_accuracy["A"] == 0.0


def test_confusions_come_from_the_alignment_not_positions() -> None:
    result = evaluate_predictions(LABELS, PREDICTIONS)
    # The inserted "x" is one insertion; c and d after it are not counted as c->x, d->c.
    assert sorted(result.top_confusions) == [
        ("", "x", 1),
        ("A", "a", 1),
        ("C", "c", 1),
        ("y", "z", 1),
    ]
    assert ("c", "c", 2) in result.confusion_counts  # the third "c" is "C"


def test_confusions_count_deletions_and_sort_by_frequency() -> None:
    result = evaluate_predictions(["abcd", "xbyb", "b"], ["acd", "xbyb", "c"])
    assert result.top_confusions == [("b", "", 1), ("b", "c", 1)]
    result = evaluate_predictions(["yy", "y"], ["zz", "q"])
    assert result.top_confusions == [("y", "z", 2), ("y", "q", 1)]
    assert result.per_character_accuracy == {"y": 0.0}


def test_case_insensitive_mode_folds_both_sides() -> None:
    result = evaluate_predictions(LABELS, PREDICTIONS, case_sensitive=False)
    assert result.exact_accuracy == pytest.approx(2 / 4)
    assert result.case_insensitive_accuracy == pytest.approx(2 / 4)
    assert result.character_error_rate == pytest.approx(2 / 14)
    assert sorted(result.top_confusions) == [("", "x", 1), ("y", "z", 1)]
    assert not result.case_sensitive


def test_mismatched_or_empty_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="predictions"):
        evaluate_predictions(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="confidences"):
        evaluate_predictions(["a"], ["a"], confidences=[0.1, 0.2])
    with pytest.raises(ValueError, match="no labels"):
        evaluate_predictions([], [])


def test_to_dict_is_json_serialisable() -> None:
    data = evaluate_predictions(LABELS, PREDICTIONS).to_dict()
    restored = json.loads(json.dumps(data))
    assert restored["exact_accuracy"] == pytest.approx(0.25)
    assert {"true": "y", "predicted": "z", "count": 1} in restored["top_confusions"]
    assert restored["mean_confidence"] is None


def test_reliability_bins_and_calibration_error() -> None:
    correct = [True, False, True, True]
    confidences = [0.05, 0.15, 0.95, 1.0]
    table = reliability_table(correct, confidences, bins=10)
    assert len(table) == 10
    assert (table[0]["lower"], table[0]["upper"]) == (0.0, 0.1)
    assert [row["count"] for row in table] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[1]["accuracy"] == 0.0
    assert table[5]["mean_confidence"] is None
    assert table[9]["mean_confidence"] == pytest.approx(0.975)
    assert table[9]["accuracy"] == 1.0
    # 1/4 * 0.95 + 1/4 * 0.15 + 2/4 * 0.025
    assert expected_calibration_error(correct, confidences) == pytest.approx(0.2875)
    assert expected_calibration_error([], []) == 0.0
    with pytest.raises(ValueError):
        reliability_table([True], [1.5])


def test_coverage_table() -> None:
    rows = coverage_table([True, False, True, False], [0.99, 0.85, 0.92, 0.3])
    by_threshold = {row["threshold"]: row for row in rows}
    assert [row["threshold"] for row in rows] == [0.5, 0.8, 0.9, 0.95, 0.99]
    assert by_threshold[0.8]["coverage"] == pytest.approx(3 / 4)
    assert by_threshold[0.8]["accuracy"] == pytest.approx(2 / 3)
    assert by_threshold[0.9]["accuracy"] == 1.0
    assert by_threshold[0.99]["kept"] == 1


def test_confusion_matrix_has_a_deletion_column() -> None:
    result = evaluate_predictions(["abcd", "xyz"], ["acd", "xzz"])
    rows, cols, counts = confusion_matrix(result, charset="zyxdcba")
    assert rows == ["z", "y", "x", "d", "c", "b", "a"]
    assert cols == ["z", "y", "x", "d", "c", "b", "a", ""]
    assert counts[rows.index("b"), -1] == 1
    assert counts[rows.index("y"), cols.index("z")] == 1
    assert counts.sum() == 7  # every label character once


def test_write_report_creates_three_files(tmp_path: Path) -> None:
    result = evaluate_predictions(LABELS, PREDICTIONS, confidences=CONFIDENCES)
    examples = list(zip(LABELS, PREDICTIONS, CONFIDENCES, strict=True))
    summary = write_report(result, tmp_path / "report", "Hand-made set", examples=examples)
    out_dir = tmp_path / "report"
    assert summary == out_dir / "summary.md"
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Hand-made set")
    assert "| exact accuracy | 25.00% |" in text
    assert "| `abcd` | `abxcd` | 0.600 |" in text
    assert "## Calibration" in text
    assert json.loads((out_dir / "metrics.json").read_text())["count"] == 4
    with Image.open(out_dir / "confusion.png") as image:
        assert image.format == "PNG"


def test_confusion_png_falls_back_to_pillow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confusion_plot, "_load_matplotlib", lambda: None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = evaluate_predictions(LABELS, PREDICTIONS)
    path = confusion_plot.plot_confusion(result, tmp_path / "confusion.png", title="fallback")
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width > 100


def test_format_summary_lists_headline_metrics() -> None:
    text = format_summary(evaluate_predictions(LABELS, PREDICTIONS))
    assert "exact accuracy    25.00%" in text
    assert "case-insensitive  50.00%" in text
    assert "char error rate   28.57%" in text
    assert "1:75.0%  2:75.0%  3:50.0%  4:50.0%" in text
    assert "(inserted)->'x' x1" in text
