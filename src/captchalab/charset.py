"""Ordered symbol set: text <-> integer ids, with an optional case-insensitive mode.

Id 0 is reserved as the CTC blank / padding id, so symbol ids run from 1 to ``len(charset)``.
A charset is data: it is stored in checkpoints and ONNX metadata as its ``symbols`` string.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BLANK_ID = 0

DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"

# Named symbol sets usable in configs as ``charset: "@name"``.
NAMED_CHARSETS: dict[str, str] = {
    "digits": DIGITS,
    "upper": UPPER,
    "lower": LOWER,
    "alnum_upper": DIGITS + UPPER,
    "alnum": DIGITS + UPPER + LOWER,
    # HKU report Table 1: digits 1-9 and both cases without O/o (59 symbols).
    "hku": DIGITS[1:] + UPPER.replace("O", "") + LOWER.replace("o", ""),
}


class UnknownSymbolError(ValueError):
    """A label holds a character the charset cannot encode."""

    def __init__(self, text: str, symbol: str, where: str | None = None) -> None:
        self.text, self.symbol, self.where = text, symbol, where
        origin = f" in {where}" if where else ""
        super().__init__(f"label {text!r}{origin} contains {symbol!r}, which is not in the charset")


def resolve_symbols(spec: str) -> str:
    """Expand ``@name`` to a named set; any other string is taken as the symbols themselves."""
    if spec.startswith("@"):
        name = spec[1:]
        if name not in NAMED_CHARSETS:
            known = ", ".join(sorted(NAMED_CHARSETS))
            raise ValueError(f"unknown charset {spec!r}; known: {known}")
        return NAMED_CHARSETS[name]
    return spec


@dataclass(frozen=True)
class Charset:
    """Ordered, duplicate-free symbols. ``case_sensitive=False`` folds the symbols and every
    label to lower case: ``A`` and ``a`` become one symbol, ``a``, at the place of the first
    of the two (so ``Charset(NAMED_CHARSETS["alnum"], False).symbols`` is digits + a-z)."""

    symbols: str
    case_sensitive: bool = True
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ValueError("a charset needs at least one symbol")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError(f"charset has repeated symbols: {self.symbols!r}")
        symbols = self.symbols
        if not self.case_sensitive:  # one symbol per letter, in first-seen order
            symbols = "".join(dict.fromkeys(symbols.lower()))
        object.__setattr__(self, "symbols", symbols)
        object.__setattr__(self, "_index", {s: i + 1 for i, s in enumerate(symbols)})

    @classmethod
    def from_spec(cls, spec: str, case_sensitive: bool = True) -> Charset:
        return cls(resolve_symbols(spec), case_sensitive)

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def num_classes(self) -> int:
        """Symbols plus the reserved blank id."""
        return len(self.symbols) + 1

    def normalize(self, text: str) -> str:
        return text if self.case_sensitive else text.lower()

    def encode(self, text: str, where: str | None = None) -> list[int]:
        text = self.normalize(text)
        ids = []
        for symbol in text:
            if symbol not in self._index:
                raise UnknownSymbolError(text, symbol, where)
            ids.append(self._index[symbol])
        return ids

    def decode(self, ids: list[int] | tuple[int, ...]) -> str:
        """Ids back to text; blank (0) and out-of-range ids are skipped."""
        n = len(self.symbols)
        return "".join(self.symbols[i - 1] for i in ids if 0 < i <= n)

    def validate(self, text: str, where: str | None = None) -> str:
        """Return the normalised text, or raise :class:`UnknownSymbolError`."""
        self.encode(text, where)
        return self.normalize(text)

    def to_dict(self) -> dict[str, object]:
        return {"symbols": self.symbols, "case_sensitive": self.case_sensitive}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Charset:
        return cls(str(data["symbols"]), bool(data.get("case_sensitive", True)))
