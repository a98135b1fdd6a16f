"""benchmarks/compare_models.py and the release benchmark it shares with release_default.py."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from captchalab.evaluation.release import release_benchmark
from captchalab.schemes import list_schemes

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import compare_models  # noqa: E402


def test_release_benchmark_sets(tmp_path: Path) -> None:
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    yaml_file = sorted((REPO / "configs" / "schemes").glob("*.yaml"))[0]
    shutil.copy(yaml_file, schemes / yaml_file.name)
    notes: list[str] = []
    sets = release_benchmark(schemes, tmp_path / "no_kaggle", count=2, note=notes.append)
    assert len(sets) == len(list_schemes()) + 1
    assert all(len(bench.labels) == 2 for bench in sets)
    assert notes and "leaves the Kaggle set out" in notes[0]
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"")
    (folder / "split.csv").write_text("filename,label,split\na.png,12,test\n")
    only = release_benchmark(schemes, None, count=2, folders=[folder])
    assert [bench.name for bench in only] == ["site"] and list(only[0].labels) == ["12"]


def test_compare_models_script(onnx_model_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "table.md"
    args = [str(onnx_model_path), str(onnx_model_path), "--count", "1"]
    args += ["--kaggle", str(tmp_path / "none"), "--out", str(out)]
    assert compare_models.main(args) == 0  # a model is never worse than itself
    printed = capsys.readouterr().out
    assert "baseline" in printed and "mean" in printed
    text = out.read_text()
    assert text.startswith("# ") and "Command: `python benchmarks/compare_models.py" in text
