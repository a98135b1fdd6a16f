"""What a captchalab ONNX file says about itself, stored under one ``metadata_props`` key.

The value is JSON::

    {"format": "captchalab-onnx/1", "model_name": ..., "objective": "fixed_length|ctc|attention",
     "charset": {"symbols": ..., "case_sensitive": ...}, "max_length": ...,
     "preprocessing": {...}, "calibration": {"temperature": T}}   # calibration is optional

Reading needs only the JSON string (onnxruntime exposes it); writing needs the ``onnx`` package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing
from captchalab.objectives.decoding import DECODERS

FORMAT = "captchalab-onnx/1"
METADATA_KEY = "captchalab"
INPUT_NAME = "image"
OUTPUT_NAME = "logits"


@dataclass(frozen=True)
class ModelMetadata:
    """Everything the Solver needs besides the graph: charset, decoder and preprocessing."""

    model_name: str
    objective: str
    charset: Charset
    max_length: int
    preprocessing: Preprocessing
    calibration: dict[str, float] = field(default_factory=dict)
    # False for a graph whose logits for one image depend on the other images of its batch
    # (dynamic int8 quantisation takes one activation scale per batch): the Solver then runs
    # such a model one image at a time, so an answer never depends on its neighbours.
    batch_independent: bool = True

    @property
    def temperature(self) -> float:
        """Divide logits by this before the softmax (1.0 when uncalibrated)."""
        return float(self.calibration.get("temperature", 1.0))

    def with_temperature(self, temperature: float) -> ModelMetadata:
        return replace(self, calibration={**self.calibration, "temperature": float(temperature)})

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "model_name": self.model_name,
            "objective": self.objective,
            "charset": self.charset.to_dict(),
            "max_length": self.max_length,
            "preprocessing": self.preprocessing.to_dict(),
        }
        if self.calibration:
            data["calibration"] = dict(self.calibration)
        if not self.batch_independent:  # written only when false: older files stay identical
            data["batch_independent"] = False
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMetadata:
        if data.get("format") != FORMAT:
            raise ValueError(f"unsupported metadata format {data.get('format')!r}; want {FORMAT}")
        objective = str(data["objective"])
        if objective not in DECODERS:
            raise ValueError(f"unknown objective {objective!r}; known: {', '.join(DECODERS)}")
        calibration = {str(k): float(v) for k, v in (data.get("calibration") or {}).items()}
        batch_independent = data.get("batch_independent", True)
        if not isinstance(batch_independent, bool):
            raise ValueError("batch_independent must be true or false")
        if calibration.get("temperature", 1.0) <= 0:
            raise ValueError("calibration temperature must be positive")
        return cls(
            model_name=str(data["model_name"]),
            objective=objective,
            charset=Charset.from_dict(data["charset"]),
            max_length=int(data["max_length"]),
            preprocessing=Preprocessing.from_dict(data["preprocessing"]),
            calibration=calibration,
            batch_independent=batch_independent,
        )

    @classmethod
    def from_json(cls, text: str, source: str = "model") -> ModelMetadata:
        """Parse the stored JSON; any problem becomes a ValueError naming ``source``."""
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{source} has invalid captchalab metadata: {exc}") from exc


def write_metadata(onnx_path: Path, metadata: ModelMetadata) -> None:
    """Store (or replace) the metadata inside an ONNX file, in place."""
    import onnx  # only export and calibration write files; the Solver only reads them

    model = onnx.load(str(onnx_path))
    kept = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=METADATA_KEY, value=metadata.to_json())
    onnx.save(model, str(onnx_path))
