"""How an exception reads in a one-line error message."""

from __future__ import annotations


def error_text(exc: BaseException) -> str:
    """``exc``'s message for a person: a ``KeyError`` without the quotes ``str()`` puts
    around its key, any other exception as ``str()`` gives it (a path in an ``OSError``
    keeps both of its quotes)."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)
