"""Random bodies, ids and content types must never make the challenge API answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from captchalab.service import ServiceSettings, create_app

from .challenge_helpers import challenge_file, labelled_folder
from .test_fuzz import ASCII_TEXT, CONTENT_TYPES, JSON_VALUES

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IDS = st.text(max_size=40) | st.sampled_from(["", "A" * 22, "%00", "..", "a/b", "x" * 500])


@pytest.fixture(scope="module")
def fuzz_client(
    onnx_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("fuzz")
    labelled_folder(folder / "served", count=4)
    file = challenge_file(
        folder / "c.yaml", scheme="hku", source="folder", folder="served", pool_size=4
    )
    settings_ = ServiceSettings(
        models={"tiny": str(onnx_model_path)},
        rate_limit_per_minute=0,
        challenges=str(file),
        database_url=f"sqlite:///{folder / 'store.db'}",
    )
    with TestClient(create_app(settings_), raise_server_exceptions=False) as client:
        yield client


def _assert_client_error_at_most(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "error" in response.json()


_live: dict[str, str] = {}


def _live_id(client: TestClient) -> str:
    """An unanswered challenge: bad bodies leave it so, so it is reused until answered."""
    if "id" not in _live:
        response = client.post("/v1/challenges")
        assert response.status_code == 200, response.text
        _live["id"] = response.json()["id"]
    return _live["id"]


def _answer(client: TestClient, challenge_id: str, **kwargs: object):
    response = client.post(f"/v1/challenges/{quote(challenge_id, safe='')}/answer", **kwargs)
    if response.status_code == 200:
        _live.pop("id", None)  # consumed
    return response


@FUZZ
@given(body=JSON_VALUES, fresh=st.booleans())
def test_random_json_answers(fuzz_client: TestClient, body: object, fresh: bool) -> None:
    challenge_id = _live_id(fuzz_client) if fresh else "B" * 22
    _assert_client_error_at_most(_answer(fuzz_client, challenge_id, json=body))


@FUZZ
@given(answer=st.text(max_size=80))
def test_random_answer_texts(fuzz_client: TestClient, answer: str) -> None:
    response = _answer(fuzz_client, _live_id(fuzz_client), json={"answer": answer})
    _assert_client_error_at_most(response)


@FUZZ
@given(challenge_id=IDS, payload=st.binary(max_size=256))
def test_random_ids_and_bytes(fuzz_client: TestClient, challenge_id: str, payload: bytes) -> None:
    headers = {"content-type": "application/json"}
    _assert_client_error_at_most(
        _answer(fuzz_client, challenge_id, content=payload, headers=headers)
    )


@FUZZ
@given(prefix=CONTENT_TYPES, suffix=ASCII_TEXT, payload=st.binary(max_size=256))
def test_random_content_types(
    fuzz_client: TestClient, prefix: str, suffix: str, payload: bytes
) -> None:
    headers = {"content-type": (prefix + suffix).strip()}
    _assert_client_error_at_most(
        fuzz_client.post("/v1/challenges", content=payload, headers=headers)
    )
    response = _answer(fuzz_client, _live_id(fuzz_client), content=payload, headers=headers)
    _assert_client_error_at_most(response)
