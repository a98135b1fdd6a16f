"""Write the browser extension's parity fixtures from the Python code (run from the repo root).

    python scripts/extension_fixtures.py   # -> extension/test/fixtures/parity.json.gz

Each image is stored as RGBA bytes (what the extension crops from a capture) with the tensors
that ``data.preprocess.to_array`` makes from it under several preprocessing specs, and the
shipped default model's raw logits and answer. Decoding cases hold random logits with the
text, confidence and character probabilities the Python decoders give them. The JavaScript
tests (``extension/test/``) must reproduce all of it: tensors within 1e-4, texts exactly.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import numpy as np
from PIL import Image

from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing, input_widths, load_image, to_array
from captchalab.inference import Solver
from captchalab.objectives.decoding import DECODERS, decode
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
            }
        )
    fixtures = {
        "model": solver.metadata.to_dict(),
        "images": entries,
        "decoding": _decoding_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(json.dumps(fixtures, sort_keys=True).encode(), mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(entries)} images)")


if __name__ == "__main__":
    main()
