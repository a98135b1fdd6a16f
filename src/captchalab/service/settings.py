"""Service configuration: one pydantic-settings object read from ``CAPTCHALAB_*`` variables.

Lists accept JSON or comma-separated text (``CAPTCHALAB_CORS_ORIGINS=https://a,https://b``);
``CAPTCHALAB_MODELS`` accepts JSON or ``name=path`` pairs (``default=default,fast=m.onnx``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MIB = 1024 * 1024
DEFAULT_MODELS = {"default": "default"}


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class ServiceSettings(BaseSettings):
    """Everything the HTTP service can be told; defaults are safe for a public deployment."""

    model_config = SettingsConfigDict(env_prefix="CAPTCHALAB_", extra="forbid")

    # Models: name -> ONNX path (or "default" for the shipped model); the first is the default.
    models: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_MODELS)
    )
    threads: int | None = Field(default=None, ge=1, description="onnxruntime intra-op threads")

    # Micro-batching: coalesce concurrent requests into one solve_arrays call per model.
    batching: bool = True
    max_batch_size: int = Field(default=32, ge=1)
    queue_size: int = Field(default=256, ge=1, description="images waiting per model; full -> 503")
    max_batch_images: int = Field(default=64, ge=1, description="images per /v1/solve/batch call")

    # Safety.
    api_key_hashes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    protect_ops: bool = Field(
        default=True,
        description="with API keys set, /metrics, /docs and /openapi.json need a key too",
    )
    rate_limit_per_minute: float = Field(
        default=300.0, ge=0, description="per key (or client address without keys); 0 disables"
    )
    rate_limit_burst: int = Field(default=60, ge=1)
    workers: int = Field(
        default=1, ge=1, description="server processes; each enforces 1/workers of the limits"
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="proxies (IPs, CIDR networks or *) whose X-Forwarded-For is believed",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_upload_bytes: int = Field(default=2 * MIB, ge=1, description="request body limit")
    # A captcha is rarely above 400 x 150 (60k pixels); this leaves room for screenshots.
    max_pixels: int = Field(default=500_000, ge=1, description="width * height limit")

    # Challenges (``serve --challenges FILE``) and their store.
    challenges: str | None = Field(
        default=None, description="challenge file (YAML): mounts /v1/challenges"
    )
    database_url: str | None = Field(
        default=None, description="store URL (default: sqlite:///captchalab.db)"
    )
    challenge_secret: str | None = Field(
        default=None,
        repr=False,
        description="HMAC key for texts and client addresses (default: generated, in the store)",
    )

    # Operations.
    access_log: bool = Field(
        default=False,
        description="uvicorn's line per request (costly under load; /metrics counts every one)",
    )

    @field_validator("api_key_hashes", "cors_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("api_key_hashes")
    @classmethod
    def _check_hashes(cls, hashes: list[str]) -> list[str]:
        normalised = [h.strip().lower() for h in hashes]
        bad = [h for h in normalised if not _SHA256_HEX.match(h)]
        if bad:
            raise ValueError("api_key_hashes must be SHA-256 hex digests (64 hex characters)")
        return normalised

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_proxies(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(
                        f"forwarded_allow_ips: {entry!r} is not an IP address, a network or *"
                    ) from None
        return entries

    @field_validator("models", mode="before")
    @classmethod
    def _parse_models(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                return json.loads(text)
            pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("models must be JSON or name=path pairs separated by commas")
            return {name.strip(): path.strip() for name, path in pairs}
        return value

    @field_validator("models")
    @classmethod
    def _check_models(cls, models: dict[str, str]) -> dict[str, str]:
        if not models:
            raise ValueError("at least one model is required")
        return models

    @model_validator(mode="after")
    def _check_queue(self) -> ServiceSettings:
        if self.max_batch_images > self.queue_size:
            raise ValueError("max_batch_images must not exceed queue_size")
        return self

    @property
    def default_model(self) -> str:
        return next(iter(self.models))
