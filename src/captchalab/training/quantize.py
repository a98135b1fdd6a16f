"""Dynamic int8 quantisation of an exported model, and how far its answers move.

The recurrent and dense layers (``LSTM``, ``MatMul``, ``Gemm``) get int8 weights, one scale
per output channel, with 7-bit weight range so that CPUs without VNNI (AVX2 only) do not
saturate their u8 x s8 products; activations are quantised on the fly. Convolutions stay
float: onnxruntime's dynamic ``ConvInteger`` is slower than its float convolution on CPU.
The captchalab metadata (charset, decoder, preprocessing, temperature) is carried over, so
the file is a drop-in replacement for ``Solver.load``; it is marked ``batch_independent:
false``, because one activation scale per call makes an image's logits depend on the rest of
its batch, and the Solver then reads it one image at a time.

Needs the ``onnx`` package (``captchalab[train]``); the Solver never imports this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from captchalab.inference.metadata import write_metadata
from captchalab.inference.solver import Solver

logger = logging.getLogger(__name__)

QUANTIZED_OPS = ("LSTM", "MatMul", "Gemm")


@dataclass(frozen=True)
class AgreementReport:
    """How often the quantised model reads what the float model reads, on the same images."""

    num_images: int
    agreeing: int

    @property
    def rate(self) -> float:
        return self.agreeing / self.num_images if self.num_images else 1.0

    def ok(self, minimum: float) -> bool:
        return self.rate >= minimum


def quantize_onnx(source: Path, out: Path) -> Path:
    """Write an int8 copy of the captchalab ONNX model ``source`` to ``out``; returns ``out``.

    Raises FileNotFoundError for a missing file and ValueError for a file that is not a
    captchalab model, before anything is written.
    """
    source, out = Path(source), Path(out)
    reference = Solver.load(source)  # checks that it exists and carries captchalab metadata
    if source.resolve() == out.resolve():
        raise ValueError(f"quantising {source} onto itself would lose the float model")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice meant for image classifiers
    try:
        quantize_dynamic(
            source,
            out,
            op_types_to_quantize=list(QUANTIZED_OPS),
            per_channel=True,
            reduce_range=True,
            weight_type=QuantType.QInt8,
        )
    finally:
        root.setLevel(level)
    # Activations are quantised with one scale per call, so an image's logits depend on
    # the batch it is read in: the Solver must read this file one image at a time.
    expected = replace(reference.metadata, batch_independent=False)
    write_metadata(out, expected)
    if Solver.load(out).metadata != expected:  # pragma: no cover - onnx's guarantee
        out.unlink(missing_ok=True)
        raise ValueError(f"quantisation of {source} lost its captchalab metadata")
    logger.info("quantised %s to %s", source, out)
    return out


def check_agreement(reference: Path, candidate: Path, images: np.ndarray) -> AgreementReport:
    """Read ``(N, C, H, W)`` preprocessed images with both models; count equal answers."""
    if len(images) == 0:
        return AgreementReport(num_images=0, agreeing=0)
    expected = [p.text for p in Solver.load(reference).solve_arrays(images)]
    actual = [p.text for p in Solver.load(candidate).solve_arrays(images)]
    agreeing = sum(a == b for a, b in zip(expected, actual, strict=True))
    return AgreementReport(num_images=len(images), agreeing=agreeing)
