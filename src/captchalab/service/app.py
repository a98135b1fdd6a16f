"""Builds the FastAPI app: settings -> models (loaded in the lifespan), middleware, JSON errors.

Run directly with ``uvicorn --factory captchalab.service.app:create_app_from_environment``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware import Middleware
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

import captchalab
from captchalab.service.errors import ServiceError
from captchalab.service.images import UploadLimits
from captchalab.service.metrics import MetricsMiddleware, ServiceMetrics
from captchalab.service.models import ModelRegistry, SolverLoader, load_solver
from captchalab.service.routes import ROUTERS, STATIC_DIR, ServiceState
from captchalab.service.security import (
    API_KEY_HEADER,
    AccessGuard,
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
)
from captchalab.service.settings import ServiceSettings

if TYPE_CHECKING:
    from captchalab.service.challenges import ChallengeService

logger = logging.getLogger(__name__)

# Set by ``server.run`` so that every uvicorn worker process builds the same settings.
SETTINGS_ENV = "CAPTCHALAB_SERVICE_SETTINGS_JSON"

_HTTP_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def create_app(
    settings: ServiceSettings | None = None, loader: SolverLoader = load_solver
) -> FastAPI:
    """The service app; models are loaded by its lifespan, once, when the server starts."""
    settings = settings or ServiceSettings()
    metrics = ServiceMetrics()
    state = ServiceState(
        settings=settings,
        metrics=metrics,
        registry=ModelRegistry(settings, metrics, loader),
        guard=AccessGuard(
            settings.api_key_hashes,
            settings.rate_limit_per_minute,
            settings.rate_limit_burst,
            workers=settings.workers,
        ),
        limits=UploadLimits(settings.max_upload_bytes, settings.max_pixels),
        challenges=_challenge_service(settings, metrics),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await state.registry.start()
            if state.challenges is not None:
                await state.challenges.start()
            yield
        finally:
            if state.challenges is not None:
                await state.challenges.stop()
            await state.registry.stop()

    app = FastAPI(
        title="captchalab",
        version=captchalab.__version__,
        description="Solve text captchas you are authorised to test.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc need a CDN; /docs is a local page instead
        redoc_url=None,
        openapi_url=None,  # served by routes.openapi, keyed like /docs (protect_ops)
        middleware=_middleware(settings, metrics),
    )
    app.state.service = state
    _install_error_handlers(app, metrics)
    for router in ROUTERS:
        app.include_router(router)
    if state.challenges is not None:
        from captchalab.service.challenges.routes import router as challenge_router

        app.include_router(challenge_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def create_app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from ``server.run`` or ``CAPTCHALAB_*``."""
    raw = os.environ.get(SETTINGS_ENV)
    return create_app(ServiceSettings(**json.loads(raw)) if raw else None)


def _challenge_service(
    settings: ServiceSettings, metrics: ServiceMetrics
) -> ChallengeService | None:
    """The challenge service named by ``settings.challenges``, or None without a file."""
    if settings.challenges is None:
        return None
    from captchalab.service.challenges import ChallengeService, load_challenge_config

    return ChallengeService(
        load_challenge_config(settings.challenges),
        settings.database_url,
        metrics,
        secret=settings.challenge_secret,
    )


def _middleware(settings: ServiceSettings, metrics: ServiceMetrics) -> list[Middleware]:
    stack = [Middleware(MetricsMiddleware, metrics=metrics)]  # outermost: sees every response
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", API_KEY_HEADER],
                expose_headers=["Retry-After"],
                max_age=600,
            )
        )
    stack.append(Middleware(SecurityHeadersMiddleware))
    stack.append(Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes))
    return stack


def _install_error_handlers(app: FastAPI, metrics: ServiceMetrics) -> None:
    def error(status: int, kind: str, detail: str, headers: dict[str, str] | None = None):
        metrics.count_error(kind)
        body = {"error": kind, "detail": detail}
        return JSONResponse(body, status_code=status, headers=headers)

    async def on_service_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        return error(exc.status_code, exc.kind, exc.detail, exc.headers)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = _HTTP_KINDS.get(exc.status_code, "http_error")
        return error(exc.status_code, kind, str(exc.detail), dict(exc.headers or {}))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return error(422, "invalid_request", detail)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error(500, "internal_error", "internal server error")

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
