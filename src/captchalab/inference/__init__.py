"""Solving captchas with exported ONNX models (onnxruntime, numpy, Pillow; no torch).

Export lives in ``captchalab.training.export`` (torch); ``temperature.calibrate_onnx``'s writer
needs ``onnx`` from the training extras and is not imported here.
"""

from captchalab.inference.solver import Prediction, Solver
from captchalab.inference.voting import vote

__all__ = ["Prediction", "Solver", "vote"]
