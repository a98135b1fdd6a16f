"""``server.run`` and the environment factory, without binding a port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from captchalab.service import app as app_module
from captchalab.service import server
from captchalab.service.settings import ServiceSettings


def test_build_settings_ignores_unset_options_and_shares_cores() -> None:
    settings = server.build_settings({"m": "m.onnx"}, workers=1, batching=False, threads=None)
    assert settings.models == {"m": "m.onnx"}
    assert settings.batching is False
    assert settings.threads is None
    assert server.build_settings({"m": "m.onnx"}, workers=2).threads is not None


def test_run_passes_the_app_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    server.run({"m": "m.onnx"}, "127.0.0.1", 8123, workers=1, max_batch_size=3)
    app, options = calls[0]
    assert app.state.service.settings.max_batch_size == 3
    assert (options["host"], options["port"]) == ("127.0.0.1", 8123)


def test_workers_rebuild_the_same_settings(
    monkeypatch: pytest.MonkeyPatch, onnx_model_path: Path, png: bytes
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv(app_module.SETTINGS_ENV, raising=False)
    models = {"tiny": str(onnx_model_path)}
    server.run(models, "127.0.0.1", 8123, workers=2, api_key_hashes=["a" * 64])
    target, options = calls[0]
    assert target == "captchalab.service.app:create_app_from_environment"
    assert options["factory"] is True and options["workers"] == 2

    app = app_module.create_app_from_environment()  # what each worker process does
    settings: ServiceSettings = app.state.service.settings
    assert settings.models == models
    assert settings.api_key_hashes == ["a" * 64]
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200


def test_unexpected_errors_are_500_json(onnx_model_path: Path, png: bytes) -> None:
    from captchalab.inference import Solver

    real = Solver.load(str(onnx_model_path))

    class Failing:
        preprocessing = real.preprocessing

        def solve_arrays(self, batch: Any) -> list[Any]:
            raise RuntimeError("model exploded")

    settings = ServiceSettings(models={"tiny": "unused"}, rate_limit_per_minute=0)
    app = app_module.create_app(settings, loader=lambda path, threads: Failing())
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/solve", files={"image": png})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": "internal server error"}
