"""The ``length`` field: answers of a site's known length over HTTP, as the library reads them."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from captchalab.inference import Solver
from tests.service.conftest import ClientFactory, hku_pngs

# `hku` texts are 4-6 long: asked for 4, a model that reads them well answers the longer ones
# with a wrong length, so both paths of the service run (batched answer kept, answer read
# again) whatever the shipped model's accuracy.
ASKED = 4


def _hku_pngs(count: int = 8) -> list[bytes]:
    return hku_pngs(count)


def _both_paths(images: list[bytes]) -> None:
    lengths = [len(p.text) for p in Solver.load("default").solve(images)]
    assert ASKED in lengths and any(n != ASKED for n in lengths), lengths


@pytest.fixture
def default_client(make_client: ClientFactory) -> TestClient:
    return make_client(models={"default": "default"})


def test_length_in_form_json_and_query_matches_the_library(default_client: TestClient) -> None:
    images = _hku_pngs()
    _both_paths(images)
    reference = Solver.load("default")
    fitted = reference.with_lengths(ASKED)
    for image in images:
        plain = reference.solve(image).text
        expected = fitted.solve(image)
        assert len(expected.text) == ASKED
        form = default_client.post("/v1/solve", files={"image": image}, data={"length": "4"})
        as_json = default_client.post(
            "/v1/solve", json={"image": base64.b64encode(image).decode(), "length": ASKED}
        )
        query = default_client.post("/v1/solve?length=4-5", files={"image": image})
        for response in (form, as_json):
            assert response.status_code == 200, response.text
            assert response.json()["text"] == expected.text
            assert response.json()["confidence"] == pytest.approx(expected.confidence)
            assert response.json()["length"] == "4"
        assert query.status_code == 200, query.text
        assert query.json()["text"] == reference.with_lengths("4-5").solve(image).text
        assert query.json()["length"] == "4-5"
        without = default_client.post("/v1/solve", files={"image": image})
        assert without.json()["text"] == plain and "length" not in without.json()


def test_batch_reads_misfits_again_and_keeps_the_rest(default_client: TestClient) -> None:
    images = _hku_pngs()
    _both_paths(images)
    response = default_client.post(
        "/v1/solve/batch",
        files=[("images", image) for image in images],
        data={"length": "4", "case": "insensitive"},
    )
    assert response.status_code == 200, response.text
    expected = Solver.load("default").case_insensitive().with_lengths(ASKED).solve(images)
    results = response.json()["results"]
    assert [r["text"] for r in results] == [p.text for p in expected]
    assert {len(r["text"]) for r in results} == {ASKED}
    assert {r["length"] for r in results} == {"4"}


@pytest.mark.parametrize("bad", ["0", "6-4", "five", "4,,5", "65"])
def test_bad_length_is_a_clear_422(client: TestClient, png: bytes, bad: str) -> None:
    for response in (
        client.post("/v1/solve", files={"image": png}, data={"length": bad}),
        client.post(f"/v1/solve?length={bad}", files={"image": png}),
        client.post("/v1/solve", json={"image": base64.b64encode(png).decode(), "length": bad}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid_request"
        assert "length" in response.json()["detail"]
    for value in (True, 4.5, [4]):
        response = client.post(
            "/v1/solve", json={"image": base64.b64encode(png).decode(), "length": value}
        )
        assert response.status_code == 422, response.text


def test_length_is_documented_in_the_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    solve = schema["paths"]["/v1/solve"]["post"]
    assert "length" in [p["name"] for p in solve["parameters"]]
    form = solve["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "length" in form["properties"]
