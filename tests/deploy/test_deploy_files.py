"""deploy/: the names its files use (settings, metrics, routes) are the ones captchalab has.

Schema validation of the same files (kubectl kustomize | kubernetes-validate --strict, the
compose-spec schema, hadolint) needs external tools and runs in .ci/steps/deploy.sh.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main
import yaml

from captchalab.cli import app
from captchalab.service import ServiceSettings, create_app
from captchalab.service.metrics import ServiceMetrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count")}


def deploy_text() -> str:
    files = [p for p in sorted(DEPLOY.rglob("*")) if p.is_file()]
    assert len(files) > 10
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def exported_metric_names() -> set[str]:
    names = set()
    for family in ServiceMetrics().registry.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
    return names


def known_settings() -> set[str]:
    known = {f"CAPTCHALAB_{name.upper()}" for name in ServiceSettings.model_fields}
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    known |= {param.envvar for param in serve.params if isinstance(param.envvar, str)}
    return known


def test_every_metric_deploy_uses_is_exported() -> None:
    used = set(re.findall(r"\bcaptchalab_[a-z_]+\b", deploy_text()))
    used = {name for name in used if not name.startswith("captchalab_http_requests_per")}
    assert "captchalab_http_request_duration_seconds_bucket" in used
    missing = used - exported_metric_names()
    assert not missing, f"deploy/ uses metrics the service does not export: {sorted(missing)}"


def test_every_setting_deploy_uses_exists() -> None:
    used = set(re.findall(r"\bCAPTCHALAB_[A-Z_]+\b", deploy_text()))
    assert {"CAPTCHALAB_PORT", "CAPTCHALAB_MODELS"} <= used
    unknown = used - known_settings()
    assert not unknown, f"deploy/ sets unknown CAPTCHALAB_* variables: {sorted(unknown)}"


def test_dashboard_has_the_panels_operators_need() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "captchalab.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    for name in [
        "captchalab_http_requests_total",
        "captchalab_http_request_duration_seconds_bucket",
        "captchalab_batch_size_count",
        "captchalab_errors_total",
        "captchalab_challenge_answers_total",
        "captchalab_challenge_length_anomalies_total",
    ]:
        assert name in exprs
    assert "histogram_quantile(0.5" in exprs and "histogram_quantile(0.99" in exprs


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probe_paths_exist(path: str) -> None:
    assert path in create_app(ServiceSettings()).openapi()["paths"]
    assert path in deploy_text()


def test_kubernetes_containers_are_locked_down() -> None:
    docs = []
    for path in sorted((DEPLOY / "kubernetes").rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    pods = [d["spec"]["template"]["spec"] for d in docs if d.get("kind") in ("Deployment", "Job")]
    assert len(pods) == 3
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"])
