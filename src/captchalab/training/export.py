"""torch checkpoint -> self-describing ONNX file, and a parity check against onnxruntime.

This module needs torch (``captchalab[train]``); the Solver never imports it.
"""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from captchalab.data.preprocess import Preprocessing
from captchalab.inference.metadata import INPUT_NAME, OUTPUT_NAME, ModelMetadata, write_metadata
from captchalab.objectives.decoding import decode
from captchalab.training.checkpoint import CheckpointMeta, load_checkpoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParityReport:
    """How far onnxruntime's logits are from torch's on the same images.

    ``torch_error`` and ``onnx_error`` are the largest distances of torch's float32 logits and
    of onnxruntime's from the same model run in float64 (``-1`` when not measured): an
    export that is exactly as accurate as torch's own float32 arithmetic differs from torch
    by up to their sum, whatever the logits' scale.
    """

    max_abs_diff: float
    texts_equal: bool
    num_images: int
    max_abs_logit: float = 0.0  # torch's largest |logit|: float32 error grows with it
    torch_error: float = -1.0
    onnx_error: float = -1.0

    def ok(self, tolerance: float = 1e-3, relative: float = 1e-5, slack: float = 2.0) -> bool:
        """Same texts, and either logits within ``tolerance`` or ``relative`` x the largest
        logit of torch's, or onnxruntime at most ``slack`` x as far from the float64 logits
        as torch's float32 is.

        A logit error of at most d moves any ratio of two softmax probabilities by a factor
        of at most e^(2d): 0.2% at the default 1e-3. float32 kernels of onnxruntime and torch
        differ by a few 1e-4 on a CRNN with self-attention (6.6e-4 at |logit| 26 measured on
        the default model's third cycle), and on rare images where attention or the LSTM
        amplifies rounding, both drift from the exact result by more; the float64 reference
        tells such rounding from an export that computes something else (an export bug moves
        onnxruntime away from float64 while torch stays close to it).
        """
        if not self.texts_equal:
            return False
        allowed = max(tolerance, relative * self.max_abs_logit)
        if self.max_abs_diff <= allowed:
            return True
        if self.torch_error < 0 or self.onnx_error < 0:
            return False
        return self.onnx_error <= slack * max(self.torch_error, allowed / slack)

    def describe(self) -> str:
        """One line: the differences measured and the verdict."""
        exact = (
            f"; from float64: torch {self.torch_error:.2e}, onnx {self.onnx_error:.2e}"
            if self.torch_error >= 0 and self.onnx_error >= 0
            else ""
        )
        return (
            f"parity on {self.num_images} images: max |torch - onnx| {self.max_abs_diff:.2e} "
            f"(largest |logit| {self.max_abs_logit:.1f}){exact}, texts "
            f"{'equal' if self.texts_equal else 'DIFFER'}: {'ok' if self.ok() else 'FAILED'}"
        )


def metadata_from_checkpoint(meta: CheckpointMeta) -> ModelMetadata:
    return ModelMetadata(
        model_name=meta.model_name,
        objective=meta.objective,
        charset=meta.charset,
        max_length=meta.max_length,
        preprocessing=meta.preprocessing,
    )


def export_onnx(checkpoint: Path, out: Path, opset: int = 17) -> Path:
    """Export a checkpoint (folder or run folder) to ``out``; returns ``out``.

    The graph maps ``image`` ``(B, C, H, W)`` float32 in [0, 1] to ``logits`` ``(B, S, C)``,
    with a dynamic batch axis (and dynamic ``W`` and ``S`` for a dynamic-width model); the
    charset, decoder and preprocessing go in its metadata.
    """
    model, meta = load_checkpoint(checkpoint)
    model.eval()
    spec = meta.preprocessing
    example = torch.rand(2, spec.channels, spec.height, spec.width)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The TorchScript exporter is fast and exact for these models; the dynamo one takes ~10x
    # longer on the LSTM. Its deprecation and tracer warnings are expected, so keep them quiet.
    with warnings.catch_warnings(record=True) as caught, torch.no_grad():
        warnings.simplefilter("always")
        torch.onnx.export(
            model,
            (example,),
            str(out),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes=_dynamic_axes(spec),
            opset_version=opset,
            dynamo=False,
        )
    for warning in caught:
        logger.debug("torch.onnx.export: %s", warning.message)
    write_metadata(out, metadata_from_checkpoint(meta))
    logger.info("exported %s (%s) to %s", checkpoint, meta.model_name, out)
    return out


