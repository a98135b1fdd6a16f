"""int8 quantisation: a drop-in model file that reads what the float model reads."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from typer.testing import CliRunner

from captchalab.cli import app
from captchalab.data.cache import render_arrays
from captchalab.data.preprocess import trim
from captchalab.inference import Solver
from captchalab.inference.solver import resolve_model_path
from captchalab.models import list_models
from captchalab.training.config import TEST_SEED
from captchalab.training.quantize import AgreementReport, check_agreement, quantize_onnx

runner = CliRunner()


def test_the_shipped_model_reads_the_same_in_int8(tmp_path: Path) -> None:
    """A trained model (the shipped default): int8 must keep most answers and shrink the file."""
    source = resolve_model_path("default")
    quantized = quantize_onnx(source, tmp_path / "int8.onnx")
    solver = Solver.load(source)
    images, _ = render_arrays("mix", solver.preprocessing, TEST_SEED, 64, workers=1)
    agreement = check_agreement(source, quantized, images)
    assert agreement.num_images == 64
    assert agreement.rate >= 0.85, agreement
    assert quantized.stat().st_size < 0.5 * source.stat().st_size
    assert Solver.load(quantized).metadata == replace(solver.metadata, batch_independent=False)
    ops = {node.op_type for node in onnx.load(str(quantized)).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops


@pytest.mark.parametrize("name", list_models())
def test_every_model_quantises_and_loads(
    name: str, tmp_path: Path, make_checkpoint: Callable[..., Path]
) -> None:
    from captchalab.training.export import export_onnx, random_images

    checkpoint = make_checkpoint(tmp_path / "checkpoint", name)
    source = export_onnx(checkpoint, tmp_path / "float.onnx")
    quantized = quantize_onnx(source, tmp_path / "int8.onnx")
    solver = Solver.load(quantized)
    images = random_images(solver.preprocessing, 5, seed=2)
    assert solver.logits(images).shape == Solver.load(source).logits(images).shape
    assert len(solver.solve_arrays(images)) == 5


def test_an_int8_answer_does_not_depend_on_its_batch(tmp_path: Path) -> None:
    """One activation scale per call: read in a batch, an image would get its neighbours'
    scale. The Solver reads a model marked batch-dependent one image at a time."""
    source = resolve_model_path("default")
    quantized = quantize_onnx(source, tmp_path / "int8.onnx")
    solver = Solver.load(quantized)
    assert not solver.metadata.batch_independent and Solver.load(source).metadata.batch_independent
    images, _ = render_arrays("mix", solver.preprocessing, TEST_SEED, 16, workers=1)
    batch = np.ascontiguousarray(trim(images, solver.preprocessing), dtype=np.float32) / 255.0
    session = solver._session  # the raw graph: what the flag guards against
    name = session.get_inputs()[0].name
    alone = np.concatenate([session.run(None, {name: batch[i : i + 1]})[0] for i in range(16)])
    raw = session.run(None, {name: batch})[0]
    np.testing.assert_array_equal(solver.logits(images), alone)
    assert not np.array_equal(raw, alone)


def test_refuses_a_file_that_is_not_a_captchalab_model(tmp_path: Path) -> None:
    plain = tmp_path / "plain.onnx"
    model = onnx.load(str(resolve_model_path("default")))
    del model.metadata_props[:]
    onnx.save(model, str(plain))
    with pytest.raises(ValueError, match="without captchalab metadata"):
        quantize_onnx(plain, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()
    with pytest.raises(FileNotFoundError):
        quantize_onnx(tmp_path / "missing.onnx", tmp_path / "out.onnx")


def test_refuses_to_overwrite_its_source(onnx_model_path: Path, tmp_path: Path) -> None:
    source = Path(shutil.copy(onnx_model_path, tmp_path / "model.onnx"))
    before = source.read_bytes()
    with pytest.raises(ValueError, match="onto itself"):
        quantize_onnx(source, source)
    assert source.read_bytes() == before


def test_agreement_report() -> None:
    assert AgreementReport(10, 9).rate == 0.9
    assert AgreementReport(10, 9).ok(0.9) and not AgreementReport(10, 8).ok(0.9)
    assert AgreementReport(0, 0).rate == 1.0


def test_agreement_counts_differing_answers(onnx_model_path: Path, tmp_path: Path) -> None:
    from captchalab.training.export import random_images

    images = random_images(Solver.load(onnx_model_path).preprocessing, 6, seed=3)
    same = check_agreement(onnx_model_path, onnx_model_path, images)
    assert (same.agreeing, same.num_images) == (6, 6)
    empty = np.zeros((0, *images.shape[1:]), dtype=np.float32)
    assert check_agreement(onnx_model_path, onnx_model_path, empty).num_images == 0


def test_cli_export_int8(crnn_checkpoint_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "int8.onnx"
    result = runner.invoke(app, ["export", str(crnn_checkpoint_path), "-o", str(out), "--int8"])
    assert result.exit_code == 0, result.output
    assert "int8 agrees with float on" in result.output and "ok" in result.output
    ops = {node.op_type for node in onnx.load(str(out)).graph.node}
    assert "DynamicQuantizeLSTM" in ops
    assert len(Solver.load(out).solve_arrays(np.zeros((1, 1, 32, 96), np.float32))) == 1


def test_cli_export_int8_below_the_agreement_floor_writes_nothing(
    crnn_checkpoint_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "int8.onnx"
    args = ["export", str(crnn_checkpoint_path), "-o", str(out), "--int8"]
    args += ["--min-agreement", "1.01"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert not out.exists()


def test_cli_quantize(onnx_model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.onnx"
    result = runner.invoke(app, ["quantize", str(onnx_model_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    expected = replace(Solver.load(onnx_model_path).metadata, batch_independent=False)
    assert Solver.load(out).metadata == expected
    missing = runner.invoke(app, ["quantize", str(tmp_path / "none.onnx"), "-o", str(out)])
    assert missing.exit_code == 2 and "no model file" in missing.stderr
