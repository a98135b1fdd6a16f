"""Reading images out of a request body: multipart files or base64 strings in JSON.

Problems with one image become that image's ``ServiceError`` (so a batch can report it and go
on); problems with the request as a whole are raised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from fastapi import Request
from pydantic import ValidationError

from captchalab.charset import NAMED_CHARSETS, resolve_symbols
from captchalab.data.preprocess import Preprocessing
from captchalab.inference.views import DEFAULT_SECOND_LOOK
from captchalab.objectives.lengths import format_lengths, parse_lengths
from captchalab.service import schemas
from captchalab.service.errors import (
    InvalidRequest,
    MalformedBody,
    ServiceError,
    UnsupportedMediaType,
)
from captchalab.service.images import UploadLimits, decode_base64, prepare_image
from captchalab.service.multipart import FilePart, MultipartError, parse_form

Upload = bytes | ServiceError  # one image's bytes, or why it could not be read
CASES = ("sensitive", "insensitive")  # the ``case`` field (``inference.case`` policies)

# Besides the images: a few text fields (``model``), none longer than a model name needs.
_FORM_LIMITS = {"max_fields": 8, "max_part_size": 4096}
_TEXT_FIELDS = ("model", "case", "length", "symbols", "second_look")
_YES, _NO = ("true", "yes", "on"), ("false", "no", "off")


@dataclass(frozen=True)
class BodyFields:
    """The text fields beside the images (None: not given)."""

    model: str | None = None
    case: str | None = None
    length: str | None = None  # as given; ``check_length_field`` parses it
    symbols: str | None = None  # as given; ``check_symbols_field`` expands a named set
    second_look: str | None = None  # as given; ``check_second_look_field`` parses it


async def read_uploads(
    request: Request, limits: UploadLimits, batch: bool, max_images: int = 1
) -> tuple[list[Upload], BodyFields]:
    """The body's images (``image``, or ``images`` for a batch) and its ``model``, ``case``,
    ``length`` and ``symbols`` fields; a ``case`` other than ``sensitive`` / ``insensitive``, a
    bad ``length`` or empty ``symbols`` / an unknown named set is an InvalidRequest."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        uploads, fields = await _read_multipart(request, limits, max_images, batch)
    elif content_type == "application/json":
        uploads, fields = await _read_json(request, batch)
    else:
        raise UnsupportedMediaType("send multipart/form-data or application/json")
    if not uploads:
        raise InvalidRequest(f"no {'images' if batch else 'image'} in the request")
    if len(uploads) > max_images:
        raise InvalidRequest(f"at most {max_images} images per request")
    check_case_field(fields.case)
    check_length_field(fields.length)
    check_symbols_field(fields.symbols)
    check_second_look_field(fields.second_look)
    return uploads, fields


def check_case_field(case: str | None) -> str | None:
    """``case`` as given (None: not given), or an InvalidRequest naming the accepted values."""
    if case is not None and case not in CASES:
        raise InvalidRequest(f"case must be one of {', '.join(CASES)}, got {case[:40]!r}")
    return case


def check_length_field(length: str | None) -> frozenset[int] | None:
    """``length`` parsed (None: not given), or an InvalidRequest saying what is wrong."""
    if length is None:
        return None
    try:
        return parse_lengths(length)
    except ValueError as exc:
        raise InvalidRequest(f"length: {exc}") from None


def check_symbols_field(symbols: str | None) -> str | None:
    """``symbols`` with a named set (``@digits``) expanded (None: not given), or an
    InvalidRequest for none at all or an unknown set. Whether the model reads them is for
    ``LoadedModel.solver_for`` to say."""
    if symbols is None:
        return None
    if not symbols:
        raise InvalidRequest("symbols: give at least one symbol, or a named set such as @digits")
    try:
        return resolve_symbols(symbols)
    except ValueError:
        known = ", ".join(f"@{name}" for name in sorted(NAMED_CHARSETS))
        raise InvalidRequest(
            f"symbols: unknown named set {symbols[:40]!r}; known: {known}"
        ) from None


def check_second_look_field(value: str | None) -> float | None:
    """``second_look`` as a threshold (None: not given, or ``false``): ``true`` is the Solver's
    default threshold, a number in (0, 1] is the threshold itself; else an InvalidRequest."""
    if value is None or value.strip().lower() in _NO:
        return None
    if value.strip().lower() in _YES:
        return DEFAULT_SECOND_LOOK
    try:
        threshold = float(value)
    except ValueError:
        threshold = float("nan")
    if not 0.0 < threshold <= 1.0:  # NaN fails too
        raise InvalidRequest(
            f"second_look must be true, false or a confidence in (0, 1], got {value[:40]!r}"
        )
    return threshold


def length_text(lengths: frozenset[int] | None) -> str | None:
    """How an answer reports the lengths it was read with: ``"5"``, ``"4-6"``."""
    return None if lengths is None else format_lengths(lengths)


def prepare_upload(
    upload: Upload, spec: Preprocessing, limits: UploadLimits
) -> np.ndarray | ServiceError:
    """Bytes -> ``(C, H, W)`` float32 model input, or the error that stopped it."""
    if isinstance(upload, ServiceError):
        return upload
    try:
        return prepare_image(upload, spec, limits)
    except ServiceError as exc:
        return exc


async def _read_multipart(
    request: Request, limits: UploadLimits, max_images: int, batch: bool
) -> tuple[list[Upload], BodyFields]:
    field = "images" if batch else "image"
    content_type = request.headers.get("content-type")
    try:  # one file over the limit, so that the count check below reports it as such
        items = parse_form(
            content_type, await request.body(), max_files=max_images + 1, **_FORM_LIMITS
        )
    except MultipartError as exc:
        raise MalformedBody(str(exc)) from None
    texts: dict[str, str] = {}
    for name, value in items:
        if name in _TEXT_FIELDS:  # like Starlette's FormData.get: the last counts
            if not isinstance(value, str):
                raise InvalidRequest(f"{name} must be a text field")
            texts[name] = value
    uploads: list[Upload] = [
        value.data[: limits.max_bytes + 1]
        if isinstance(value, FilePart)
        else InvalidRequest(f"{field} must be a file upload")
        for name, value in items
        if name == field
    ]
    return uploads, BodyFields(**texts)


async def _read_json(request: Request, batch: bool) -> tuple[list[Upload], BodyFields]:
    try:
        data = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"body is not valid JSON: {exc}") from None
    try:
        if batch:
            many = schemas.BatchRequest.model_validate(data)
            return [_decode(text) for text in many.images], _fields(many)
        one = schemas.SolveRequest.model_validate(data)
        return [_decode(one.image)], _fields(one)
    except ValidationError as exc:
        raise InvalidRequest(_summarise(exc)) from None


def _fields(body: schemas.SolveRequest | schemas.BatchRequest) -> BodyFields:
    length, look = body.length, body.second_look
    return BodyFields(
        body.model,
        body.case,
        None if length is None else str(length),
        body.symbols,
        None if look is None else str(look).lower(),
    )


def _decode(text: str) -> Upload:
    try:
        return decode_base64(text)
    except ServiceError as exc:
        return exc


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
        for error in exc.errors()
    )
