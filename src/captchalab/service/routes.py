"""HTTP endpoints: solving under ``/v1`` (key- and rate-limited), health, metrics, web page."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from captchalab.service import schemas
from captchalab.service.docs import render_docs
from captchalab.service.errors import NotReady, ServiceError
from captchalab.service.images import UploadLimits
from captchalab.service.metrics import CONTENT_TYPE, ServiceMetrics
from captchalab.service.registry import ModelRegistry
from captchalab.service.security import API_KEY_HEADER, AccessGuard
from captchalab.service.settings import ServiceSettings
from captchalab.service.uploads import prepare_upload, read_uploads

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class ServiceState:
    settings: ServiceSettings
    metrics: ServiceMetrics
    registry: ModelRegistry
    guard: AccessGuard
    limits: UploadLimits


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


async def enforce_access(request: Request) -> None:
    client_ip = request.client.host if request.client else "unknown"
    get_state(request).guard.check(client_ip, request.headers.get(API_KEY_HEADER))


router = APIRouter()
api = APIRouter(prefix="/v1", dependencies=[Depends(enforce_access)], tags=["solve"])
ModelQuery = Query(default=None, description="model name; a body field takes precedence")


@api.post(
    "/solve",
    response_model=schemas.SolveResult,
    openapi_extra=schemas.SOLVE_BODY,
    responses=schemas.ERROR_RESPONSES,
    summary="Solve one captcha (multipart field `image` or JSON base64 `image`)",
)
async def solve(request: Request, model: str | None = ModelQuery) -> dict[str, Any]:
    start = time.perf_counter()
    state = get_state(request)
    uploads, body_model = await read_uploads(request, state.limits, batch=False)
    loaded = state.registry.get(body_model or model)
    spec = loaded.solver.preprocessing
    with loaded.runner.incoming(1):  # leave the block before submitting: the batcher waits on it
        array = await run_in_threadpool(prepare_upload, uploads[0], spec, state.limits)
    if isinstance(array, ServiceError):
        raise array
    prediction = (await loaded.runner.submit([array]))[0]
    return _result(prediction, loaded.name, start)


@api.post(
    "/solve/batch",
    response_model=schemas.BatchResponse,
    openapi_extra=schemas.BATCH_BODY,
    responses=schemas.ERROR_RESPONSES,
    summary="Solve many captchas; a bad image yields an error item, the rest still succeed",
)
async def solve_batch(request: Request, model: str | None = ModelQuery) -> dict[str, Any]:
    start = time.perf_counter()
    state = get_state(request)
    max_images = state.settings.max_batch_images
    uploads, body_model = await read_uploads(request, state.limits, True, max_images)
    loaded = state.registry.get(body_model or model)
    spec = loaded.solver.preprocessing
    with loaded.runner.incoming(len(uploads)):
        arrays = await run_in_threadpool(
            lambda: [prepare_upload(u, spec, state.limits) for u in uploads]
        )
    good = [a for a in arrays if isinstance(a, np.ndarray)]
    predictions = iter(await loaded.runner.submit(good))
    results: list[dict[str, Any]] = []
    for item in arrays:
        if isinstance(item, ServiceError):
            state.metrics.count_error(item.kind)
            results.append(item.to_dict())
        else:
            results.append(_result(next(predictions), loaded.name, start))
    return {"results": results, "model": loaded.name, "elapsed_ms": _elapsed_ms(start)}


@api.get("/models", response_model=schemas.ModelsResponse, summary="The models this server runs")
async def list_models(request: Request) -> dict[str, Any]:
    return {"models": get_state(request).registry.describe()}


@router.get("/healthz", response_model=schemas.Status, tags=["ops"], summary="Process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)


@router.get("/readyz", response_model=schemas.ReadyStatus, tags=["ops"], summary="Models loaded")
async def readyz(request: Request) -> dict[str, Any]:
    registry = get_state(request).registry
    if not registry.ready:
        raise NotReady("models are not loaded")
    return {"status": "ready", "models": list(registry.models)}


@router.get("/metrics", tags=["ops"], summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    return Response(get_state(request).metrics.render(), media_type=CONTENT_TYPE)


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(render_docs(request.app.openapi()))


router.include_router(api)


def _result(prediction: Any, model: str, start: float) -> dict[str, Any]:
    return {**prediction.to_dict(), "model": model, "elapsed_ms": _elapsed_ms(start)}


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)
