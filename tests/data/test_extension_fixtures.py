"""The browser extension's parity fixtures still say what the Python code does today.

The JavaScript tests check the extension against ``extension/test/fixtures/parity.json.gz``;
this test checks the fixtures against ``to_array`` and the Solver, so a change to the Python
preprocessing cannot leave the extension silently behind. Regenerate with
``python scripts/extension_fixtures.py``.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from captchalab.data.preprocess import Preprocessing, load_image, to_array
from captchalab.inference import Solver

FIXTURES = Path(__file__).resolve().parents[2] / "extension/test/fixtures/parity.json.gz"
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
