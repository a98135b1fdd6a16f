"""Solving captchas with exported ONNX models (onnxruntime, numpy, Pillow; no torch).

``export`` and ``calibration.calibrate_onnx``'s writer need the training extras; they are not
imported here.
"""

from captchalab.inference.solver import Prediction, Solver
from captchalab.inference.voting import vote

__all__ = ["Prediction", "Solver", "vote"]
