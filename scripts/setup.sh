#!/usr/bin/env bash
# Install captchalab with training, serving and development tools on a fresh Debian machine.
# torch is installed first and pinned, so pip never resolves a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  # Debian's Chromium drives the browser tests (Playwright uses it; no browser download).
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[train,dev]"
