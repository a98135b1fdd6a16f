"""Write the browser extension's parity fixtures from the Python code (run from the repo root).

    python scripts/extension_fixtures.py   # -> extension/test/fixtures/parity.json.gz

Each image is stored as RGBA bytes (what the extension crops from a capture) with the tensors
that ``data.preprocess.to_array`` makes from it under several preprocessing specs, and the
shipped default model's raw logits and answer. Decoding cases hold random logits with the
text, confidence and character probabilities the Python decoders give them. Reading hints
(the extension's ``caseInsensitive``, ``symbols`` and ``length`` settings) are checked the
same way: the Solver's answers under each hint, for random logits and for the images, the
errors it gives where it refuses one, and what ``parse_lengths`` makes of length specs. The
JavaScript tests (``extension/test/``) must reproduce all of it: tensors within 1e-4, texts
exactly.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from captchalab.charset import NAMED_CHARSETS, Charset, resolve_symbols
from captchalab.data.preprocess import Preprocessing, input_widths, load_image, to_array
from captchalab.inference import Solver
from captchalab.inference.metadata import ModelMetadata
from captchalab.objectives.decoding import DECODERS, decode
from captchalab.objectives.lengths import parse_lengths
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED

OUT = Path(__file__).resolve().parent.parent / "extension" / "test" / "fixtures" / "parity.json.gz"
MIX_IMAGES = 5
SPECS = [
    Preprocessing(height=20, width=60, channels=3, resize="pad"),
    Preprocessing(height=24, width=64, channels=1, resize="stretch", median_filter=3),
    Preprocessing(height=16, width=40, channels=3, resize="stretch", median_filter=5),
    Preprocessing(height=24, width=128, channels=1, resize="pad", dynamic_width=True, min_width=32),
    Preprocessing(height=20, width=64, channels=3, resize="pad", crop_text=True),
    Preprocessing(
        height=32, width=160, resize="pad", dynamic_width=True, min_width=48, crop_text=True
    ),
]
SCHEMES = Path(__file__).resolve().parent.parent / "configs" / "schemes"
TALL_SCHEME = SCHEMES / "heldout_tall.yaml"
LETTERBOX_SCHEME = SCHEMES / "heldout_letterbox.yaml"
# Reading hints, in the extension's settings' terms (extension/src/lib/settings.js).
IMAGE_HINTS: list[dict[str, Any]] = [
    {"caseInsensitive": True},
    {"symbols": "@alnum_upper"},
    {"length": "5"},
    {"length": "4,6"},
    {"caseInsensitive": True, "symbols": "@lower", "length": "4-5"},
]
# a and b in both cases, c in lower case only, D in upper case only, two digits
HINT_SYMBOLS = "aAbBcD12"
HINT_SPEC = Preprocessing(height=8, width=16)
LENGTH_SPECS = [
    *("5", " 4 - 6 ", "4,6", "4-6,9", "+5", "1_0", "64", "1-64", "3,3", "2-2"),
    *("", " ", "0", "6-4", "a", "4,,5", "65", "4-", "-4", "4--6", "5.0", "1-65", "1__0", "1 0"),
]


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _images() -> list[tuple[str, Image.Image]]:
    scheme = get_scheme("mix")
    images = [(f"mix_{i}", scheme.sample_at(TEST_SEED, i)[0]) for i in range(MIX_IMAGES)]
    rng = np.random.default_rng(13)
    base = np.asarray(scheme.sample_at(TEST_SEED, MIX_IMAGES)[0].convert("RGB"))
    alpha = rng.integers(0, 256, base.shape[:2], dtype=np.uint8)
    alpha[:, : base.shape[1] // 4] = 255  # opaque, transparent and partial alpha all occur
    alpha[:, -base.shape[1] // 4 :] = 0
    images.append(("alpha", Image.fromarray(np.dstack([base, alpha]), "RGBA")))
    images.append(("tiny", Image.fromarray(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8))))
    wide = scheme.sample_at(TEST_SEED, MIX_IMAGES + 1)[0].convert("RGB").resize((300, 26))
    images.append(("wide", wide))
    tall = get_scheme(str(TALL_SCHEME))  # small text on a big canvas: the text crop cuts it
    images += [(f"tall_{i}", tall.sample_at(TEST_SEED, i)[0]) for i in range(2)]
    letterbox = get_scheme(str(LETTERBOX_SCHEME))  # dark bars above and below: cut first
    images += [(f"letterbox_{i}", letterbox.sample_at(TEST_SEED, i)[0]) for i in range(2)]
    marks = np.full((60, 300, 3), 230, dtype=np.uint8)
    for x in (40, 70, 100):  # letters closer than the text's height, then a distant mark
        marks[20:44, x : x + 10] = 20
    marks[20:44, 250:253] = 20
    marks[rng.integers(0, 60, 40), rng.integers(0, 300, 40)] = 0  # specks
    marks[0, :], marks[:, -1] = 90, 90  # a frame on two sides
    images.append(("marks", Image.fromarray(marks)))
    blank = Image.new("RGB", (40, 30), (200, 210, 220))  # no ink: the crop keeps it whole
    images.append(("blank", blank))
    return images


def _tensor(image: Image.Image, spec: Preprocessing) -> dict[str, object]:
    array = to_array(image, spec)
    width = int(input_widths(array[None], spec)[0])
    return {"spec": spec.to_dict(), "tensor": _b64(array), "input_width": width}


def _decoding_cases() -> list[dict[str, object]]:
    rng = np.random.default_rng(7)
    charset = Charset("abc123")
    cases = []
    for objective in DECODERS:
        for temperature in (1.0, 0.9, 1.7):
            steps = 12 if objective == "ctc" else 6
            logits = (rng.normal(size=(steps, charset.num_classes)) * 3).astype(np.float32)
            logits[rng.integers(0, steps, 3), 0] += 4  # some blanks / ends / empty slots
            scaled = logits[None] / temperature  # as Solver.solve_arrays: float32 division
            result = decode(scaled, charset, objective)[0]
            cases.append(
                {
                    "objective": objective,
                    "temperature": temperature,
                    "symbols": charset.symbols,
                    "steps": steps,
                    "classes": charset.num_classes,
                    "logits": _b64(logits),
                    "text": result.text,
                    "confidence": result.confidence,
                    "char_probs": list(result.char_probs),
                }
            )
    return cases


class _FixedSession:
    """Stands in for an onnxruntime session: answers every batch with the same logits."""

    class _Input:
        name = "image"

    def __init__(self, logits: np.ndarray) -> None:
        self.logits = logits.astype(np.float32)

    def get_inputs(self) -> list[Any]:
        return [self._Input()]

    def run(self, _outputs: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [np.repeat(self.logits[None], len(next(iter(feeds.values()))), axis=0)]


def hinted(solver: Solver, hints: dict[str, Any]) -> Solver:
    """The Solver for the extension's reading hints, as ``captchalab solve --symbols
    --case --length`` makes it."""
    if hints.get("symbols"):
        solver = solver.restricted(resolve_symbols(hints["symbols"]))
    if hints.get("caseInsensitive"):
        solver = solver.case_insensitive()
    if hints.get("length"):
        solver = solver.with_lengths(hints["length"])
    return solver


def _hinted_answer(solver: Solver, hints: dict[str, Any], batch: np.ndarray) -> dict[str, Any]:
    """``hints`` with the Solver's answer under them, or the error it refuses them with."""
    try:
        answer = hinted(solver, hints).solve_arrays(batch)[0]
    except ValueError as exc:  # a symbol the model cannot read, a length for attention
        return {"hints": hints, "error": str(exc)}
    return {"hints": hints, **answer.to_dict()}


