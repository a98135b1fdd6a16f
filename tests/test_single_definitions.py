"""One definition per concept: the answer type, and no dead dataset class."""

from __future__ import annotations

import numpy as np

from captchalab.charset import Charset
from captchalab.data import datasets
from captchalab.inference import Prediction, Solver
from captchalab.objectives import decoding


def test_decoders_and_the_solver_share_one_prediction_type(onnx_model_path) -> None:
    assert Prediction is decoding.Prediction and not hasattr(decoding, "Decoded")
    logits = np.zeros((1, 3, 4), dtype=np.float32)
    logits[0, 0, 2] = logits[0, 1, 0] = logits[0, 2, 3] = 9.0
    (decoded,) = decoding.decode(logits, Charset("abc"), "ctc")
    assert isinstance(decoded, Prediction) and decoded.text == "bc"
    assert decoded.to_dict()["text"] == "bc" and len(decoded.to_dict()["char_probs"]) == 2
    solver = Solver.load(onnx_model_path)
    spec = solver.preprocessing
    answer = solver.solve_arrays(np.zeros((1, spec.channels, spec.height, spec.width)))[0]
    assert type(answer) is Prediction


def test_the_unused_array_dataset_is_gone() -> None:
    assert not hasattr(datasets, "ArrayDataset")
