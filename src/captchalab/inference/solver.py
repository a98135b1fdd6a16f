"""Solve captchas with an exported ONNX model: onnxruntime, numpy and Pillow, never torch.

    Solver.load("default").solve("captcha.png")  # -> Prediction(text, confidence, char_probs)

The ONNX file carries its own charset, decoder and preprocessing (see ``metadata.py``), and
images go through the same ``data.preprocess`` path the model was trained with.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import overload

import numpy as np
import onnxruntime as ort
from PIL import Image

from captchalab.charset import Charset
from captchalab.data.preprocess import (
    ImageInput,
    Preprocessing,
    load_image,
    to_array,
    trim,
    width_groups,
)
from captchalab.inference.case import (
    CasePolicy,
    absent_case_targets,
    fold_allowed,
    fold_logits,
    fold_targets,
)
from captchalab.inference.metadata import METADATA_KEY, ModelMetadata
from captchalab.inference.views import DEFAULT_SECOND_LOOK, VIEWS, resolve_views
from captchalab.objectives.decoding import Prediction, decode
from captchalab.objectives.lengths import check_lengths_supported, format_lengths, parse_lengths

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_MODEL = ASSETS / "default.onnx"
# The shipped models by name: the default, and the same model with int8 LSTM and dense weights
# (faster on CPU, a few answers differ; ``captchalab quantize``, docs/model-card.md).
SHIPPED_MODELS = {"default": DEFAULT_MODEL, "default-int8": ASSETS / "default-int8.onnx"}
MAX_BATCH = 64

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_SECOND_LOOK",
    "MAX_BATCH",
    "SHIPPED_MODELS",
    "Prediction",
    "Solver",
    "resolve_model_path",
]


def resolve_model_path(path: str | Path) -> Path:
    """A shipped model's name (``"default"``, ``"default-int8"``) -> its file; anything else
    is a path that must exist."""
    shipped = SHIPPED_MODELS.get(str(path))
    if shipped is not None:
        if not shipped.exists():
            raise FileNotFoundError(
                f"the {path} model is not installed (expected {shipped}); pass the path "
                "of an exported model instead, e.g. Solver.load('model.onnx') or "
                "--model model.onnx (make one with `captchalab export CHECKPOINT -o model.onnx`)"
            )
        return shipped
    resolved = Path(path)
    if not resolved.is_file():
        raise FileNotFoundError(f"no model file at {resolved}")
    return resolved


@dataclass(frozen=True)
class SecondLook:
    """Read ``views`` of an image whose answer's confidence is below ``threshold``."""

    threshold: float
    views: tuple[str, ...]


