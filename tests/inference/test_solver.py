"""The torch-free Solver: every input type, batching, errors, metadata, threads."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from captchalab.data.preprocess import ImageDecodeError, preprocess_batch
from captchalab.inference import Prediction, Solver
from captchalab.inference import solver as solver_module
from captchalab.inference.metadata import ModelMetadata, write_metadata


@pytest.fixture(scope="module")
def solver(onnx_model_path: Path) -> Solver:
    return Solver.load(onnx_model_path, threads=1)


def _image(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (40, 110, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _same(a: Prediction, b: Prediction) -> bool:
    return a.text == b.text and a.confidence == pytest.approx(b.confidence, rel=1e-4, abs=1e-9)


def test_every_input_type_gives_the_same_answer(solver: Solver, tmp_path: Path) -> None:
    image = _image(0)
    path = tmp_path / "captcha.png"
    image.save(path)
    reference = solver.solve(image)
    assert isinstance(reference, Prediction)
    assert 0.0 <= reference.confidence <= 1.0
    assert len(reference.char_probs) == len(reference.text)
    assert set(reference.text) <= set("0123456789")
    for source in (str(path), path, _png(image), np.asarray(image)):
        assert _same(solver.solve(source), reference)
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    assert isinstance(solver.solve(grey), Prediction)


def test_list_gives_a_list_matching_single_calls(solver: Solver) -> None:
    images = [_image(seed) for seed in range(5)]
    batch = solver.solve(images)
    assert isinstance(batch, list) and len(batch) == 5
    for image, prediction in zip(images, batch, strict=True):
        assert _same(solver.solve(image), prediction)
    assert solver.solve(tuple(images[:2])) == batch[:2]
    assert solver.solve([]) == []


def test_batches_larger_than_the_limit(solver: Solver) -> None:
    arrays = preprocess_batch([_image(seed) for seed in range(3)], solver.preprocessing)
    many = np.concatenate([arrays] * 30)  # 90 images: two runs of at most 64
    predictions = solver.solve_arrays(many)
    assert len(predictions) == 90
    assert [p.text for p in predictions[:3]] == [p.text for p in predictions[87:]]
    as_uint8 = np.round(arrays * 255).astype(np.uint8)
    assert [p.text for p in solver.solve_arrays(as_uint8)] == [p.text for p in predictions[:3]]
    with pytest.raises(ValueError, match="shape"):
        solver.solve_arrays(np.zeros((1, 3, 32, 96), dtype=np.float32))


def test_corrupt_and_missing_inputs(solver: Solver, tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match="cannot decode image"):
        solver.solve(b"definitely not an image")
    with pytest.raises(FileNotFoundError):
        solver.solve(tmp_path / "missing.png")
    results = solver.solve_each([_image(1), b"junk", tmp_path / "missing.png", _image(2)])
    assert isinstance(results[0], Prediction) and isinstance(results[3], Prediction)
    assert isinstance(results[1], ImageDecodeError)
    assert isinstance(results[2], FileNotFoundError)
    assert _same(results[3], solver.solve(_image(2)))


def test_load_errors(
    tmp_path: Path, onnx_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FileNotFoundError, match="no model file"):
        Solver.load(tmp_path / "missing.onnx")
    for name in ("default", "default-int8"):
        monkeypatch.setitem(solver_module.SHIPPED_MODELS, name, tmp_path / "assets" / "x.onnx")
        with pytest.raises(FileNotFoundError, match=f"the {name} model is not installed"):
            Solver.load(name)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf at all")
    with pytest.raises(ValueError, match="not a loadable ONNX model"):
        Solver.load(junk)
    bare = onnx.load(str(onnx_model_path))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    with pytest.raises(ValueError, match="without captchalab metadata"):
        Solver.load(tmp_path / "bare.onnx")


def test_default_model_is_found(
    tmp_path: Path, onnx_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "default.onnx"
    shutil.copy(onnx_model_path, installed)
    monkeypatch.setattr(solver_module, "DEFAULT_MODEL", installed)
    assert Solver.load().name == "default"


def test_metadata_round_trip(solver: Solver, crnn_checkpoint_path: Path) -> None:
    from captchalab.training.checkpoint import load_checkpoint

    _, meta = load_checkpoint(crnn_checkpoint_path)
    assert solver.name == "tiny"
    assert solver.charset == meta.charset
    assert solver.preprocessing == meta.preprocessing
    assert solver.metadata.model_name == "crnn" and solver.metadata.objective == "ctc"
    assert solver.metadata.max_length == 6 and solver.metadata.temperature == 1.0
    assert ModelMetadata.from_json(solver.metadata.to_json()) == solver.metadata
    with pytest.raises(ValueError, match="invalid captchalab metadata"):
        ModelMetadata.from_json('{"format": "something-else/9"}')
    assert "batch_independent" not in solver.metadata.to_dict()  # the default is not written
    dependent = replace(solver.metadata, batch_independent=False)
    assert ModelMetadata.from_json(dependent.to_json()) == dependent
    broken = {**dependent.to_dict(), "batch_independent": "no"}
    with pytest.raises(ValueError, match="batch_independent must be true or false"):
        ModelMetadata.from_dict(broken)


def test_temperature_changes_confidence_not_text(tmp_path: Path, onnx_model_path: Path) -> None:
    plain = Solver.load(onnx_model_path)
    calibrated_path = tmp_path / "calibrated.onnx"
    shutil.copy(onnx_model_path, calibrated_path)
    write_metadata(calibrated_path, plain.metadata.with_temperature(2.0))
    calibrated = Solver.load(calibrated_path)
    assert calibrated.metadata.temperature == 2.0
    images = [_image(seed) for seed in range(4)]
    before, after = plain.solve(images), calibrated.solve(images)
    assert [p.text for p in before] == [p.text for p in after]
    assert all(a.confidence != b.confidence for a, b in zip(before, after, strict=True))


def test_concurrent_solves_match_serial(solver: Solver) -> None:
    batches = [[_image(10 * job + i) for i in range(3)] for job in range(8)]
    serial = [solver.solve(batch) for batch in batches]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(solver.solve, batches))
    assert threaded == serial


def test_prediction_to_dict() -> None:
    prediction = Prediction("12", 0.5, (0.9, 0.6))
    assert prediction.to_dict() == {"text": "12", "confidence": 0.5, "char_probs": [0.9, 0.6]}


def test_solver_import_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import captchalab.inference.solver\n"
        "from captchalab import Solver\n"
        "from captchalab.inference import Prediction, vote\n"
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith(("
        "'captchalab.training', 'captchalab.models', 'captchalab.objectives.base')))\n"
        "assert not bad, f'the Solver imported {bad}'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_restricted_solver_answers_only_with_its_symbols(solver: Solver) -> None:
    images = [_image(seed) for seed in range(12)]
    free = solver.solve(images)
    assert any(set(p.text) - set("0123") for p in free)  # else the check below proves nothing
    low = solver.restricted("3120")
    assert low.symbols == "0123"  # in the model's order
    restricted = low.solve(images)
    assert all(set(p.text) <= set("0123") for p in restricted)
    assert all(0.0 <= p.confidence <= 1.0 for p in restricted)
    assert [p.text for p in solver.solve(images)] == [p.text for p in free]  # unchanged
    # Allowing every symbol is the same model as no restriction at all.
    everything = solver.restricted(solver.charset.symbols).solve(images)
    assert all(_same(a, b) for a, b in zip(everything, free, strict=True))


def test_restricted_rejects_symbols_the_model_cannot_read(solver: Solver) -> None:
    from captchalab.charset import UnknownSymbolError

    with pytest.raises(UnknownSymbolError, match="€"):
        solver.restricted("12€")
    with pytest.raises(ValueError, match="at least one"):
        solver.restricted("")
