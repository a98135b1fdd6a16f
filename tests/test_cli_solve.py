"""`captchalab solve` and `captchalab export` end to end on a tiny untrained model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from captchalab.cli import app

runner = CliRunner()


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (48, 128), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture()
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(3):
        (folder / f"c{index}.png").write_bytes(_png(index))
    (folder / "labels.csv").write_text("file,label\n")  # not an image: skipped in folders
    return folder


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def test_json_output(images: Path, onnx_model_path: Path) -> None:
    files = [str(images / "c0.png"), str(images / "c1.png")]
    result = runner.invoke(app, ["solve", *files, "--model", str(onnx_model_path), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in _lines(result.stdout)]
    assert [row["file"] for row in rows] == files
    for row in rows:
        assert set(row) == {"file", "text", "confidence"}
        assert set(row["text"]) <= set("0123456789") and 0.0 <= row["confidence"] <= 1.0


def test_corrupt_file_among_good_ones(images: Path, onnx_model_path: Path) -> None:
    corrupt = images / "broken.png"
    corrupt.write_bytes(b"\x89PNG truncated")
    args = ["solve", str(images / "c0.png"), str(corrupt), str(images / "c2.png")]
    result = runner.invoke(app, [*args, "--model", str(onnx_model_path)])
    assert result.exit_code == 1
    rows = [line.split("\t") for line in _lines(result.stdout)]
    assert [row[0] for row in rows] == [str(images / "c0.png"), str(images / "c2.png")]
    assert all(len(row) == 3 for row in rows)
    assert str(corrupt) in result.stderr and "cannot decode image" in result.stderr

    as_json = runner.invoke(app, [*args, "--model", str(onnx_model_path), "--json"])
    assert as_json.exit_code == 1
    rows_json = [json.loads(line) for line in _lines(as_json.stdout)]
    assert "error" in rows_json[1] and rows_json[1]["file"] == str(corrupt)
    assert "text" in rows_json[0] and "text" in rows_json[2]


def test_missing_file_fails_alone(images: Path, onnx_model_path: Path) -> None:
    args = ["solve", str(images / "nope.png"), str(images / "c1.png")]
    result = runner.invoke(app, [*args, "--model", str(onnx_model_path)])
    assert result.exit_code == 1
    assert "no such file" in result.stderr
    assert len(_lines(result.stdout)) == 1


def test_directory_input_is_sorted_images(images: Path, onnx_model_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(images), "--model", str(onnx_model_path)])
    assert result.exit_code == 0, result.output
    names = [line.split("\t")[0] for line in _lines(result.stdout)]
    assert names == [str(images / f"c{index}.png") for index in range(3)]


def test_stdin(onnx_model_path: Path, images: Path) -> None:
    result = runner.invoke(app, ["solve", "-", "--model", str(onnx_model_path)], input=_png(0))
    assert result.exit_code == 0, result.output
    name, text, confidence = _lines(result.stdout)[0].split("\t")
    from_file = runner.invoke(
        app, ["solve", str(images / "c0.png"), "--model", str(onnx_model_path)]
    )
    assert name == "-"
    assert [text, confidence] == _lines(from_file.stdout)[0].split("\t")[1:]


def test_vote_prints_one_answer(images: Path, onnx_model_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(images), "--model", str(onnx_model_path), "--vote"])
    assert result.exit_code == 0, result.output
    assert len(_lines(result.stdout)) == 1
    as_json = runner.invoke(
        app, ["solve", str(images), "--model", str(onnx_model_path), "--vote", "--json"]
    )
    row = json.loads(as_json.stdout)
    assert len(row["files"]) == 3 and {"text", "confidence"} <= set(row)


def test_missing_default_model_is_explained(images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from captchalab.inference import solver

    monkeypatch.setitem(solver.SHIPPED_MODELS, "default", images / "absent.onnx")
    result = runner.invoke(app, ["solve", str(images / "c0.png")])
    assert result.exit_code == 2
    assert "default model is not installed" in result.stderr


def test_export_with_parity_check(crnn_checkpoint_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported.onnx"
    result = runner.invoke(app, ["export", str(crnn_checkpoint_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert "parity on 8 images" in result.stdout and ": ok" in result.stdout


def test_serve_model_options() -> None:
    from captchalab.cli.inference import model_options

    assert model_options(["default"]) == {"default": "default"}
    assert model_options(["models/hku.onnx", "x=a/b.onnx"]) == {
        "hku": "models/hku.onnx",
        "x": "a/b.onnx",
    }
    for bad in (["=a.onnx"], ["x="], ["a/m.onnx", "b/m.onnx"]):
        with pytest.raises(ValueError):
            model_options(bad)


def test_solve_symbols_option(tmp_path: Path, onnx_model_path: Path) -> None:
    image = tmp_path / "a.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (40, 110), dtype=np.uint8)).save(
        image
    )
    for symbols, allowed in (("@digits", set("0123456789")), ("01", set("01"))):
        result = runner.invoke(
            app, ["solve", str(image), "--model", str(onnx_model_path), "--symbols", symbols]
        )
        assert result.exit_code == 0, result.output
        assert set(result.stdout.split("\t")[1]) <= allowed
    bad = runner.invoke(
        app, ["solve", str(image), "--model", str(onnx_model_path), "--symbols", "x"]
    )
    assert bad.exit_code != 0
    assert "x" in bad.output


def test_case_insensitive_answers_match_the_library(tmp_path: Path) -> None:
    from captchalab.inference import Solver
    from captchalab.schemes import get_scheme

    scheme = get_scheme("hku")  # both cases of most letters: folding can change answers
    files = []
    for index in range(6):
        image, _ = scheme.sample_at(7, index)
        files.append(tmp_path / f"h{index}.png")
        image.save(files[-1])
    args = ["solve", *map(str, files), "--json", "--case", "insensitive"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    texts = [json.loads(line)["text"] for line in _lines(result.stdout)]
    expected = Solver.load("default").case_insensitive().solve([str(f) for f in files])
    assert texts == [p.text for p in expected]
    assert all(text == text.lower() for text in texts)
    bad = runner.invoke(app, ["solve", str(files[0]), "--case", "lower"])
    assert bad.exit_code == 2 and "lower" in bad.output


def test_solve_length_option(images: Path, onnx_model_path: Path) -> None:
    args = ["solve", str(images), "--model", str(onnx_model_path), "--json"]
    for length, allowed in (("2", {2}), ("3-4", {3, 4})):
        result = runner.invoke(app, [*args, "--length", length])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in _lines(result.stdout)]
        assert len(rows) == 3 and all(len(row["text"]) in allowed for row in rows)
    bad = runner.invoke(app, [*args, "--length", "6-4"])
    assert bad.exit_code != 0 and "runs backwards" in bad.output


def test_second_look_answers_match_the_library(tmp_path: Path) -> None:
    from captchalab.inference import Solver
    from captchalab.schemes import get_scheme

    yaml = Path(__file__).resolve().parents[1] / "configs" / "schemes" / "noisy_lines.yaml"
    scheme = get_scheme(str(yaml))  # the default model is unsure of most of these
    files = []
    for index in range(4):
        image, _ = scheme.sample_at(7, index)
        files.append(tmp_path / f"n{index}.png")
        image.save(files[-1])
    args = ["solve", *map(str, files), "--json", "--second-look", "--look-below", "0.9"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in _lines(result.stdout)]
    plain = Solver.load("default")
    expected = plain.with_second_look(0.9).solve([str(f) for f in files])
    assert [r["text"] for r in rows] == [p.text for p in expected]
    first = plain.solve([str(f) for f in files])
    assert all(p.confidence >= f.confidence for p, f in zip(expected, first, strict=True))
    bad = runner.invoke(app, ["solve", str(files[0]), "--second-look", "--look-below", "2"])
    assert bad.exit_code == 2
