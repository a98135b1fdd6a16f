"""The ``case`` field: case-insensitive reading over HTTP, batched apart from plain reading."""

from __future__ import annotations

import base64
import io

import pytest
from fastapi.testclient import TestClient

from captchalab.inference import Solver
from captchalab.schemes import get_scheme
from tests.service.conftest import ClientFactory


def _hku_png(index: int) -> bytes:
    image, _ = get_scheme("hku").sample_at(11, index)  # both cases of most letters
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def default_client(make_client: ClientFactory) -> TestClient:
    return make_client(models={"default": "default"})


def test_case_field_in_form_json_and_query(default_client: TestClient) -> None:
    images = [_hku_png(i) for i in range(4)]
    reference = Solver.load("default")
    folded = reference.case_insensitive()
    for image in images:
        plain = default_client.post("/v1/solve", files={"image": image})
        assert plain.status_code == 200, plain.text
        assert plain.json()["case"] == "sensitive"
        assert plain.json()["text"] == reference.solve(image).text
        expected = folded.solve(image).text
        assert expected == expected.lower()
        form = default_client.post(
            "/v1/solve", files={"image": image}, data={"case": "insensitive"}
        )
        body = {"image": base64.b64encode(image).decode(), "case": "insensitive"}
        as_json = default_client.post("/v1/solve", json=body)
        query = default_client.post("/v1/solve?case=insensitive", files={"image": image})
        for response in (form, as_json, query):
            assert response.status_code == 200, response.text
            assert response.json()["text"] == expected
            assert response.json()["case"] == "insensitive"


def test_batch_reads_every_image_with_the_requested_case(default_client: TestClient) -> None:
    images = [_hku_png(i) for i in range(5)]
    files = [("images", image) for image in images]
    response = default_client.post("/v1/solve/batch", files=files, data={"case": "insensitive"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    expected = Solver.load("default").case_insensitive().solve(images)
    assert [r["text"] for r in results] == [p.text for p in expected]
    assert {r["case"] for r in results} == {"insensitive"}


def test_unknown_case_is_a_clear_422(client: TestClient, png: bytes) -> None:
    for response in (
        client.post("/v1/solve", files={"image": png}, data={"case": "lower"}),
        client.post("/v1/solve?case=lower", files={"image": png}),
        client.post("/v1/solve", json={"image": base64.b64encode(png).decode(), "case": "x"}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid_request"
        assert "case" in response.json()["detail"]


def test_case_is_documented_in_the_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    solve = schema["paths"]["/v1/solve"]["post"]
    assert "case" in [p["name"] for p in solve["parameters"]]
    form = solve["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["case"]["enum"] == ["sensitive", "insensitive"]
