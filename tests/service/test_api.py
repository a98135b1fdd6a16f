"""The HTTP API over the tiny untrained model: its answers are garbage but deterministic."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from captchalab.service import schemas
from captchalab.service.settings import ServiceSettings

from .conftest import ClientFactory, image_bytes


def _assert_result(body: dict, model: str = "tiny") -> None:
    schemas.SolveResult.model_validate(body, strict=True)  # the documented shape, exactly
    assert isinstance(body["text"], str)
    assert 0.0 <= body["confidence"] <= 1.0
    assert len(body["char_probs"]) == len(body["text"])
    assert body["model"] == model
    assert body["elapsed_ms"] >= 0


def test_solve_multipart(client: TestClient, png: bytes) -> None:
    response = client.post("/v1/solve", files={"image": ("x.png", png, "image/png")})
    assert response.status_code == 200, response.text
    _assert_result(response.json())


def test_solve_base64_json_matches_multipart(client: TestClient, png: bytes) -> None:
    multipart = client.post("/v1/solve", files={"image": ("x.png", png)}).json()
    encoded = base64.b64encode(png).decode()
    for image in (encoded, f"data:image/png;base64,{encoded}"):
        response = client.post("/v1/solve", json={"image": image})
        assert response.status_code == 200, response.text
        assert response.json()["text"] == multipart["text"]


def test_every_accepted_format_solves(client: TestClient) -> None:
    for fmt in ("PNG", "JPEG", "GIF", "WEBP", "BMP"):
        response = client.post("/v1/solve", files={"image": ("x", image_bytes(fmt))})
        assert response.status_code == 200, (fmt, response.text)


def test_model_selection_by_form_json_and_query(
    make_client: ClientFactory, png: bytes, onnx_model_path: Path
) -> None:
    client = make_client(models={"tiny": str(onnx_model_path), "other": str(onnx_model_path)})
    assert client.post("/v1/solve?model=other", files={"image": png}).json()["model"] == "other"
    form = client.post("/v1/solve", files={"image": png}, data={"model": "other"})
    assert form.json()["model"] == "other"
    body = {"image": base64.b64encode(png).decode(), "model": "other"}
    assert client.post("/v1/solve", json=body).json()["model"] == "other"
    missing = client.post("/v1/solve?model=nope", files={"image": png})
    assert missing.status_code == 404
    assert missing.json()["error"] == "unknown_model"


def test_batch_reports_bad_items_and_solves_the_rest(client: TestClient, png: bytes) -> None:
    files = [("images", ("a.png", png)), ("images", ("b.png", b"not an image")), ("images", png)]
    response = client.post("/v1/solve/batch", files=files)
    assert response.status_code == 200, response.text
    schemas.BatchResponse.model_validate(response.json())
    results = response.json()["results"]
    assert len(results) == 3
    _assert_result(results[0])
    assert results[1]["error"] == "unsupported_media_type"
    assert results[2]["text"] == results[0]["text"]

    encoded = base64.b64encode(png).decode()
    response = client.post("/v1/solve/batch", json={"images": [encoded, "@@not base64@@"]})
    results = response.json()["results"]
    _assert_result(results[0])
    assert results[1]["error"] == "invalid_request"


def test_batch_of_only_bad_images(make_client: ClientFactory) -> None:
    for batching in (True, False):
        client = make_client(batching=batching)
        response = client.post("/v1/solve/batch", files=[("images", b"x"), ("images", b"y")])
        assert response.status_code == 200, response.text
        assert [r["error"] for r in response.json()["results"]] == ["unsupported_media_type"] * 2


def test_batch_limits(make_client: ClientFactory, png: bytes) -> None:
    client = make_client(max_batch_images=2)
    encoded = base64.b64encode(png).decode()
    too_many = client.post("/v1/solve/batch", json={"images": [encoded] * 3})
    assert too_many.status_code == 422
    assert client.post("/v1/solve/batch", json={"images": []}).status_code == 422


def test_models_health_ready(client: TestClient) -> None:
    models = client.get("/v1/models").json()["models"]
    assert models[0]["name"] == "tiny"
    assert models[0]["default"] is True
    assert models[0]["input"] == {"height": 32, "width": 96, "channels": 1}
    assert "path" not in models[0]
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200
    assert client.get("/readyz").json() == {"status": "ready", "models": ["tiny"]}


def test_readyz_is_503_before_startup(service_settings) -> None:
    from captchalab.service import create_app

    client = TestClient(create_app(service_settings()))  # no lifespan: models never loaded
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"] == "not_ready"


def test_metrics_count_requests_batches_and_errors(client: TestClient, png: bytes) -> None:
    client.post("/v1/solve", files={"image": png})
    client.post("/v1/solve", files={"image": b"junk"})
    text = client.get("/metrics").text
    assert (
        'captchalab_http_requests_total{method="POST",route="/v1/solve",status="200"} 1.0' in text
    )
    assert (
        'captchalab_http_requests_total{method="POST",route="/v1/solve",status="415"} 1.0' in text
    )
    assert 'captchalab_batch_size_count{model="tiny"} 1.0' in text
    assert 'captchalab_errors_total{kind="unsupported_media_type"} 1.0' in text
    assert "captchalab_http_request_duration_seconds_bucket" in text


def test_unknown_paths_and_methods_are_json(client: TestClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong = client.get("/v1/solve")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"


def test_page_docs_and_openapi_are_local(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert client.head("/").status_code == 200
    assert 'id="drop-zone"' in page.text
    assert "http" not in page.text.split("<footer>")[0]  # no CDN, no external fonts
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/v1/solve/batch" in docs.text
    schema = client.get("/openapi.json").json()
    assert "multipart/form-data" in schema["paths"]["/v1/solve"]["post"]["requestBody"]["content"]
    assert client.get("/redoc").status_code == 404


def test_settings_parse_env_style_values(monkeypatch) -> None:
    monkeypatch.setenv("CAPTCHALAB_MODELS", "a=x.onnx, b=y.onnx")
    monkeypatch.setenv("CAPTCHALAB_CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("CAPTCHALAB_API_KEY_HASHES", "A" * 64)
    settings = ServiceSettings()
    assert settings.models == {"a": "x.onnx", "b": "y.onnx"}
    assert settings.default_model == "a"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.api_key_hashes == ["a" * 64]


def test_serving_does_not_import_torch(onnx_model_path: Path, png: bytes) -> None:
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from captchalab.service import create_app, ServiceSettings\n"
        "import captchalab.service.server\n"
        "app = create_app(ServiceSettings(models={'m': sys.argv[1]}))\n"
        "with TestClient(app) as client:\n"
        "    response = client.post('/v1/solve', files={'image': sys.stdin.buffer.read()})\n"
        "    assert response.status_code == 200, response.text\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    command = [sys.executable, "-c", code, str(onnx_model_path)]
    subprocess.run(command, input=png, check=True, timeout=120)
