"""The case-ceiling benchmark's parts: the glyphs it draws, its per-letter score, its ceiling."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import case_ceiling

from captchalab.schemes import get_scheme


def _ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image[0] > 0.5)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_the_generator_stretches_both_cases_to_one_box() -> None:
    """The premise: `V` and `v` (each drawn upright often enough) come out the same height."""
    scheme = get_scheme("hku")
    letters = case_ceiling.twin_letters(scheme)
    assert len(letters) == 50 and "O" not in letters and letters[:2] == "AB"
    glyphs = case_ceiling.render(scheme, letters, 400, seed=3)
    assert glyphs.images.shape == (400, 1, 48, 32)
    heights = {
        letter: np.median(
            [
                _ink_box(img)[0]
                for img, k in zip(glyphs.images, glyphs.labels, strict=True)
                if letters[k] == letter
            ]
        )
        for letter in "Vv"
    }
    assert abs(heights["V"] - heights["v"]) <= 2, heights
    again = case_ceiling.render(scheme, letters, 400, seed=3)
    assert np.array_equal(glyphs.images, again.images)


def test_case_accuracy_counts_only_glyphs_read_as_the_right_letter() -> None:
    letters = "Vv"
    data = case_ceiling.Glyphs(np.zeros((4, 1, 2, 2), np.float32), np.array([0, 0, 0, 1]), letters)
    per = case_ceiling.case_accuracy(data, np.array([0, 1, 1, 1]))
    assert per["V"] == (pytest.approx(1 / 3), 3)
    assert per["v"] == (1.0, 1)


def test_the_ceiling_compounds_over_the_schemes_lengths() -> None:
    scheme = get_scheme("hku")  # 59 symbols, lengths 4-6
    perfect = {s: (1.0, 1) for s in case_ceiling.twin_letters(scheme)}
    assert case_ceiling.exact_ceiling(scheme, perfect) == 1.0
    half_v = {**perfect, "V": (0.5, 1)}
    mean = 1 - 0.5 / 59
    assert case_ceiling.exact_ceiling(scheme, half_v) == pytest.approx(
        (mean**4 + mean**5 + mean**6) / 3
    )


def test_pairs_replace_the_two_cases_and_must_be_the_schemes_symbols() -> None:
    scheme = get_scheme("alnum5")  # 0-9A-Z: no letter has both cases
    assert case_ceiling.twin_letters(scheme) == ""
    assert case_ceiling.twin_letters(scheme, ["O0", "1I"]) == "O01I"
    with pytest.raises(ValueError, match="'o'"):
        case_ceiling.twin_letters(scheme, ["Oo"])
    with pytest.raises(ValueError):
        case_ceiling.twin_letters(scheme, ["O"])
    glyphs = case_ceiling.render(scheme, "O0", 40, seed=1, canvas=(40, 64), pairs=("O0",))
    assert glyphs.images.shape == (40, 1, 64, 40) and glyphs.twin("0") == glyphs.twin("O")
    data = case_ceiling.Glyphs(
        np.zeros((4, 1, 2, 2), np.float32), np.array([0, 0, 1, 2]), "O0D", ("O0",)
    )
    per = case_ceiling.case_accuracy(data, np.array([0, 2, 0, 2]))  # O->D is not an O/0 error
    assert per["O"] == (1.0, 1) and per["0"] == (0.0, 1)