def _hint_sets(plain_length: int) -> list[dict[str, Any]]:
    """Case, symbols (both cases, one case only, unknown), lengths around the plain answer's
    (longer, shorter, a list, a range, more than the model can hold) and all at once."""
    n = plain_length
    lengths = [str(n + 1), str(max(n - 1, 1)), f"{max(n - 2, 1)},{n + 2}", "1-3", "40"]
    return [
        {"caseInsensitive": True},
        {"symbols": "ab1"},
        {"symbols": "aAB2"},
        {"symbols": "AB1", "caseInsensitive": True},
        {"symbols": "D1", "caseInsensitive": True},
        {"symbols": "xyz"},
        *({"length": length} for length in lengths),
        {"caseInsensitive": True, "symbols": "ab12", "length": str(n + 1)},
    ]


def hint_cases() -> list[dict[str, Any]]:
    """Random logits read by the Solver (a stand-in session returns them) under each hint."""
    rng = np.random.default_rng(11)
    charset = Charset(HINT_SYMBOLS)
    batch = np.zeros((1, HINT_SPEC.channels, HINT_SPEC.height, HINT_SPEC.width), np.float32)
    cases = []
    for objective in DECODERS:
        for temperature in (1.0, 0.9, 1.7, 1.0, 0.9, 1.7):
            steps = 16 if objective == "ctc" else 6
            logits = (rng.normal(size=(steps, charset.num_classes)) * 2).astype(np.float32)
            logits[rng.integers(0, steps, 4), 0] += 3  # some blanks / ends / empty slots
            metadata = ModelMetadata(
                "parity", objective, charset, steps, HINT_SPEC, {"temperature": temperature}
            )
            solver = Solver(_FixedSession(logits), metadata, "parity")  # type: ignore[arg-type]
            plain = solver.solve_arrays(batch)[0]
            answers = [_hinted_answer(solver, h, batch) for h in _hint_sets(len(plain.text))]
            cases.append(
                {
                    "objective": objective,
                    "temperature": temperature,
                    "symbols": charset.symbols,
                    "steps": steps,
                    "classes": charset.num_classes,
                    "logits": _b64(logits),
                    "answers": answers,
                }
            )
    return cases


