"""The solvers compared by ``peers.py``, behind one small interface.

Every solver receives encoded PNG bytes (decoding is part of its cost). Unless ``restrict``
is off, every solver is told the symbols a set can contain, both cases of each letter so that
a case slip still counts in the case-insensitive column: captchalab through
``Solver.restricted`` (those of its charset), ddddocr through ``set_ranges``, Tesseract
through its character whitelist.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Sequence
from typing import Protocol

from bench_sets import BenchSet
from PIL import Image

from captchalab.inference import Solver


class BenchSolver(Protocol):
    name: str
    batch_size: int  # 1: no batch API, throughput is measured one image per call

    def prepare(self, bench_set: BenchSet) -> None: ...

    def solve_one(self, image: bytes) -> str: ...

    def solve_batch(self, images: list[bytes]) -> list[str]: ...


def allowed_symbols(bench_set: BenchSet) -> str:
    """The set's symbols plus the other case of each letter, in first-seen order."""
    both = "".join(s + s.swapcase() for s in bench_set.symbols)
    return "".join(dict.fromkeys(both))


class CaptchalabSolver:
    name = "captchalab"
    batch_size = 64

    def __init__(
        self,
        model: str,
        threads: int | None = None,
        restrict: bool = True,
        lengths: bool = False,
    ) -> None:
        self.model = Solver.load(model, threads=threads)
        self.solver = self.model
        self.restrict = restrict
        self.lengths = lengths  # tell the Solver the set's answer lengths (with_lengths)

    def prepare(self, bench_set: BenchSet) -> None:
        self.solver = self.model
        if self.restrict:
            readable = set(self.model.charset.symbols)
            symbols = "".join(s for s in allowed_symbols(bench_set) if s in readable)
            self.solver = self.model.restricted(symbols)
        if self.lengths:
            self.solver = self.solver.with_lengths({len(label) for label in bench_set.labels})

    def solve_one(self, image: bytes) -> str:
        return self.solver.solve(image).text

    def solve_batch(self, images: list[bytes]) -> list[str]:
        return [prediction.text for prediction in self.solver.solve(images)]


class DdddocrSolver:
    name = "ddddocr"
    batch_size = 1

    def __init__(self, restrict: bool = True) -> None:
        import ddddocr

        self.ocr = ddddocr.DdddOcr(show_ad=False)
        self.restrict = restrict

    def prepare(self, bench_set: BenchSet) -> None:
        if self.restrict:
            self.ocr.set_ranges(allowed_symbols(bench_set))

    def solve_one(self, image: bytes) -> str:
        return str(self.ocr.classification(image))

    def solve_batch(self, images: list[bytes]) -> list[str]:
        return [self.solve_one(image) for image in images]


class TesseractSolver:
    """Tesseract through ``pytesseract`` (one process per image), one text line (``--psm 7``)."""

    name = "tesseract"
    batch_size = 1

    def __init__(self, restrict: bool = True) -> None:
        import pytesseract

        if shutil.which("tesseract") is None:
            raise RuntimeError(
                "the tesseract binary is not on PATH (apt-get install tesseract-ocr)"
            )
        self.pytesseract = pytesseract
        self.restrict = restrict
        self.config = "--psm 7"

    def prepare(self, bench_set: BenchSet) -> None:
        self.config = "--psm 7"
        if self.restrict:
            self.config += f" -c tessedit_char_whitelist={allowed_symbols(bench_set)}"

    def solve_one(self, image: bytes) -> str:
        with Image.open(io.BytesIO(image)) as decoded:
            text = self.pytesseract.image_to_string(decoded, config=self.config)
        return "".join(text.split())

    def solve_batch(self, images: list[bytes]) -> list[str]:
        return [self.solve_one(image) for image in images]


PEERS = ("ddddocr", "tesseract")


def load_peers(
    restrict: bool, note: Callable[[str], None], names: Sequence[str] = PEERS
) -> list[BenchSolver]:
    """The peers (of ``names``) whose packages and binaries are installed; each missing one
    gets a note."""
    peers: list[BenchSolver] = []
    for factory, package in ((DdddocrSolver, "ddddocr"), (TesseractSolver, "pytesseract")):
        if factory.name not in names:
            continue
        try:
            peers.append(factory(restrict))
        except (ImportError, RuntimeError) as exc:
            note(f"skipping {factory.name}: {exc} (see benchmarks/requirements.txt: {package})")
    return peers
