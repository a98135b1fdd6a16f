"""``captchalab serve``: each setting from its flag, else CAPTCHALAB_*, else the default."""

from __future__ import annotations

import os
from typing import Any

import pytest
from typer.testing import CliRunner

from captchalab.cli import app
from captchalab.service import app as app_module
from captchalab.service import server
from captchalab.service.settings import ServiceSettings

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """What ``serve`` hands to uvicorn, in a clean environment."""
    for name in list(os.environ):
        if name.startswith("CAPTCHALAB_"):
            monkeypatch.delenv(name)
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    return calls


def _settings(calls: list[tuple[Any, dict[str, Any]]]) -> ServiceSettings:
    (target, _options) = calls[-1]
    return target.state.service.settings


def test_defaults(served: list[Any]) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    settings = _settings(served)
    assert settings.models == {"default": "default"}
    assert settings.batching is True and settings.workers == 1


def test_environment_over_defaults(served: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTCHALAB_MODELS", "fast=fast.onnx,big=big.onnx")
    monkeypatch.setenv("CAPTCHALAB_BATCHING", "false")
    monkeypatch.setenv("CAPTCHALAB_THREADS", "3")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert "serving fast, big" in result.output
    settings = _settings(served)
    assert settings.models == {"fast": "fast.onnx", "big": "big.onnx"}
    assert settings.default_model == "fast"
    assert settings.batching is False and settings.threads == 3


def test_flags_over_environment(served: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTCHALAB_MODELS", "fast=fast.onnx")
    monkeypatch.setenv("CAPTCHALAB_BATCHING", "false")
    monkeypatch.setenv("CAPTCHALAB_WORKERS", "3")
    result = runner.invoke(app, ["serve", "--model", "mine=m.onnx", "--batching", "--workers", "1"])
    assert result.exit_code == 0, result.output
    settings = _settings(served)
    assert settings.models == {"mine": "m.onnx"}
    assert settings.batching is True and settings.workers == 1


def test_workers_from_the_environment(served: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTCHALAB_MODELS", "fast=fast.onnx")
    monkeypatch.setenv("CAPTCHALAB_WORKERS", "2")
    monkeypatch.setenv(app_module.SETTINGS_ENV, "")  # restored afterwards
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    target, options = served[-1]
    assert target == "captchalab.service.app:create_app_from_environment"
    assert options["workers"] == 2
    rebuilt = app_module.create_app_from_environment().state.service.settings
    assert rebuilt.models == {"fast": "fast.onnx"} and rebuilt.workers == 2


def test_bad_environment_is_a_clear_error(
    served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPTCHALAB_MODELS", "no-equals-sign")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code != 0 and not served
    assert "name=path" in result.output
