"""The shared rules of the ``@register_*`` tables."""

from __future__ import annotations

import pytest

from captchalab.registry import add_unique, lookup


def test_a_name_is_registered_once_and_looked_up_by_name() -> None:
    table: dict[str, int] = {}
    add_unique(table, "view", "pad", 1)
    add_unique(table, "view", "blur", 2)
    assert lookup(table, "view", "blur") == 2
    with pytest.raises(ValueError, match="view 'pad' is registered twice"):
        add_unique(table, "view", "pad", 3)
    assert table == {"pad": 1, "blur": 2}
    with pytest.raises(KeyError, match="unknown view 'sharpen'; known: pad, blur"):
        lookup(table, "view", "sharpen")
