"""HTTP endpoints: solving under ``/v1`` (key- and rate-limited), health, metrics, web page."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from captchalab.service import schemas
from captchalab.service.docs import render_docs
from captchalab.service.errors import NotReady, ServiceError
from captchalab.service.images import UploadLimits
from captchalab.service.metrics import CONTENT_TYPE, ServiceMetrics
from captchalab.service.models import Hints, LoadedModel, ModelRegistry
from captchalab.service.security import API_KEY_HEADER, AccessGuard, Client
from captchalab.service.settings import ServiceSettings
from captchalab.service.uploads import (
    BodyFields,
    Upload,
    check_case_field,
    check_length_field,
    check_second_look_field,
    check_symbols_field,
    length_text,
    prepare_upload,
    read_uploads,
)

if TYPE_CHECKING:
    from captchalab.service.challenges import ChallengeService

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class ServiceState:
    settings: ServiceSettings
    metrics: ServiceMetrics
    registry: ModelRegistry
    guard: AccessGuard
    limits: UploadLimits
    challenges: ChallengeService | None = None  # with a challenge file only


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


_CLIENT = "captchalab.client"  # scope key: whom the request is charged to


def enforce_access(request: Request) -> Client:
    """Checks the key and charges one request (401/429); further costs go to the result."""
    client_ip = request.client.host if request.client else "unknown"
    client = get_state(request).guard.check(client_ip, request.headers.get(API_KEY_HEADER))
    request.scope[_CLIENT] = client
    return client


def enforce_ops_access(request: Request) -> None:
    """``/metrics``, ``/docs`` and ``/openapi.json``: keyed like ``/v1`` when keys are
    configured and ``protect_ops`` is on (the default), open otherwise."""
    state = get_state(request)
    if state.settings.protect_ops and state.guard.keys_required:
        enforce_access(request)


class GuardedRoute(APIRoute):
    """A route that runs ``enforce_access`` before anything else (body, parameters, endpoint).

    The effect of a router dependency at a fraction of the cost of FastAPI's per-request
    dependency machinery; every route of ``api`` is one, so none can leave the check out.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            enforce_access(request)
            return await handler(request)

        return guarded


def query_model(request: Request) -> str | None:
    """The ``model`` query parameter (``schemas.MODEL_QUERY`` documents it).

    Read by hand: as a declared parameter FastAPI spends ~100 Python calls per request on it.
    """
    return request.query_params.get("model")


def query_case(request: Request) -> str | None:
    """The ``case`` query parameter (``schemas.MODEL_QUERY`` documents it); a body field takes
    precedence."""
    return check_case_field(request.query_params.get("case"))


def request_lengths(request: Request, body_length: str | None) -> frozenset[int] | None:
    """The answer lengths asked for: the body's ``length`` field, else the query parameter."""
    return check_length_field(body_length or request.query_params.get("length"))


def request_hints(request: Request, fields: BodyFields) -> Hints:
    """The request's reading hints: each body field, else its query parameter (documented in
    ``schemas.MODEL_QUERY``)."""
    symbols = fields.symbols
    if symbols is None:
        symbols = request.query_params.get("symbols")
    look = fields.second_look
    if look is None:
        look = request.query_params.get("second_look")
    return Hints(
        fields.case or query_case(request),
        check_symbols_field(symbols),
        request_lengths(request, fields.length),
        check_second_look_field(look),
    )


api = APIRouter(prefix="/v1", route_class=GuardedRoute, tags=["solve"])
ops = APIRouter()  # health and the web pages: no key, no rate limit (see enforce_ops_access)


@api.post(
    "/solve",
    response_model=schemas.SolveResult,
    openapi_extra={**schemas.SOLVE_BODY, **schemas.MODEL_QUERY},
    responses=schemas.ERROR_RESPONSES,
    summary="Solve one captcha (multipart field `image` or JSON base64 `image`)",
)
async def solve(request: Request) -> Response:
    start = time.perf_counter()
    state = get_state(request)
    uploads, fields = await read_uploads(request, state.limits, batch=False)
    loaded = state.registry.get(fields.model or query_model(request))
    hints = request_hints(request, fields)
    echo = _hint_fields(loaded, hints)
    outcome = (await _solve_uploads(loaded, uploads, state.limits, hints))[0]
    if isinstance(outcome, ServiceError):
        raise outcome
    return _json(_result(outcome, loaded.name, start, echo))


@api.post(
    "/solve/batch",
    response_model=schemas.BatchResponse,
    openapi_extra={**schemas.BATCH_BODY, **schemas.MODEL_QUERY},
    responses=schemas.ERROR_RESPONSES,
    summary="Solve many captchas; a bad image yields an error item, the rest still succeed",
)
async def solve_batch(request: Request) -> Response:
    start = time.perf_counter()
    state = get_state(request)
    max_images = state.settings.max_batch_images
    uploads, fields = await read_uploads(request, state.limits, True, max_images)
    state.guard.charge(request.scope[_CLIENT], len(uploads) - 1)  # one token per image
    loaded = state.registry.get(fields.model or query_model(request))
    hints = request_hints(request, fields)
    echo = _hint_fields(loaded, hints)
    results: list[dict[str, Any]] = []
    for outcome in await _solve_uploads(loaded, uploads, state.limits, hints):
        if isinstance(outcome, ServiceError):
            state.metrics.count_error(outcome.kind)
            results.append(outcome.to_dict())
        else:
            results.append(_result(outcome, loaded.name, start, echo))
    return _json({"results": results, "model": loaded.name, "elapsed_ms": _elapsed_ms(start)})


