"""The ``second_look`` field: answers below a confidence are read again with other views of
their image, as ``Solver.with_second_look`` reads them."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from captchalab.inference import Solver
from tests.service.conftest import ClientFactory, hku_pngs


@pytest.fixture
def default_client(make_client: ClientFactory) -> TestClient:
    return make_client(models={"default": "default"})


def _b64(image: bytes) -> str:
    return base64.b64encode(image).decode()


def test_second_look_in_form_json_and_query_matches_the_library(
    default_client: TestClient,
) -> None:
    images = hku_pngs(8)
    reference = Solver.load("default")
    looking = reference.with_second_look(0.9)
    plain, looked = reference.solve(images), looking.solve(images)
    assert any(a.text != b.text for a, b in zip(plain, looked, strict=True))  # work for it
    for image, expected in zip(images, looked, strict=True):
        form = default_client.post("/v1/solve", files={"image": image}, data={"second_look": "0.9"})
        as_json = default_client.post("/v1/solve", json={"image": _b64(image), "second_look": 0.9})
        query = default_client.post("/v1/solve?second_look=0.9", files={"image": image})
        for response in (form, as_json, query):
            assert response.status_code == 200, response.text
            assert response.json()["text"] == expected.text
            assert response.json()["confidence"] == pytest.approx(expected.confidence)
            assert response.json()["second_look"] == 0.9
    without = default_client.post("/v1/solve", files={"image": images[0]})
    assert "second_look" not in without.json()
    assert without.json()["text"] == plain[0].text


def test_second_look_true_takes_the_default_threshold_and_combines_with_hints(
    default_client: TestClient,
) -> None:
    images = hku_pngs(6)
    expected = (
        Solver.load("default").restricted("23456789abcdefghkmnpqrstuvwxyz").case_insensitive()
    )
    expected = expected.with_lengths("4-6").with_second_look().solve(images)
    fields = {
        "symbols": "23456789abcdefghkmnpqrstuvwxyz",
        "case": "insensitive",
        "length": "4-6",
        "second_look": "true",
    }
    batch = default_client.post(
        "/v1/solve/batch", files=[("images", image) for image in images], data=fields
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["text"] for r in results] == [p.text for p in expected]
    assert {r["second_look"] for r in results} == {0.5}
    as_json = default_client.post(
        "/v1/solve/batch", json={"images": [_b64(i) for i in images], "second_look": True}
    )
    assert as_json.status_code == 200, as_json.text
    off = default_client.post("/v1/solve", json={"image": _b64(images[0]), "second_look": False})
    assert off.status_code == 200 and "second_look" not in off.json()


@pytest.mark.parametrize("bad", ["0", "1.5", "-1", "maybe", "nan", ""])
def test_a_bad_second_look_is_a_clear_422(default_client: TestClient, bad: str) -> None:
    image = hku_pngs(1)[0]
    response = default_client.post("/v1/solve", files={"image": image}, data={"second_look": bad})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert "second_look" in response.json()["detail"]
    as_json = default_client.post("/v1/solve", json={"image": _b64(image), "second_look": "yes"})
    assert as_json.status_code == 422  # JSON takes true / false / a number
