"""Service fixtures: an app over the tiny ONNX model, a client factory and sample images."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from captchalab.service import ServiceSettings, create_app

ClientFactory = Callable[..., TestClient]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (96, 32), text: str = "1234") -> bytes:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text((8, 8), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def png() -> bytes:
    return image_bytes()


@pytest.fixture(scope="session")
def service_settings(onnx_model_path: Path) -> Callable[..., ServiceSettings]:
    """Settings over the tiny model with rate limiting off; keywords override."""

    def build(**overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "models": {"tiny": str(onnx_model_path)},
            "rate_limit_per_minute": 0,
            "threads": 1,
        }
        return ServiceSettings(**{**values, **overrides})

    return build


@pytest.fixture
def make_client(service_settings: Callable[..., ServiceSettings]) -> Iterator[ClientFactory]:
    """``make_client(**settings)`` -> a started TestClient (lifespan run), closed afterwards."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        app = create_app(service_settings(**overrides))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


def hku_pngs(count: int) -> list[bytes]:
    """``count`` PNG-encoded ``hku`` captchas (a fixed seed): 4-6 characters, digits and both
    cases, so reading hints (case, symbols, length) change some answers."""
    from captchalab.schemes import get_scheme

    images = []
    for index in range(count):
        image, _ = get_scheme("hku").sample_at(11, index)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        images.append(buffer.getvalue())
    return images
