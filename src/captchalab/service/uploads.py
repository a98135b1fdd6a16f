"""Reading images out of a request body: multipart files or base64 strings in JSON.

Problems with one image become that image's ``ServiceError`` (so a batch can report it and go
on); problems with the request as a whole are raised.
"""

from __future__ import annotations

import json

import numpy as np
from fastapi import Request
from pydantic import ValidationError

from captchalab.data.preprocess import Preprocessing
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


async def read_uploads(
    request: Request, limits: UploadLimits, batch: bool, max_images: int = 1
) -> tuple[list[Upload], str | None, str | None]:
    """The body's images and its ``model`` and ``case`` fields (``image``, or ``images`` for
    a batch); a ``case`` other than ``sensitive`` / ``insensitive`` is an InvalidRequest."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        uploads, model, case = await _read_multipart(request, limits, max_images, batch)
    elif content_type == "application/json":
        uploads, model, case = await _read_json(request, batch)
    else:
        raise UnsupportedMediaType("send multipart/form-data or application/json")
    if not uploads:
        raise InvalidRequest(f"no {'images' if batch else 'image'} in the request")
    if len(uploads) > max_images:
        raise InvalidRequest(f"at most {max_images} images per request")
    return uploads, model, check_case_field(case)


def check_case_field(case: str | None) -> str | None:
    """``case`` as given (None: not given), or an InvalidRequest naming the accepted values."""
    if case is not None and case not in CASES:
        raise InvalidRequest(f"case must be one of {', '.join(CASES)}, got {case[:40]!r}")
    return case


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
) -> tuple[list[Upload], str | None, str | None]:
    field = "images" if batch else "image"
    content_type = request.headers.get("content-type")
    try:  # one file over the limit, so that the count check below reports it as such
        items = parse_form(
            content_type, await request.body(), max_files=max_images + 1, **_FORM_LIMITS
        )
    except MultipartError as exc:
        raise MalformedBody(str(exc)) from None
    model = case = None
    for name, value in items:
        if name == "model":
            model = value  # like Starlette's FormData.get: the last one counts
        elif name == "case":
            case = value
    if model is not None and not isinstance(model, str):
        raise InvalidRequest("model must be a text field")
    if case is not None and not isinstance(case, str):
        raise InvalidRequest("case must be a text field")
    uploads: list[Upload] = [
        value.data[: limits.max_bytes + 1]
        if isinstance(value, FilePart)
        else InvalidRequest(f"{field} must be a file upload")
        for name, value in items
        if name == field
    ]
    return uploads, model, case


async def _read_json(request: Request, batch: bool) -> tuple[list[Upload], str | None, str | None]:
    try:
        data = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"body is not valid JSON: {exc}") from None
    try:
        if batch:
            many = schemas.BatchRequest.model_validate(data)
            return [_decode(text) for text in many.images], many.model, many.case
        one = schemas.SolveRequest.model_validate(data)
        return [_decode(one.image)], one.model, one.case
    except ValidationError as exc:
        raise InvalidRequest(_summarise(exc)) from None


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