class Solver:
    """An ONNX model plus its metadata. Thread-safe: solving keeps no mutable state."""

    def __init__(
        self,
        session: ort.InferenceSession,
        metadata: ModelMetadata,
        name: str,
        allowed: np.ndarray | None = None,
        case: CasePolicy = "sensitive",
        lengths: frozenset[int] | None = None,
        second_look: SecondLook | None = None,
    ) -> None:
        self._session = session
        self._metadata = metadata
        self._name = name
        self._input_name = session.get_inputs()[0].name
        self._allowed = allowed  # (num_classes,) bool: classes the answer may use, or None
        self._case: CasePolicy = case
        self._lengths = lengths  # answer lengths allowed, or None
        self._second_look = second_look
        self._fold = fold_targets(metadata.charset) if case == "insensitive" else None
        # restricted to one case of a letter: the other case's probability joins it
        self._absent = (
            absent_case_targets(metadata.charset, allowed)
            if allowed is not None and self._fold is None
            else None
        )

    @classmethod
    def load(cls, path: str | Path = "default", threads: int | None = None) -> Solver:
        """Open an exported captchalab ONNX file (``"default"``: the shipped model;
        ``"default-int8"``: its int8 copy).

        ``threads`` caps onnxruntime's intra-op threads (default: its own choice).
        Raises FileNotFoundError for a missing file, ValueError for a file that is not a
        captchalab ONNX model.
        """
        model_path = resolve_model_path(path)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only; onnxruntime warns about benign things
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for unreadable models
            raise ValueError(f"{model_path} is not a loadable ONNX model: {exc}") from exc
        stored = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if stored is None:
            raise ValueError(
                f"{model_path} is an ONNX model without captchalab metadata; "
                "export models with `captchalab export`"
            )
        metadata = ModelMetadata.from_json(stored, source=str(model_path))
        logger.info("loaded %s (%s, %s)", model_path, metadata.model_name, metadata.objective)
        return cls(session, metadata, model_path.stem)

    @property
    def name(self) -> str:
        """The model file's stem, e.g. ``"default"``."""
        return self._name

    @property
    def metadata(self) -> ModelMetadata:
        return self._metadata

    @property
    def charset(self) -> Charset:
        return self._metadata.charset

    @property
    def preprocessing(self) -> Preprocessing:
        return self._metadata.preprocessing

    def restricted(self, symbols: str) -> Solver:
        """A Solver on the same model that answers only with ``symbols`` (e.g. a site that
        uses digits only). It shares this one's session; this one is unchanged.

        A letter given in one case only also takes the probability of its other case
        (told ``abc``, a glyph read as ``A`` is answered ``a``); given in both cases, each
        keeps its own.

        Raises ``UnknownSymbolError`` for a symbol the model cannot read.
        """
        ids = self.charset.encode(symbols, where="restricted symbols")
        if not ids:
            raise ValueError("restricted() needs at least one symbol")
        allowed = np.zeros(self.charset.num_classes, dtype=bool)
        allowed[0] = True  # the blank / end / empty-slot class: every decoder needs it
        allowed[ids] = True
        return self._derive(allowed=allowed)

    def case_insensitive(self) -> Solver:
        """A Solver on the same model for sites that ignore case: before decoding, each
        letter gets the summed probability of both its cases, and answers are lower case.
        It shares this one's session (and its ``restricted`` symbols, either case of a symbol
        counting for both); this one is unchanged.

        Exact for CTC and fixed-length models. For attention models it is approximate: the
        ONNX graph feeds its own case-sensitive choice back into the next step.
        """
        return self._derive(case="insensitive")

    def case_sensitive(self) -> Solver:
        """A Solver on the same model that reads case as the model does (the default)."""
        return self._derive(case="sensitive")

    def with_case(self, case: CasePolicy) -> Solver:
        """``case_insensitive()`` or ``case_sensitive()`` by name."""
        return self.case_insensitive() if case == "insensitive" else self.case_sensitive()

    def with_lengths(self, lengths: str | int | Iterable[int] | None) -> Solver:
        """A Solver on the same model that answers only with texts of the given lengths
        (``5``, ``"4-6"``, ``"4,6"``; ``None`` lifts the constraint), for sites whose
        captchas always hold that many characters. It shares this one's session, symbols and
        case policy; this one is unchanged.

        An answer of another length gives way to the most probable answer of an allowed
        length (``objectives.lengths``); one that already fits is unchanged. Raises
        ValueError for a bad length or an attention model, which chooses its length inside
        the exported graph.
        """
        allowed = None
        if lengths is not None:
            check_lengths_supported(self._metadata.objective)
            allowed = parse_lengths(lengths)
        return self._derive(lengths=allowed)

    def with_second_look(
        self, threshold: float | None = DEFAULT_SECOND_LOOK, views: Iterable[str] | None = None
    ) -> Solver:
        """A Solver on the same model that takes a second look at the answers it is unsure
        of: when an answer's calibrated confidence is below ``threshold``, it also reads other
        views of the image (``inference.views``: a border, contrast stretched, a median
        filter, inverted, half and twice the size, a light blur; ``views`` picks some) and
        answers with the most confident reading. Confident answers cost nothing more; an
        unsure one costs a model run per view. ``threshold=None`` turns it off.

        It keeps this one's symbols, case policy and lengths; it applies to ``solve`` and
        ``solve_each`` (inputs that are images), not to ``solve_arrays``.
        """
        if threshold is None:
            return self._derive(second_look=None)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(
                f"the second-look threshold is a confidence in (0, 1], got {threshold}"
            )
        return self._derive(second_look=SecondLook(float(threshold), resolve_views(views)))

    @property
    def second_look(self) -> SecondLook | None:
        """The second-look threshold and views (``with_second_look``), or ``None``."""
        return self._second_look

    def _derive(self, **changes: object) -> Solver:
        """A view on the same session with some of the decoding settings changed."""
        settings: dict[str, object] = {
            "allowed": self._allowed,
            "case": self._case,
            "lengths": self._lengths,
            "second_look": self._second_look,
        }
        settings.update(changes)
        return Solver(self._session, self._metadata, self._name, **settings)  # type: ignore[arg-type]

    @property
    def lengths(self) -> frozenset[int] | None:
        """The answer lengths allowed (``with_lengths``), or ``None`` for any."""
        return self._lengths

    @property
    def case(self) -> CasePolicy:
        """``"sensitive"`` or ``"insensitive"`` (see ``case_insensitive``)."""
        return self._case

    @property
    def symbols(self) -> str:
        """The symbols answers may contain."""
        allowed = self._allowed
        if self._fold is not None:
            mask = np.ones(self.charset.num_classes, dtype=bool) if allowed is None else allowed
            allowed = fold_allowed(mask, self._fold)
        if allowed is None:
            return self.charset.symbols
        symbols = "".join(s for i, s in enumerate(self.charset.symbols, 1) if allowed[i])
        return symbols.lower() if self._fold is not None else symbols

    @overload
    def solve(self, images: list[ImageInput] | tuple[ImageInput, ...]) -> list[Prediction]: ...

    @overload
    def solve(self, images: ImageInput) -> Prediction: ...

    def solve(
        self, images: ImageInput | list[ImageInput] | tuple[ImageInput, ...]
    ) -> Prediction | list[Prediction]:
        """A path, bytes, PIL image or ``(H, W[, C])`` array -> a Prediction; a list -> a list.

        Raises ImageDecodeError for unreadable images and FileNotFoundError for missing files.
        """
        if isinstance(images, (list, tuple)):
            if not images:
                return []
            loaded = [load_image(x) for x in images]
            return self._solve_images(loaded)
        return self._solve_images([load_image(images)])[0]

    def solve_each(self, images: Sequence[ImageInput]) -> list[Prediction | Exception]:
        """Like ``solve`` on a list, but an unreadable input yields its exception in its place
        instead of failing the whole batch."""
        loaded: dict[int, Image.Image] = {}
        errors: dict[int, Exception] = {}
        for index, source in enumerate(images):
            try:
                loaded[index] = load_image(source)
            except (ValueError, OSError) as exc:  # ImageDecodeError is a ValueError
                errors[index] = exc
        solved: dict[int, Prediction] = {}
        if loaded:
            predictions = self._solve_images(list(loaded.values()))
            solved = dict(zip(loaded, predictions, strict=True))
        return [solved[i] if i in solved else errors[i] for i in range(len(images))]

    def _solve_images(self, images: list[Image.Image]) -> list[Prediction]:
        """Decoded images -> answers, with the second look where it is switched on."""
        spec = self.preprocessing
        answers = self.solve_arrays(np.stack([to_array(im, spec) for im in images]))
        look = self._second_look
        unsure = (
            []
            if look is None
            else [i for i, a in enumerate(answers) if a.confidence < look.threshold]
        )
        if not unsure or look is None:
            return answers
        views = [VIEWS[name](images[i]) for i in unsure for name in look.views]
        readings = self.solve_arrays(np.stack([to_array(v, spec) for v in views]))
        per_image = len(look.views)
        for k, index in enumerate(unsure):
            candidates = [answers[index], *readings[k * per_image : (k + 1) * per_image]]
            answers[index] = max(candidates, key=lambda a: a.confidence)  # first on ties
        return answers

    def solve_arrays(self, batch: np.ndarray) -> list[Prediction]:
        """Already preprocessed ``(B, C, H, W)`` images (float in [0, 1], or uint8).

        A dynamic-width model reads each image at its own width (``data.preprocess
        .width_groups``), so an answer never depends on the other images in the batch.
        """
        self._check_shape(batch)
        if not self.preprocessing.dynamic_width:
            return self._solve_group(batch)
        answers: list[Prediction | None] = [None] * len(batch)
        for indices, width in width_groups(batch, self.preprocessing):
            group = self._solve_group(batch[indices, :, :, :width])
            for index, prediction in zip(indices, group, strict=True):
                answers[index] = prediction
        return [a for a in answers if a is not None]

    def _solve_group(self, batch: np.ndarray) -> list[Prediction]:
        logits = self.logits(batch) / self._metadata.temperature
        allowed = self._allowed
        if self._absent is not None:  # a letter told in one case only reads both
            logits = fold_logits(logits, self._absent)
        if self._fold is not None:  # both cases of a letter count for its lower case
            logits = fold_logits(logits, self._fold)
            if allowed is not None:
                allowed = fold_allowed(allowed, self._fold)
        if allowed is not None:  # a class that may not appear gets no probability
            logits = np.where(allowed, logits, np.float32(-1e9))  # (B, S, C)
        decoded = decode(logits, self.charset, self._metadata.objective, self._lengths)
        if self._fold is not None:  # e.g. an upper-case-only charset: answers are lower case
            return [replace(d, text=d.text.lower()) for d in decoded]
        return decoded

    def _check_shape(self, batch: np.ndarray) -> None:
        spec = self.preprocessing
        expected = (spec.channels, spec.height, spec.width)
        if spec.dynamic_width:
            if (
                batch.ndim == 4
                and batch.shape[1:3] == expected[:2]
                and batch.shape[3] <= spec.width
            ):
                return
            raise ValueError(
                f"expected a batch of shape (B, {spec.channels}, {spec.height}, W <= "
                f"{spec.width}), got {batch.shape}"
            )
        if batch.ndim != 4 or tuple(batch.shape[1:]) != expected:
            raise ValueError(
                f"expected a batch of shape (B, {', '.join(map(str, expected))}), got {batch.shape}"
            )

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw (uncalibrated) ``(B, S, C)`` logits for ``(B, C, H, W)`` images, all at the
        batch's width (a dynamic-width model: cut to the widest input width among them)."""
        self._check_shape(batch)
        batch = trim(batch, self.preprocessing)
        if batch.dtype == np.uint8:
            batch = batch.astype(np.float32) / 255.0
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        step = MAX_BATCH if self._metadata.batch_independent else 1
        outputs = [
            self._session.run(None, {self._input_name: batch[start : start + step]})[0]
            for start in range(0, len(batch), step)
        ]
        if not outputs:
            return np.zeros((0, 0, self.charset.num_classes), dtype=np.float32)
        return np.concatenate(outputs)

    def __repr__(self) -> str:
        m = self._metadata
        case = "" if self._case == "sensitive" else ", case='insensitive'"
        if self._lengths is not None:
            case += f", lengths={format_lengths(self._lengths)!r}"
        if self._second_look is not None:
            case += f", second_look={self._second_look.threshold:g}"
        return (
            f"Solver(name={self._name!r}, model={m.model_name!r}, objective={m.objective!r}{case})"
        )