def length_specs() -> list[dict[str, Any]]:
    """What ``parse_lengths`` makes of each spec: the lengths, or its error."""
    parsed: list[dict[str, Any]] = []
    for spec in LENGTH_SPECS:
        try:
            parsed.append({"spec": spec, "lengths": sorted(parse_lengths(spec))})
        except ValueError as exc:
            parsed.append({"spec": spec, "error": str(exc)})
    return parsed


def image_hints(solver: Solver, model_input: np.ndarray) -> list[dict[str, Any]]:
    return [_hinted_answer(solver, hints, model_input) for hints in IMAGE_HINTS]


def main() -> None:
    solver = Solver.load("default")
    specs = [solver.preprocessing, *SPECS]
    entries = []
    for name, image in _images():
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
        flat = load_image(image)  # alpha over white, as every input is
        tensors = [_tensor(flat, s) for s in specs]
        model_input = to_array(flat, solver.preprocessing)[None]
        logits = solver.logits(model_input)[0]
        answer = solver.solve_arrays(model_input)[0]
        entries.append(
            {
                "name": name,
                "width": rgba.shape[1],
                "height": rgba.shape[0],
                "rgba": _b64(rgba),
                "tensors": tensors,
                "logits": _b64(logits.astype(np.float32)),
                "logits_shape": list(logits.shape),
                "answer": answer.to_dict(),
                "hinted": image_hints(solver, model_input),
            }
        )
    fixtures = {
        "model": solver.metadata.to_dict(),
        "images": entries,
        "decoding": _decoding_cases(),
        "hints": hint_cases(),
        "length_specs": length_specs(),
        "named_charsets": NAMED_CHARSETS,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(json.dumps(fixtures, sort_keys=True).encode(), mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(entries)} images)")


if __name__ == "__main__":
    main()
