"""The release guard: a candidate worse on the benchmark than the shipped model is refused."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from captchalab.evaluation.release import (
    BenchmarkSet,
    ReleaseRefused,
    check_release,
    compare_models,
    split_set,
)
from captchalab.inference import Solver
from tests.conftest import CheckpointFactory

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "release_default.py"


def _release_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_default", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _worse_checkpoint(good: Path, folder: Path) -> Path:
    """``good`` with its output layer pushed to read '7' everywhere: clearly worse."""
    import torch

    from captchalab.training.checkpoint import load_checkpoint, save_checkpoint

    model, meta = load_checkpoint(good)
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.bias[meta.charset.encode("7")[0]] += 100.0
    return save_checkpoint(folder, model, meta)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, make_checkpoint: CheckpointFactory) -> dict:
    from captchalab.training.export import export_onnx

    root = tmp_path_factory.mktemp("release")
    good = make_checkpoint(root / "good" / "best")
    worse = _worse_checkpoint(good, root / "worse" / "best")
    # The benchmark: noise images labelled with what the good model reads (it is perfect
    # there by construction; the worse one reads "7" on every image).
    solver = Solver.load(export_onnx(good, root / "good.onnx"))
    bench = root / "bench"
    bench.mkdir()
    rng = np.random.default_rng(3)
    rows = []
    for index in range(24):
        name = f"n{index}.png"
        Image.fromarray(rng.integers(0, 256, (32, 96), dtype=np.uint8)).save(bench / name)
        rows.append((name, solver.solve(bench / name).text, "test"))
    with (bench / "split.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("filename", "label", "split"), *rows])
    assert sum(label != "7" for _, label, _ in rows) >= 12, "the good model must not read 7s"
    return {"root": root, "good": good, "worse": worse, "bench": bench}


def test_compare_models_refuses_the_worse_one(models: dict) -> None:
    from captchalab.training.export import export_onnx

    good = Solver.load(models["root"] / "good.onnx")
    worse = Solver.load(export_onnx(models["worse"], models["root"] / "worse.onnx"))
    sets = [split_set(models["bench"])]
    comparison = compare_models(worse, good, sets)
    assert comparison.shipped_mean == 1.0
    assert comparison.candidate_mean < 0.5
    assert not comparison.passed and comparison.dropped() == ["bench_test"]
    with pytest.raises(ReleaseRefused, match=r"below the shipped model's 100\.0%.*--force"):
        check_release(comparison)
    check_release(comparison, force=True)  # forced: no error
    check_release(compare_models(good, worse, sets))  # better: passes
    check_release(compare_models(good, good, sets))  # equal: passes
    lenient = compare_models(worse, good, sets, tolerance=1.0)
    assert lenient.passed


def test_benchmark_sets_check_their_shape(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="as many labels"):
        BenchmarkSet("x", [tmp_path / "a.png"], [])
    with pytest.raises(FileNotFoundError, match=r"split\.csv"):
        split_set(tmp_path)


def test_release_script_refuses_then_forces(models: dict, tmp_path: Path) -> None:
    from captchalab.training.export import export_onnx

    script = _release_script()
    assets = tmp_path / "assets"
    assets.mkdir()
    export_onnx(models["good"], assets / "default.onnx")
    shipped = (assets / "default.onnx").read_bytes()
    common = ["--calibration-images", "0", "--benchmark", str(models["bench"])]
    common += ["--assets", str(assets)]
    worse_run = str(models["worse"].parent)
    assert script.main([worse_run, *common]) == 2
    assert (assets / "default.onnx").read_bytes() == shipped  # nothing was installed
    assert not (assets / "default").exists()
    assert script.main([worse_run, *common, "--force"]) == 0
    assert (assets / "default.onnx").read_bytes() != shipped
    assert (assets / "default" / "model.safetensors").exists()
    # The good model again: better than the (now shipped) worse one, so it is released.
    assert script.main([str(models["good"].parent), *common]) == 0
    assert Solver.load(assets / "default.onnx").solve(models["bench"] / "n0.png").text != "7"


def test_release_script_ships_an_int8_copy(models: dict, tmp_path: Path) -> None:
    import onnx

    from captchalab.training.export import export_onnx

    script = _release_script()
    assets = tmp_path / "assets"
    assets.mkdir()
    export_onnx(models["worse"], assets / "default.onnx")
    common = ["--calibration-images", "0", "--benchmark", str(models["bench"])]
    common += ["--assets", str(assets)]
    assert script.main([str(models["good"].parent), *common, "--min-int8-agreement", "1.01"]) == 2
    assert not (assets / "default-int8.onnx").exists()  # refused: nothing installed
    assert script.main([str(models["good"].parent), *common]) == 0
    ops = {node.op_type for node in onnx.load(str(assets / "default-int8.onnx")).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops
    float_ops = {node.op_type for node in onnx.load(str(assets / "default.onnx")).graph.node}
    assert "LSTM" in float_ops


def test_sets_of_an_excluded_generator_are_shown_but_do_not_decide(models: dict) -> None:
    from captchalab.training.export import export_onnx

    good = Solver.load(models["root"] / "good.onnx")
    worse = Solver.load(export_onnx(models["worse"], models["root"] / "worse.onnx"))
    real = split_set(models["bench"])
    # Two sets the "shipped" model (worse: it reads "7" everywhere) has learnt by heart.
    learnt = [
        BenchmarkSet(f"learnt{i}", real.images, ["7"] * len(real.labels), True, frozenset({"gen"}))
        for i in range(2)
    ]
    sets = [real, *learnt]
    every = compare_models(good, worse, sets)
    assert not every.passed and every.excluded == frozenset()
    fair = compare_models(good, worse, sets, exclude_generators=["gen"])
    assert fair.excluded == {"learnt0", "learnt1"} and fair.decisive == ["bench_test"]
    assert fair.passed and fair.candidate_mean == 1.0 and fair.dropped() == []
    table = fair.table()
    assert "learnt0" in table and "(not decisive)" in table and "mean, every set" in table
    with pytest.raises(ValueError, match="every benchmark set"):
        compare_models(good, worse, learnt, exclude_generators=["gen"])


def test_release_script_refuses_a_run_trained_on_a_third_party_generator(
    models: dict, tmp_path: Path
) -> None:
    from dataclasses import replace

    from captchalab.training.checkpoint import load_checkpoint, save_checkpoint
    from captchalab.training.export import export_onnx

    model, meta = load_checkpoint(models["good"])
    run = tmp_path / "run"
    save_checkpoint(run / "best", model, replace(meta, config={"scheme": "digits5"}))
    assets = tmp_path / "assets"
    assets.mkdir()
    export_onnx(models["worse"], assets / "default.onnx")
    shipped = (assets / "default.onnx").read_bytes()
    common = ["--calibration-images", "0", "--benchmark", str(models["bench"])]
    script = _release_script()
    assert script.main([str(run), *common, "--assets", str(assets), "--force"]) == 2
    assert (assets / "default.onnx").read_bytes() == shipped
    save_checkpoint(run / "best", model, replace(meta, config={"scheme": "broad"}))
    assert script.main([str(run), *common, "--assets", str(assets)]) == 0
