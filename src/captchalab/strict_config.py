"""Strict loading of YAML files into frozen dataclasses, through pydantic.

A dataclass opts in with ``__pydantic_config__ = STRICT``: no type coercion (``"no"`` is
not a boolean, ``"3"`` is not a number), unknown keys are errors, and YAML lists become
tuples. YAML is read with one fix over PyYAML's YAML 1.1 rules: ``1e-3`` is a float, as in
YAML 1.2 (PyYAML reads it as a string). Every error names the file, the key, the expected
type and the value found.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ConfigDict, TypeAdapter, ValidationError

T = TypeVar("T")

STRICT = ConfigDict(strict=True, extra="forbid")


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads exponent floats without a dot (``1e-3``, ``5E+2``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "dataclass_type": "a mapping",
    "none_required": "nothing (null)",
}


def read_yaml(path: Path) -> Any:
    """Parse a YAML file (see the module docstring for the float rule)."""
    path = Path(path)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from error


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(kind: type) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def validate(kind: type[T], data: Any, source: str, prefix: str = "") -> T:
    """``data`` (a parsed YAML mapping) as a ``kind`` instance, or a ``ValueError`` that lists
    each problem as ``SOURCE: KEY: expected TYPE, got VALUE``. ``prefix`` is put before the
    key names (e.g. ``"style."``)."""
    if not isinstance(data, dict):
        where = prefix.rstrip(".") or "the file"
        raise ValueError(f"{source}: {where}: expected a mapping, got {data!r}")
    try:
        # JSON mode: strict, yet lists are accepted for tuples.
        checked: T = _adapter(kind).validate_json(json.dumps(data, default=str))
    except ValidationError as error:
        problems = [_describe(item, prefix) for item in error.errors(include_url=False)]
        raise ValueError(f"{source}: " + f"; {source}: ".join(problems)) from None
    return checked


def _describe(item: Any, prefix: str) -> str:
    key = prefix + ".".join(str(part) for part in item["loc"]) if item["loc"] else ""
    kind, value = item["type"], item.get("input")
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"unknown key {key!r} (value {value!r})"
    if kind == "missing_argument" or kind == "missing":
        return f"{key}: missing"
    if kind == "value_error":
        message = str(item["msg"]).removeprefix("Value error, ")
        return f"{key}: {message}" if key else message
    expected = _EXPECTED.get(kind)
    if expected is None:
        expected = str(item["msg"]).removeprefix("Input should be ")
    return f"{key or prefix.rstrip('.') or 'value'}: expected {expected}, got {value!r}"
