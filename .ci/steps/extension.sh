#!/usr/bin/env bash
# CI for the browser extension: Node and npm from Debian, onnxruntime-web from npm (npm ci,
# pinned by extension/package-lock.json), then the build and the JavaScript unit tests.
# The Python end-to-end tests (tests/extension/) run later under `python -m pytest -q` and
# use this build's node_modules. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -qq nodejs npm >/dev/null
fi
node --version
(cd extension && npm ci --no-audit --no-fund)
node extension/build.mjs
(cd extension && node --test test/)
