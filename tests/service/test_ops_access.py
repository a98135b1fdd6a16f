"""With API keys required, /metrics, /docs and /openapi.json need one too (``protect_ops``)."""

from __future__ import annotations

import pytest

from captchalab.service.security import hash_api_key
from captchalab.service.settings import ServiceSettings

from .conftest import ClientFactory

KEY = "s3cret-key"
OPS_PAGES = ["/metrics", "/docs", "/openapi.json"]


@pytest.mark.parametrize("path", OPS_PAGES)
def test_ops_pages_need_a_key_when_keys_are_required(make_client: ClientFactory, path: str) -> None:
    assert ServiceSettings().protect_ops is True  # the documented default
    client = make_client(api_key_hashes=[hash_api_key(KEY)])
    refused = client.get(path)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    assert client.get(path, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get(path, headers={"X-API-Key": KEY}).status_code == 200
    assert client.get("/healthz").status_code == 200  # probes stay open
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("path", OPS_PAGES)
def test_ops_pages_open_when_configured_or_without_keys(
    make_client: ClientFactory, path: str
) -> None:
    open_ops = make_client(api_key_hashes=[hash_api_key(KEY)], protect_ops=False)
    assert open_ops.get(path).status_code == 200
    assert make_client().get(path).status_code == 200


def test_openapi_json_is_the_schema(make_client: ClientFactory) -> None:
    schema = make_client().get("/openapi.json").json()
    assert "/v1/solve" in schema["paths"] and schema["info"]["title"] == "captchalab"
