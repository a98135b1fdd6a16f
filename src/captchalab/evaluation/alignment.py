"""Levenshtein distance and the character alignment behind it.

The alignment pairs each label character with the predicted character it was matched or
substituted with, so one inserted or deleted character does not count every later
character as wrong (as a position-by-position comparison would). An empty string on
either side marks a gap: ``(char, "")`` is a deletion, ``("", char)`` an insertion.
"""

from __future__ import annotations

GAP = ""


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: fewest single-character insertions, deletions, substitutions."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,  # delete char_a
                    current[j - 1] + 1,  # insert char_b
                    previous[j - 1] + (char_a != char_b),  # match or substitute
                )
            )
        previous = current
    return previous[-1]


def _distance_table(label: str, prediction: str) -> list[list[int]]:
    """Full (len(label)+1, len(prediction)+1) Levenshtein table, kept for the backtrace."""
    table = [[j for j in range(len(prediction) + 1)]]
    for i, char_l in enumerate(label, start=1):
        row = [i]
        for j, char_p in enumerate(prediction, start=1):
            row.append(
                min(
                    table[i - 1][j] + 1,
                    row[j - 1] + 1,
                    table[i - 1][j - 1] + (char_l != char_p),
                )
            )
        table.append(row)
    return table


def align(label: str, prediction: str) -> list[tuple[str, str]]:
    """Minimum-edit alignment as ``(label_char, predicted_char)`` pairs, in reading order.

    Ties prefer a match or substitution over a gap, so equal-length strings align position by
    position. ``GAP`` (the empty string) marks a deleted or inserted character.
    """
    table = _distance_table(label, prediction)
    pairs: list[tuple[str, str]] = []
    i, j = len(label), len(prediction)
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            cost = label[i - 1] != prediction[j - 1]
            if table[i][j] == table[i - 1][j - 1] + cost:
                pairs.append((label[i - 1], prediction[j - 1]))
                i, j = i - 1, j - 1
                continue
        if i > 0 and table[i][j] == table[i - 1][j] + 1:
            pairs.append((label[i - 1], GAP))
            i -= 1
        else:
            pairs.append((GAP, prediction[j - 1]))
            j -= 1
    pairs.reverse()
    return pairs
