"""The browser extension's parity fixtures still say what the Python code does today.

The JavaScript tests check the extension against ``extension/test/fixtures/parity.json.gz``;
this test checks the fixtures against ``to_array`` and the Solver, so a change to the Python
preprocessing cannot leave the extension silently behind. Regenerate with
``python scripts/extension_fixtures.py``.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from PIL import Image

from captchalab.data.preprocess import Preprocessing, load_image, to_array
from captchalab.inference import Solver

FIXTURES = Path(__file__).resolve().parents[2] / "extension/test/fixtures/parity.json.gz"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts/extension_fixtures.py"
STALE = "stale extension fixtures: run `python scripts/extension_fixtures.py`"


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    return dict(json.loads(gzip.decompress(FIXTURES.read_bytes())))


def _image(entry: dict[str, Any]) -> Image.Image:
    rgba = np.frombuffer(base64.b64decode(entry["rgba"]), dtype=np.uint8)
    return Image.fromarray(rgba.reshape(entry["height"], entry["width"], 4), "RGBA")


def test_tensors_are_what_to_array_makes(fixtures: dict[str, Any]) -> None:
    for entry in fixtures["images"]:
        flat = load_image(_image(entry))
        for stored in entry["tensors"]:
            spec = Preprocessing.from_dict(stored["spec"])
            tensor = np.frombuffer(base64.b64decode(stored["tensor"]), dtype=np.float32)
            assert np.array_equal(to_array(flat, spec).ravel(), tensor), (entry["name"], STALE)


def test_answers_are_the_default_models(fixtures: dict[str, Any]) -> None:
    solver = Solver.load("default")
    assert solver.metadata.to_dict() == fixtures["model"], STALE
    answers = solver.solve([load_image(_image(entry)) for entry in fixtures["images"]])
    for entry, answer in zip(fixtures["images"], answers, strict=True):
        assert answer.text == entry["answer"]["text"], (entry["name"], STALE)
        assert abs(answer.confidence - entry["answer"]["confidence"]) < 1e-6, STALE


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extension_fixtures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _same_answer(stored: dict[str, Any], fresh: dict[str, Any]) -> bool:
    if "error" in stored or "error" in fresh:
        return stored == fresh
    return (
        stored["hints"] == fresh["hints"]
        and stored["text"] == fresh["text"]
        and abs(stored["confidence"] - fresh["confidence"]) < 1e-6
    )


def test_reading_hints_are_the_solvers(fixtures: dict[str, Any]) -> None:
    script = _script()
    assert fixtures["named_charsets"] == script.NAMED_CHARSETS, STALE
    assert fixtures["length_specs"] == script.length_specs(), STALE
    for stored, fresh in zip(fixtures["hints"], script.hint_cases(), strict=True):
        assert stored["logits"] == fresh["logits"], STALE
        pairs = zip(stored["answers"], fresh["answers"], strict=True)
        assert all(_same_answer(a, b) for a, b in pairs), (stored["objective"], STALE)
    solver = Solver.load("default")
    for entry in fixtures["images"]:
        model_input = to_array(load_image(_image(entry)), solver.preprocessing)[None]
        pairs = zip(entry["hinted"], script.image_hints(solver, model_input), strict=True)
        assert all(_same_answer(a, b) for a, b in pairs), (entry["name"], STALE)


def test_the_second_look_is_the_solvers(fixtures: dict[str, Any]) -> None:
    """The views' bytes are what ``inference.views`` makes (with the Pillow installed), and
    the second-look answers are ``Solver.with_second_look``'s."""
    script = _script()
    stored = fixtures["second_look"]
    assert stored["threshold"] == script.SECOND_LOOK, STALE
    entries = [*fixtures["images"], *stored["images"]]
    images = {entry["name"]: _image(entry) for entry in entries}
    assert stored["view_names"] == list(script.VIEWS), STALE
    assert stored["views"] == script.view_cases(images), STALE
    fresh = script.second_look_answers(Solver.load("default"), images)
    for old, new in zip(stored["answers"], fresh, strict=True):
        assert old["image"] == new["image"] and _same_answer(old, new), (old["image"], STALE)
        assert old["first"]["text"] == new["first"]["text"], (old["image"], STALE)
