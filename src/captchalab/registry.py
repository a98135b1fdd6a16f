"""Name -> thing tables filled by ``@register_*`` decorators (models, schemes, cleanings,
audit factors, image views): one rule for a name given twice and one error for a name not
there."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TypeVar

T = TypeVar("T")


def add_unique(table: MutableMapping[str, T], kind: str, name: str, value: T) -> None:
    """``table[name] = value``; a ValueError if ``name`` is already there."""
    if name in table:
        raise ValueError(f"{kind} {name!r} is registered twice")
    table[name] = value


def lookup(table: Mapping[str, T], kind: str, name: str) -> T:
    """``table[name]``, or a KeyError that names the known entries."""
    if name not in table:
        raise KeyError(f"unknown {kind} {name!r}; known: {', '.join(table)}")
    return table[name]
