"""Scheme registry: presets registered by name, or a scheme described by a YAML file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from captchalab.registry import add_unique
from captchalab.schemes.base import Scheme

SchemeFactory = Callable[[], Scheme]
_REGISTRY: dict[str, SchemeFactory] = {}


def register_scheme(name: str) -> Callable[[SchemeFactory], SchemeFactory]:
    """Decorator: register a zero-argument factory that builds the scheme ``name``."""

    def wrap(factory: SchemeFactory) -> SchemeFactory:
        add_unique(_REGISTRY, "scheme", name, factory)
        return factory

    return wrap


def list_schemes() -> list[str]:
    return sorted(_REGISTRY)


def get_scheme(name_or_path: str | Path) -> Scheme:
    """A preset by name, a scheme loaded from a ``.yaml``/``.yml`` file, or ``A+B[+...]``:
    an equal-weight mixture of such schemes (``configs/schemes/site.yaml+mix`` is a site's
    scheme plus the broad ``mix``, the training stream of a hardening substitute), or
    ``NAME@N`` / ``NAME@MIN-MAX``: that scheme with texts of other lengths (``hku@1``: the
    ``hku`` look, one symbol per image)."""
    text = str(name_or_path)
    if text in _REGISTRY:
        return _REGISTRY[text]()
    if "@" in text:
        base, _, lengths = text.rpartition("@")
        return with_lengths(get_scheme(base), text, lengths)
    if text.endswith((".yaml", ".yml")):
        from captchalab.schemes.styled import load_scheme_file

        return load_scheme_file(Path(text))
    parts = text.split("+")
    if len(parts) > 1 and all(parts):
        from captchalab.schemes.combined import combine

        return combine(text, parts, [1.0] * len(parts))
    known = ", ".join(list_schemes())
    raise KeyError(
        f"unknown scheme {text!r}; presets: {known}; or pass a .yaml scheme file, "
        "or join schemes with '+' (e.g. hku4+mix) to draw from each equally, or add @N "
        "for texts of N symbols (hku@1)"
    )


def with_lengths(scheme: Scheme, name: str, lengths: str) -> Scheme:
    """``scheme`` drawing texts of ``lengths`` (``"N"`` or ``"MIN-MAX"``) symbols, as ``name``."""
    import dataclasses

    low, _, high = lengths.partition("-")
    if not (low.isdigit() and (high.isdigit() or not high)):
        raise ValueError(f"{name!r}: lengths after '@' are N or MIN-MAX, e.g. hku@1 or hku@4-6")
    if not dataclasses.is_dataclass(scheme):
        raise ValueError(f"{name!r}: {scheme.name} cannot change its lengths")
    return dataclasses.replace(scheme, name=name, min_length=int(low), max_length=int(high or low))
