"""Random bytes, random JSON and random reading hints must never make the service answer 5xx."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from captchalab.service import ServiceSettings, create_app

from .conftest import image_bytes

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUTES = st.sampled_from(["/v1/solve", "/v1/solve/batch"])
MAGIC = st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF"])
CONTENT_TYPES = st.sampled_from(
    ["", "application/json", "multipart/form-data", "multipart/form-data; boundary=", "image/png"]
)
ASCII_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children)
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def fuzz_client(onnx_model_path) -> Iterator[TestClient]:
    # Module-scoped: hypothesis reruns the test body, which must not rebuild the app each time.
    app = create_app(
        ServiceSettings(models={"tiny": str(onnx_model_path)}, rate_limit_per_minute=0)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _assert_client_error_at_most(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "error" in response.json()


@FUZZ
@given(route=ROUTES, magic=MAGIC, payload=st.binary(max_size=512))
def test_random_uploads(fuzz_client: TestClient, route: str, magic: bytes, payload: bytes) -> None:
    field = "images" if route.endswith("batch") else "image"
    response = fuzz_client.post(route, files={field: ("f", magic + payload)})
    _assert_client_error_at_most(response)


@FUZZ
@given(route=ROUTES, body=JSON_VALUES)
def test_random_json(fuzz_client: TestClient, route: str, body: object) -> None:
    _assert_client_error_at_most(fuzz_client.post(route, json=body))


@FUZZ
@given(route=ROUTES, payload=st.binary(max_size=256), model=st.text(max_size=10) | st.none())
def test_random_base64_images(
    fuzz_client: TestClient, route: str, payload: bytes, model: str | None
) -> None:
    encoded = base64.b64encode(image_bytes()[:32] + payload).decode()
    body = {"images": [encoded]} if route.endswith("batch") else {"image": encoded}
    if model is not None:
        body["model"] = model
    _assert_client_error_at_most(fuzz_client.post(route, json=body))


@FUZZ
@given(prefix=CONTENT_TYPES, suffix=ASCII_TEXT, payload=st.binary(max_size=256))
def test_random_content_types(
    fuzz_client: TestClient, prefix: str, suffix: str, payload: bytes
) -> None:
    headers = {"content-type": (prefix + suffix).strip()}
    _assert_client_error_at_most(fuzz_client.post("/v1/solve", content=payload, headers=headers))


@FUZZ
@given(
    route=ROUTES,
    symbols=st.text(max_size=20) | st.sampled_from(["@digits", "@", "@@", "0123"]),
    case=st.none() | st.sampled_from(["insensitive", "sensitive", "x"]),
    length=st.none() | st.sampled_from(["4", "1-64", "0", "x"]),
    second_look=st.none() | st.sampled_from(["true", "0.7", "1", "0", "2", "x"]),
    as_json=st.booleans(),
)
def test_random_reading_hints(
    fuzz_client: TestClient,
    route: str,
    symbols: str,
    case: str | None,
    length: str | None,
    second_look: str | None,
    as_json: bool,
) -> None:
    batch = route.endswith("batch")
    hints = {"symbols": symbols, "case": case, "length": length, "second_look": second_look}
    hints = {name: value for name, value in hints.items() if value is not None}
    if as_json:
        image = base64.b64encode(image_bytes()).decode()
        body = {"images": [image]} if batch else {"image": image}
        response = fuzz_client.post(route, json={**body, **hints})
    else:
        files = {"images" if batch else "image": ("f.png", image_bytes())}
        response = fuzz_client.post(route, files=files, data=hints)
    _assert_client_error_at_most(response)
