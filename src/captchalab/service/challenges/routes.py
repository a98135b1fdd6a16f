"""``POST /v1/challenges`` and ``POST /v1/challenges/{id}/answer``: key- and rate-limited like
the solve routes, with the same JSON errors."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from captchalab.service import schemas as solve_schemas
from captchalab.service.challenges import schemas
from captchalab.service.challenges.errors import UnknownChallenge
from captchalab.service.challenges.service import ChallengeService
from captchalab.service.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from captchalab.service.routes import GuardedRoute, get_state

MAX_BODY = 4096  # bytes: challenge and answer bodies are tiny

router = APIRouter(prefix="/v1", route_class=GuardedRoute, tags=["challenges"])

_ERRORS = {
    **solve_schemas.ERROR_RESPONSES,
    404: {"model": solve_schemas.ErrorBody, "description": "unknown challenge"},
    409: {"model": solve_schemas.ErrorBody, "description": "already answered"},
    410: {"model": solve_schemas.ErrorBody, "description": "expired"},
}


def challenge_service(request: Request) -> ChallengeService:
    service = get_state(request).challenges
    if service is None:  # the router is only mounted with a challenge file
        raise UnknownChallenge("this server has no challenge file")
    return service


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/challenges",
    response_model=schemas.Challenge,
    responses=solve_schemas.ERROR_RESPONSES,
    summary="A new captcha to show; answer it once, before expires_at",
)
async def new_challenge(request: Request) -> Response:
    service = challenge_service(request)
    # The body is ignored (there is nothing to ask for), but read, so that its limit holds.
    if len(await request.body()) > MAX_BODY:
        raise PayloadTooLarge(f"a challenge request body is at most {MAX_BODY} bytes")
    body = await service.issue(client_address(request))
    return _json(body)


@router.post(
    "/challenges/{challenge_id}/answer",
    response_model=schemas.AnswerResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schemas.AnswerRequest.model_json_schema()}},
        }
    },
    responses=_ERRORS,
    summary="Answer a challenge: {correct}; a second answer gets 409, a late one 410",
)
async def answer_challenge(challenge_id: str, request: Request) -> Response:
    service = challenge_service(request)
    answer = await _read_answer(request)
    correct = await service.answer(challenge_id, answer, client_address(request))
    return _json({"correct": correct})


async def _read_answer(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType('send application/json: {"answer": "..."}')
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"an answer body is at most {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"body is not valid JSON: {exc}") from None
    try:
        parsed = schemas.AnswerRequest.model_validate(data)
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidRequest(detail) from None
    if not parsed.answer.isprintable():
        raise InvalidRequest("answer: must be printable text (no control characters)")
    return parsed.answer


def _json(body: dict[str, object]) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")
