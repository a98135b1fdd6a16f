"""The attacker zoo: solvers a defender measures hardened captchas against.

An ``Attacker`` reads a list of images and returns its answers. Checkpoints are read with
torch, the shipped default model (or any exported ``.onnx``) with the ONNX Runtime Solver, and
ddddocr when it is installed. ``Cleaned`` puts an input-cleaning step in front of any of them.
Success rate (SR) is the share of captchas an attacker reads exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from captchalab.adversarial.cleaning import get_cleaning


class Attacker(Protocol):
    name: str

    def read(self, images: Sequence[Image.Image]) -> list[str]: ...


@dataclass
class CheckpointAttacker:
    """A trained checkpoint, read in torch with its own preprocessing."""

    name: str
    checkpoint: Path
    _loaded: tuple | None = field(default=None, repr=False)

    def _model(self) -> tuple:
        if self._loaded is None:
            from captchalab.objectives import create_objective
            from captchalab.training.checkpoint import load_checkpoint

            model, meta = load_checkpoint(self.checkpoint)
            objective = create_objective(meta.objective, meta.charset, meta.max_length)
            self._loaded = (model.eval(), meta, objective)
        return self._loaded

    def read(self, images: Sequence[Image.Image]) -> list[str]:
        from captchalab.data.preprocess import to_array
        from captchalab.training.predict import predict_arrays

        model, meta, objective = self._model()
        arrays = np.stack([to_array(im.convert("RGB"), meta.preprocessing) for im in images])
        return [
            p.text
            for p in predict_arrays(
                model, objective, arrays, batch_size=128, preprocessing=meta.preprocessing
            )
        ]


@dataclass
class OnnxAttacker:
    """An exported model (``"default"``: the shipped one) through the ONNX Runtime Solver."""

    name: str
    model: str = "default"
    symbols: str | None = None  # restrict the answers to the scheme's symbols

    def read(self, images: Sequence[Image.Image]) -> list[str]:
        from captchalab.inference import Solver

        solver = Solver.load(self.model, threads=1)
        if self.symbols:
            solver = solver.restricted(self.symbols)
        return [p.text for p in solver.solve(list(images))]


@dataclass
class DdddocrAttacker:
    """The ddddocr package's pretrained OCR (only when it is installed)."""

    name: str = "ddddocr"

    @staticmethod
    def available() -> bool:
        import importlib.util

        return importlib.util.find_spec("ddddocr") is not None

    _ocr: Any = None  # built once: loading its model takes about a second

    def read(self, images: Sequence[Image.Image]) -> list[str]:
        import io

        if self._ocr is None:
            import ddddocr

            self._ocr = ddddocr.DdddOcr(show_ad=False)
        ocr = self._ocr
        answers = []
        for image in images:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
            answers.append(str(ocr.classification(buffer.getvalue())))
        return answers


@dataclass
class Cleaned:
    """``attacker`` reading images after the named input cleaning."""

    attacker: Attacker
    cleaning: str

    @property
    def name(self) -> str:
        return f"{self.attacker.name}+{self.cleaning}"

    def read(self, images: Sequence[Image.Image]) -> list[str]:
        clean = get_cleaning(self.cleaning)
        return self.attacker.read([clean(im) for im in images])


def success_rate(answers: Sequence[str], texts: Sequence[str], case_sensitive: bool) -> float:
    """Share of answers equal to the true text (after the scheme's case policy)."""
    if not texts:
        return 0.0

    def norm(text: str) -> str:
        return text if case_sensitive else text.lower()

    hits = sum(norm(a) == norm(t) for a, t in zip(answers, texts, strict=True))
    return hits / len(texts)