@api.get("/models", response_model=schemas.ModelsResponse, summary="The models this server runs")
async def list_models(request: Request) -> dict[str, Any]:
    return {"models": get_state(request).registry.describe()}


@ops.get("/healthz", response_model=schemas.Status, tags=["ops"], summary="Process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


ops.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)


@ops.get("/readyz", response_model=schemas.ReadyStatus, tags=["ops"], summary="Models loaded")
async def readyz(request: Request) -> dict[str, Any]:
    registry = get_state(request).registry
    if not registry.ready:
        raise NotReady("models are not loaded")
    return {"status": "ready", "models": list(registry.models)}


@ops.get("/metrics", tags=["ops"], summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    enforce_ops_access(request)
    return Response(get_state(request).metrics.render(), media_type=CONTENT_TYPE)


@ops.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")


@ops.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    enforce_ops_access(request)
    return HTMLResponse(render_docs(request.app.openapi()))


@ops.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    enforce_ops_access(request)
    return JSONResponse(request.app.openapi())


# Each is included in the app on its own (nesting them makes FastAPI match every request
# twice per level), the solving routes first so that the busiest paths match first.
ROUTERS = (api, ops)


async def _solve_uploads(
    loaded: LoadedModel, uploads: list[Upload], limits: UploadLimits, hints: Hints
) -> list[Any]:
    """Each upload's prediction, or the ``ServiceError`` that stopped it, in order.

    The images are checked, decoded and preprocessed in the runner's worker thread, together
    with the model call: one thread hop per batch, and never on the event loop. Plain and
    case-only requests are read by their runner's own solver. With ``symbols``, every answer
    changes (the other symbols' probability is gone), so the request's images go through the
    runner to the Solver view for all its hints (``LoadedModel.solver_for``), batched with
    other requests that bring the same hints. With ``lengths`` only, the batched answers that
    already fit stand (a length-constrained decoder leaves them unchanged); only the others are
    read again under the constraint, in a worker thread. With ``second_look``, the answers
    below its threshold are read again, with the other views of their images
    (``Solver.with_second_look``), in a worker thread.
    """
    look = hints.second_look
    if look is not None:
        looking = loaded.solver_for(hints)  # before any work: an InvalidRequest for bad hints
        hints = replace(hints, second_look=None)  # the first reading batches as without it
    view: Any = None  # what reads the images when the runner's own solver cannot
    if hints.symbols is not None or hints.lengths is not None:
        view = loaded.solver_for(hints)  # before any work: an InvalidRequest for bad hints
    images = [upload for upload in uploads if not isinstance(upload, ServiceError)]
    if not images:  # nothing to solve: these errors are the answer, whatever the runner's state
        return list(uploads)
    prepare = partial(prepare_upload, spec=loaded.solver.preprocessing, limits=limits)
    runner = loaded.runner_for(hints.case)
    if hints.symbols is not None:
        answers = iter(await runner.submit(images, prepare, view.solve_arrays))
    else:
        answers = iter(await runner.submit(images, prepare))
    outcomes = [upload if isinstance(upload, ServiceError) else next(answers) for upload in uploads]
    if hints.symbols is None and hints.lengths is not None:
        lengths = hints.lengths
        misfits = [
            i
            for i, outcome in enumerate(outcomes)
            if not isinstance(outcome, ServiceError) and len(outcome.text) not in lengths
        ]
        if misfits:
            again = [uploads[i] for i in misfits]  # read once already: no errors now
            refit = await asyncio.to_thread(_read_again, view, again, prepare)
            for index, prediction in zip(misfits, refit, strict=True):
                outcomes[index] = prediction
    if look is None:
        return outcomes
    unsure = [
        i
        for i, outcome in enumerate(outcomes)
        if not isinstance(outcome, ServiceError) and outcome.confidence < look
    ]
    if unsure:
        again = [uploads[i] for i in unsure]  # checked against the limits already
        second = await asyncio.to_thread(looking.solve, again)
        for index, prediction in zip(unsure, second, strict=True):
            outcomes[index] = prediction
    return outcomes


def _read_again(solver: Any, uploads: list[Upload], prepare: Callable[[Upload], Any]) -> list[Any]:
    """Preprocess and read ``uploads`` again with ``solver`` (in a worker thread)."""
    return list(solver.solve_arrays(np.stack([prepare(u) for u in uploads])))


def _json(body: dict[str, Any]) -> Response:
    """A JSON response built directly: the routes' ``response_model`` documents the shape (and
    the tests check it), but re-validating every answer through pydantic costs more per request
    than the rest of the route."""
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


def _hint_fields(loaded: LoadedModel, hints: Hints) -> dict[str, Any]:
    """What an answer says about the hints it was read with: ``case`` always, ``length`` and
    ``symbols`` (those the answer may use, in the model's order) when asked. An InvalidRequest
    for symbols the model cannot read."""
    echo: dict[str, Any] = {"case": hints.case or "sensitive"}
    if hints.lengths is not None:
        echo["length"] = length_text(hints.lengths)
    if hints.symbols is not None:
        echo["symbols"] = loaded.solver_for(replace(hints, second_look=None)).symbols
    if hints.second_look is not None:
        echo["second_look"] = hints.second_look
    return echo


def _result(prediction: Any, model: str, start: float, echo: dict[str, Any]) -> dict[str, Any]:
    return {**prediction.to_dict(), "model": model, **echo, "elapsed_ms": _elapsed_ms(start)}


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)
