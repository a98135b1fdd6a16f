"""The ``symbols`` field: answers that use only a site's symbols, as the library reads them."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from captchalab.charset import resolve_symbols
from captchalab.inference import Solver
from captchalab.service import ServiceSettings, create_app, models
from captchalab.service.models import Hints
from tests.service.conftest import ClientFactory, hku_pngs

# `hku` texts mix digits and both cases: told a site writes lower case only, the shipped model
# changes some answers (and every confidence) whatever its accuracy.
LOWER = "@lower"
SITE = "23456789abcdefghkmnpqrstuvwxyz"  # a site's own symbols, given one by one


def _hku_pngs(count: int = 6) -> list[bytes]:
    return hku_pngs(count)


def _b64(image: bytes) -> str:
    return base64.b64encode(image).decode()


@pytest.fixture
def default_client(make_client: ClientFactory) -> TestClient:
    return make_client(models={"default": "default"})


def test_symbols_in_form_json_and_query_match_the_library(default_client: TestClient) -> None:
    images = _hku_pngs()
    reference = Solver.load("default")
    lower = reference.restricted(resolve_symbols(LOWER))
    site = reference.restricted(SITE)
    assert any(reference.solve(i).text != lower.solve(i).text for i in images)  # work for it
    for image in images:
        expected = lower.solve(image)
        assert set(expected.text) <= set(resolve_symbols(LOWER))
        form = default_client.post("/v1/solve", files={"image": image}, data={"symbols": LOWER})
        as_json = default_client.post("/v1/solve", json={"image": _b64(image), "symbols": LOWER})
        for response in (form, as_json):
            assert response.status_code == 200, response.text
            assert response.json()["text"] == expected.text
            assert response.json()["confidence"] == pytest.approx(expected.confidence)
            assert response.json()["char_probs"] == pytest.approx(expected.char_probs)
            assert response.json()["symbols"] == "abcdefghijklmnopqrstuvwxyz"
        query = default_client.post(f"/v1/solve?symbols={SITE}", files={"image": image})
        assert query.status_code == 200, query.text
        assert query.json()["text"] == site.solve(image).text
        assert query.json()["confidence"] == pytest.approx(site.solve(image).confidence)
        assert query.json()["symbols"] == "23456789abcdefghkmnpqrstuvwxyz"
        # a body field takes precedence over the query parameter
        both = default_client.post(
            "/v1/solve?symbols=@digits", files={"image": image}, data={"symbols": LOWER}
        )
        assert both.json()["text"] == expected.text
        without = default_client.post("/v1/solve", files={"image": image})
        assert without.json()["text"] == reference.solve(image).text
        assert "symbols" not in without.json()


def test_symbols_combine_with_case_and_length(default_client: TestClient) -> None:
    images = _hku_pngs(8)
    expected = (
        Solver.load("default").restricted(SITE).case_insensitive().with_lengths(4).solve(images)
    )
    assert {len(p.text) for p in expected} == {4}
    fields = {"symbols": SITE, "case": "insensitive", "length": "4"}
    batch = default_client.post(
        "/v1/solve/batch", files=[("images", image) for image in images], data=fields
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["text"] for r in results] == [p.text for p in expected]
    assert [r["confidence"] for r in results] == pytest.approx([p.confidence for p in expected])
    assert {(r["case"], r["length"], r["symbols"]) for r in results} == {
        ("insensitive", "4", "23456789abcdefghkmnpqrstuvwxyz")
    }
    as_json = default_client.post(
        "/v1/solve/batch", json={"images": [_b64(i) for i in images], **fields, "length": 4}
    )
    assert [r["text"] for r in as_json.json()["results"]] == [p.text for p in expected]
    query = default_client.post(
        f"/v1/solve?symbols={SITE}&case=insensitive&length=4", files={"image": images[0]}
    )
    assert query.status_code == 200, query.text
    assert query.json()["text"] == expected[0].text


def test_batch_with_symbols_keeps_per_image_errors(default_client: TestClient) -> None:
    images = _hku_pngs(2)
    files = [("images", images[0]), ("images", b"not an image"), ("images", images[1])]
    response = default_client.post("/v1/solve/batch", files=files, data={"symbols": LOWER})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    expected = Solver.load("default").restricted(resolve_symbols(LOWER)).solve(images)
    assert [results[0]["text"], results[2]["text"]] == [p.text for p in expected]
    assert results[1]["error"] == "unsupported_media_type"  # not a known image format


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("@nope", "unknown named set '@nope'; known: @alnum"),
        ("abc!", "cannot read '!'"),
        ("", "at least one symbol"),
    ],
)
def test_bad_symbols_are_a_clear_422(client: TestClient, png: bytes, bad: str, says: str) -> None:
    for response in (
        client.post("/v1/solve", files={"image": png}, data={"symbols": bad}),
        client.post(f"/v1/solve?symbols={bad}", files={"image": png}),
        client.post("/v1/solve", json={"image": _b64(png), "symbols": bad}),
        client.post("/v1/solve/batch", files={"images": png}, data={"symbols": bad}),
        # a bad hint is refused even when no image could be read
        client.post("/v1/solve/batch", files={"images": b"junk"}, data={"symbols": bad}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid_request"
        assert "symbols" in response.json()["detail"] and says in response.json()["detail"]
    for value in (7, ["a"], True, {"a": 1}):
        response = client.post("/v1/solve", json={"image": _b64(png), "symbols": value})
        assert response.status_code == 422, response.text


def test_requests_with_the_same_symbols_share_a_view_and_batches(
    service_settings: Callable[..., ServiceSettings], png: bytes
) -> None:
    app = create_app(service_settings(max_batch_size=32))

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return list(
                    await asyncio.gather(
                        *(
                            client.post(
                                "/v1/solve",
                                files={"image": png},
                                data={"symbols": "0123" if i % 2 else "3210"},
                            )
                            for i in range(16)
                        )
                    )
                )

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200] * 16
    assert all(set(r.json()["text"]) <= set("0123") for r in responses)
    registry = app.state.service.metrics.registry
    labels = {"model": "tiny"}
    assert registry.get_sample_value("captchalab_batch_size_sum", labels) == 16
    assert registry.get_sample_value("captchalab_batch_size_count", labels) < 16
    loaded = app.state.service.registry.models["tiny"]
    assert list(loaded._views) == [Hints(None, "0123", None)]  # one view for both orders


def test_views_are_reused_and_bounded(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = client.app.state.service.registry.models["tiny"]  # type: ignore[attr-defined]
    first = loaded.solver_for(Hints(symbols="01"))
    assert loaded.solver_for(Hints(symbols="100")) is first  # order and repeats do not matter
    assert loaded.solver_for(Hints("insensitive", "01")) is not first
    assert loaded.solver_for(Hints(None, "01", frozenset({4}))).lengths == frozenset({4})
    monkeypatch.setattr(models, "MAX_VIEWS", 3)
    for size in range(1, 10):
        loaded.solver_for(Hints(symbols="0123456789"[:size]))
    assert list(loaded._views) == [Hints(symbols="0123456789"[:n]) for n in (7, 8, 9)]


def test_symbols_are_documented_in_the_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/v1/solve", "/v1/solve/batch"):
        operation = schema["paths"][path]["post"]
        assert "symbols" in [p["name"] for p in operation["parameters"]]
        content = operation["requestBody"]["content"]
        assert (
            "@digits"
            in content["multipart/form-data"]["schema"]["properties"]["symbols"]["description"]
        )
        assert "symbols" in content["application/json"]["schema"]["properties"]
    result = schema["components"]["schemas"]["SolveResult"]["properties"]
    assert "symbols" in result