def _dynamic_axes(spec: Preprocessing) -> dict[str, dict[int, str]]:
    if spec.dynamic_width:
        return {INPUT_NAME: {0: "batch", 3: "width"}, OUTPUT_NAME: {0: "batch", 1: "steps"}}
    return {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}


def check_parity(checkpoint: Path, onnx_path: Path, images: np.ndarray) -> ParityReport:
    """Run ``(N, C, H, W)`` images (float in [0, 1] or uint8) through both; compare.

    A dynamic-width model is compared at each input width among the images
    (``data.preprocess.width_groups``), as the Solver reads them.
    """
    from captchalab.data.preprocess import width_groups
    from captchalab.inference.solver import Solver

    model, meta = load_checkpoint(checkpoint)
    model.eval()
    solver = Solver.load(onnx_path)
    batch = _as_float(images)
    exact_model = copy.deepcopy(model).double()
    worst, texts_equal, largest = 0.0, True, 0.0
    torch_error, onnx_error = 0.0, 0.0
    for indices, width in width_groups(batch, meta.preprocessing) if len(batch) else []:
        group = np.ascontiguousarray(batch[indices, :, :, :width])
        with torch.no_grad():
            expected = model(torch.from_numpy(group)).numpy()
            exact = exact_model(torch.from_numpy(group).double()).numpy()
        actual = solver.logits(group)
        if actual.shape != expected.shape:
            raise ValueError(
                f"ONNX logits {actual.shape} differ in shape from torch {expected.shape} "
                f"(input width {width})"
            )
        torch_texts = [d.text for d in decode(expected, meta.charset, meta.objective)]
        onnx_texts = [d.text for d in decode(actual, meta.charset, meta.objective)]
        worst = max(worst, float(np.abs(actual - expected).max()))
        largest = max(largest, float(np.abs(expected).max()))
        torch_error = max(torch_error, float(np.abs(expected - exact).max()))
        onnx_error = max(onnx_error, float(np.abs(actual - exact).max()))
        texts_equal = texts_equal and torch_texts == onnx_texts
    return ParityReport(
        max_abs_diff=worst,
        texts_equal=texts_equal,
        num_images=len(batch),
        max_abs_logit=largest,
        torch_error=torch_error,
        onnx_error=onnx_error,
    )


def parity_images(checkpoint: Path, count: int = 8, seed: int = 0) -> np.ndarray:
    """Images to check parity on: rendered from the checkpoint's training scheme when it
    names one, else uniform noise of the model's input size. ``(count, C, H, W)`` float32."""
    _, meta = load_checkpoint(checkpoint)
    scheme = meta.config.get("scheme")
    if isinstance(scheme, str) and scheme:
        from captchalab.data.cache import render_arrays

        try:
            images, _ = render_arrays(scheme, meta.preprocessing, seed, count, workers=1)
            return _as_float(images)
        except (KeyError, ValueError, FileNotFoundError) as exc:
            logger.warning("cannot render scheme %r (%s); checking on noise", scheme, exc)
    return random_images(meta.preprocessing, count, seed)


def random_images(spec: Preprocessing, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (count, spec.channels, spec.height, spec.width)
    return rng.random(shape, dtype=np.float32)


def _as_float(images: np.ndarray) -> np.ndarray:
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return np.ascontiguousarray(images, dtype=np.float32)
