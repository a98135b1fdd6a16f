"""Write the browser extension's parity fixtures from the Python code (run from the repo root).

    python scripts/extension_fixtures.py   # -> extension/test/fixtures/parity.json.gz

Each image is stored as RGBA bytes (what the extension crops from a capture) with the tensors
that ``data.preprocess.to_array`` makes from it under several preprocessing specs, and the
shipped default model's raw logits and answer. Decoding cases hold random logits with the
text, confidence and character probabilities the Python decoders give them. Reading hints
(the extension's ``caseInsensitive``, ``symbols`` and ``length`` settings) are checked the
same way: the Solver's answers under each hint, for random logits and for the images, the
errors it gives where it refuses one, and what ``parse_lengths`` makes of length specs. The
second look (``second_look``) holds the bytes of each view (``inference.views``) of a few
images, and the answers ``Solver.with_second_look`` gives the images with a threshold that
sends every one of them to the views. The JavaScript tests (``extension/test/``) must
reproduce all of it: tensors within 1e-4, view bytes and texts exactly.
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
from captchalab.inference.views import VIEWS
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
# The second look: a threshold above every fixture image's confidence, so that each one is
# read again from its views, and the images whose views are stored byte for byte (small ones:
# the views of larger captchas add little and weigh a lot).
SECOND_LOOK = 0.999
VIEW_IMAGES = ("mix_4", "tiny", "odd", "odd_tall")
SECOND_LOOK_HINTS: list[dict[str, Any]] = [{}, IMAGE_HINTS[-1]]
# A reading that differs from the answer must be less confident by this share of the
# answer's confidence, so that float noise between onnxruntime builds cannot swap them.
SECOND_LOOK_MARGIN = 1e-3
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


def _odd_images() -> dict[str, Image.Image]:
    """A captcha squeezed to 37x13 with dark specks, and the same turned on its side: odd
    sizes for half, double and blur, and a height that shrinks more than the width (Pillow
    then resizes vertically first)."""
    rng = np.random.default_rng(17)
    image = get_scheme("mix").sample_at(TEST_SEED, MIX_IMAGES + 2)[0].convert("RGB")
    pixels = np.array(image.resize((37, 13)))
    pixels[rng.integers(0, 13, 12), rng.integers(0, 37, 12)] = 0
    wide = Image.fromarray(pixels)
    return {"odd": wide, "odd_tall": wide.transpose(Image.Transpose.ROTATE_90)}


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


def _rgba_entry(name: str, image: Image.Image) -> dict[str, Any]:
    rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
    return {"name": name, "width": rgba.shape[1], "height": rgba.shape[0], "rgba": _b64(rgba)}


def view_cases(images: dict[str, Image.Image]) -> list[dict[str, Any]]:
    """Each view of each VIEW_IMAGES image (alpha over white, as the Solver loads it) as RGB
    bytes: ``autocontrast``'s grey image replicated to RGB, as preprocessing reads it."""
    cases = []
    for image_name in VIEW_IMAGES:
        flat = load_image(images[image_name])
        for name, view in VIEWS.items():
            seen = view(flat)
            rgb = np.asarray(seen.convert("RGB"), dtype=np.uint8)
            cases.append(
                {
                    "image": image_name,
                    "view": name,
                    "width": seen.width,
                    "height": seen.height,
                    "rgb": _b64(rgb),
                }
            )
    return cases


def second_look_answers(solver: Solver, images: dict[str, Image.Image]) -> list[dict[str, Any]]:
    """The Solver's answer with the second look for every image, under no hints and under
    hints (they apply to every reading), with its first reading for comparison."""
    answers = []
    for hints in SECOND_LOOK_HINTS:
        reader = hinted(solver, hints)
        looking = reader.with_second_look(SECOND_LOOK)
        for name, image in images.items():
            flat = load_image(image)
            first = reader.solve(flat)
            answer = looking.solve(flat)
            if first.confidence >= SECOND_LOOK:
                raise SystemExit(f"{name}: {first.confidence} is not below the second look")
            readings = [first, *reader.solve([view(flat) for view in VIEWS.values()])]
            rivals = [r.confidence for r in readings if r.text != answer.text]
            if rivals and max(rivals) >= answer.confidence * (1 - SECOND_LOOK_MARGIN):
                raise SystemExit(f"{name} {hints}: readings too close to tell apart")
            answers.append(
                {"image": name, "hints": hints, "first": first.to_dict(), **answer.to_dict()}
            )
    if all(a["first"]["text"] == a["text"] for a in answers):
        raise SystemExit("the second look changes no answer: it needs other images")
    return answers


def main() -> None:
    solver = Solver.load("default")
    specs = [solver.preprocessing, *SPECS]
    entries = []
    images = dict(_images())
    for name, image in images.items():
        flat = load_image(image)  # alpha over white, as every input is
        tensors = [_tensor(flat, s) for s in specs]
        model_input = to_array(flat, solver.preprocessing)[None]
        logits = solver.logits(model_input)[0]
        answer = solver.solve_arrays(model_input)[0]
        entries.append(
            {
                **_rgba_entry(name, image),
                "tensors": tensors,
                "logits": _b64(logits.astype(np.float32)),
                "logits_shape": list(logits.shape),
                "answer": answer.to_dict(),
                "hinted": image_hints(solver, model_input),
            }
        )
    extra = _odd_images()  # second-look images beyond those above
    fixtures = {
        "model": solver.metadata.to_dict(),
        "images": entries,
        "decoding": _decoding_cases(),
        "hints": hint_cases(),
        "length_specs": length_specs(),
        "named_charsets": NAMED_CHARSETS,
        "second_look": {
            "threshold": SECOND_LOOK,
            "view_names": list(VIEWS),
            "images": [_rgba_entry(name, image) for name, image in extra.items()],
            "views": view_cases({**images, **extra}),
            "answers": second_look_answers(solver, {**images, **extra}),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(json.dumps(fixtures, sort_keys=True).encode(), mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(entries)} images)")


if __name__ == "__main__":
    main()
