"""Every registered model exports to ONNX and matches torch on logits and decoded text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest

from captchalab.inference.metadata import FORMAT, METADATA_KEY
from captchalab.models import list_models
from captchalab.training.checkpoint import load_checkpoint
from captchalab.training.export import check_parity, export_onnx, random_images


@pytest.mark.parametrize("name", list_models())
def test_export_matches_torch(
    name: str, tmp_path: Path, make_checkpoint: Callable[..., Path]
) -> None:
    checkpoint = make_checkpoint(tmp_path / "checkpoint", name)
    onnx_path = export_onnx(checkpoint, tmp_path / f"{name}.onnx")
    _, meta = load_checkpoint(checkpoint)
    # 100 images: a different batch size from the export's example, so the batch axis is dynamic.
    images = random_images(meta.preprocessing, 100, seed=1)
    report = check_parity(checkpoint, onnx_path, images)
    assert report.num_images == 100
    assert report.max_abs_diff < 1e-4
    assert report.texts_equal
    assert report.ok()


def test_metadata_is_stored_in_the_file(onnx_model_path: Path) -> None:
    model = onnx.load(str(onnx_model_path))
    props = {p.key: p.value for p in model.metadata_props}
    stored = json.loads(props[METADATA_KEY])
    assert stored["format"] == FORMAT
    assert stored["model_name"] == "crnn" and stored["objective"] == "ctc"
    assert stored["charset"] == {"symbols": "0123456789", "case_sensitive": True}
    assert stored["max_length"] == 6
    assert stored["preprocessing"]["height"] == 32 and stored["preprocessing"]["width"] == 96
    assert "calibration" not in stored
    graph_input = model.graph.input[0]
    assert graph_input.name == "image" and model.graph.output[0].name == "logits"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [1, 32, 96]


def test_parity_accepts_uint8(crnn_checkpoint_path: Path, onnx_model_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, (4, 1, 32, 96), dtype=np.uint8)
    assert check_parity(crnn_checkpoint_path, onnx_model_path, images).ok()


def test_parity_tolerance_scales_with_the_logits() -> None:
    from captchalab.training.export import ParityReport

    assert ParityReport(5e-5, True, 1).ok()
    assert ParityReport(7e-4, True, 1, max_abs_logit=26.0).ok()  # float32 kernels differ
    assert not ParityReport(2e-3, True, 1, max_abs_logit=1.0).ok()
    assert ParityReport(2e-3, True, 1, max_abs_logit=300.0).ok()  # float32 error at |logit| 300
    assert not ParityReport(0.0, False, 1).ok()  # different texts always fail


def test_parity_past_the_tolerance_is_judged_against_float64() -> None:
    from captchalab.training.export import ParityReport

    # Beyond the tolerance, unmeasured rounding fails ...
    assert not ParityReport(1.5e-3, True, 1, max_abs_logit=25.0).ok()
    # ... onnxruntime as close to the exact logits as torch's own float32 passes ...
    assert ParityReport(1.5e-3, True, 1, 25.0, torch_error=1.2e-3, onnx_error=1.0e-3).ok()
    # ... and one much further from them than torch fails, as do different texts.
    assert not ParityReport(1.5e-3, True, 1, 25.0, torch_error=1e-4, onnx_error=1.5e-3).ok()
    assert not ParityReport(1.5e-3, False, 1, 25.0, torch_error=1e-3, onnx_error=1e-3).ok()


def test_parity_catches_an_export_of_other_weights(
    tmp_path: Path, make_checkpoint: Callable[..., Path]
) -> None:
    """An ONNX file that computes something else is far from the float64 logits, while the
    checkpoint's own float32 run is not: the check fails whatever the texts."""
    import torch
    from safetensors.torch import load_file, save_file

    checkpoint = make_checkpoint(tmp_path / "checkpoint", "crnn")
    onnx_path = export_onnx(checkpoint, tmp_path / "crnn.onnx")
    weights = load_file(str(checkpoint / "model.safetensors"))
    weights = {k: v * 1.05 if v.dtype == torch.float32 else v for k, v in weights.items()}
    save_file(weights, str(checkpoint / "model.safetensors"))
    _, meta = load_checkpoint(checkpoint)
    report = check_parity(checkpoint, onnx_path, random_images(meta.preprocessing, 8, seed=2))
    assert 0 <= report.torch_error < 1e-4
    assert report.onnx_error > 1e-3
    assert not report.ok()
    assert "FAILED" in report.describe()
