"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

_CASE_HELP = (
    "'insensitive' for sites that ignore case: both cases of a letter count together and the "
    "answer is lower case; 'sensitive' (the default) reads case as the model does"
)


_LENGTH_HELP = (
    "the answer's length when the site always uses it: 5, '4-6' or '4,6'. An answer of "
    "another length gives way to the most probable one that fits (CTC and fixed-length models)"
)

_SYMBOLS_HELP = (
    "the only symbols the site uses, e.g. '2345678bcdefgmnpwxy', or a named set: @digits, "
    "@lower, @upper, @alnum_upper, @alnum, @hku. Other symbols get no probability; a letter "
    "given in one case only also takes its other case's"
)


_SECOND_LOOK_HELP = (
    "true to read other views of a captcha the model is unsure of (a border, contrast "
    "stretched, a median filter, inverted, half and twice the size, a light blur) and keep the "
    "most confident answer, below a confidence of 0.5; or that threshold itself, in (0, 1]. "
    "Costs nothing on confident answers and about eight model runs on an unsure one"
)


class SolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(description="base64 image bytes, or a data: URL")
    model: str | None = Field(default=None, description="model name (default: the first)")
    case: Literal["sensitive", "insensitive"] | None = Field(default=None, description=_CASE_HELP)
    length: StrictInt | StrictStr | None = Field(default=None, description=_LENGTH_HELP)
    symbols: StrictStr | None = Field(default=None, description=_SYMBOLS_HELP)
    second_look: StrictBool | StrictFloat | StrictInt | None = Field(
        default=None, description=_SECOND_LOOK_HELP
    )


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    images: list[str] = Field(description="base64 images, or data: URLs")
    model: str | None = None
    case: Literal["sensitive", "insensitive"] | None = Field(default=None, description=_CASE_HELP)
    length: StrictInt | StrictStr | None = Field(default=None, description=_LENGTH_HELP)
    symbols: StrictStr | None = Field(default=None, description=_SYMBOLS_HELP)
    second_look: StrictBool | StrictFloat | StrictInt | None = Field(
        default=None, description=_SECOND_LOOK_HELP
    )


class SolveResult(BaseModel):
    text: str
    confidence: float = Field(description="probability of the whole answer")
    char_probs: list[float] = Field(description="probability of each character")
    model: str
    case: Literal["sensitive", "insensitive"] = Field(
        default="sensitive", description="the case policy the answer was read with"
    )
    length: str | None = Field(
        default=None, description="the answer lengths it was read with (when asked), e.g. '4-6'"
    )
    symbols: str | None = Field(
        default=None,
        description="the symbols the answer may use (when asked), in the model's order, e.g. "
        "'0123456789' for @digits",
    )
    second_look: float | None = Field(
        default=None,
        description="the confidence below which other views were read (when asked), e.g. 0.5",
    )
    elapsed_ms: float


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable kind, e.g. invalid_image")
    detail: str


class BatchResponse(BaseModel):
    results: list[SolveResult | ErrorBody]
    model: str
    elapsed_ms: float


class InputSize(BaseModel):
    height: int
    width: int
    channels: int


class ModelInfo(BaseModel):
    name: str
    default: bool
    input: InputSize
    architecture: str | None = None
    objective: str | None = None
    max_length: int | None = None


class ModelsResponse(BaseModel):
    models: list[ModelInfo]


class Status(BaseModel):
    status: str


class ReadyStatus(Status):
    models: list[str]


def _request_body(item_schema: dict[str, object], json_model: type[BaseModel]) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": item_schema},
                "application/json": {"schema": json_model.model_json_schema()},
            },
        }
    }


_CASE_FIELD = {"type": "string", "enum": ["sensitive", "insensitive"], "description": _CASE_HELP}
_LENGTH_FIELD = {"type": "string", "description": _LENGTH_HELP}
_SYMBOLS_FIELD = {"type": "string", "description": _SYMBOLS_HELP}
_SECOND_LOOK_FIELD = {"type": "string", "description": _SECOND_LOOK_HELP}

SOLVE_BODY = _request_body(
    {
        "type": "object",
        "required": ["image"],
        "properties": {
            "image": {"type": "string", "format": "binary"},
            "model": {"type": "string"},
            "case": _CASE_FIELD,
            "length": _LENGTH_FIELD,
            "symbols": _SYMBOLS_FIELD,
            "second_look": _SECOND_LOOK_FIELD,
        },
    },
    SolveRequest,
)

BATCH_BODY = _request_body(
    {
        "type": "object",
        "required": ["images"],
        "properties": {
            "images": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "model": {"type": "string"},
            "case": _CASE_FIELD,
            "length": _LENGTH_FIELD,
            "symbols": _SYMBOLS_FIELD,
            "second_look": _SECOND_LOOK_FIELD,
        },
    },
    BatchRequest,
)

# The ``model`` query parameter of the solving routes, as FastAPI would document a declared
# ``model: str | None = Query(None, description=...)`` (the routes read it by hand).
_MODEL_QUERY_HELP = "model name; a body field takes precedence"
MODEL_QUERY = {
    "parameters": [
        {
            "name": "model",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": _MODEL_QUERY_HELP,
                "title": "Model",
            },
            "description": _MODEL_QUERY_HELP,
        },
        {
            "name": "case",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [
                    {"type": "string", "enum": ["sensitive", "insensitive"]},
                    {"type": "null"},
                ],
                "description": _CASE_HELP + "; a body field takes precedence",
                "title": "Case",
            },
            "description": _CASE_HELP + "; a body field takes precedence",
        },
        {
            "name": "length",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": _LENGTH_HELP + "; a body field takes precedence",
                "title": "Length",
            },
            "description": _LENGTH_HELP + "; a body field takes precedence",
        },
        {
            "name": "symbols",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": _SYMBOLS_HELP + "; a body field takes precedence",
                "title": "Symbols",
            },
            "description": _SYMBOLS_HELP + "; a body field takes precedence",
        },
        {
            "name": "second_look",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": _SECOND_LOOK_HELP + "; a body field takes precedence",
                "title": "Second Look",
            },
            "description": _SECOND_LOOK_HELP + "; a body field takes precedence",
        },
    ]
}

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        401: "missing or invalid API key",
        404: "unknown model",
        413: "body or image too large",
        415: "not a PNG, JPEG, GIF, WebP or BMP image",
        422: "invalid request or undecodable image",
        429: "rate limited (see Retry-After)",
        503: "busy or not ready (see Retry-After)",
    }.items()
}
