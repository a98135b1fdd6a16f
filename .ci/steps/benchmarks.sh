#!/usr/bin/env bash
# CI step: install the captcha generators the benchmark tests (tests/benchmarks/) render
# with, at the versions benchmarks/requirements.txt pins, from PyPI. They need only Pillow,
# which the setup installed. Idempotent: pip skips what is already at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t pins < <(
  grep -E '^(claptcha|multicolorcaptcha|wheezy\.captcha)==' benchmarks/requirements.txt |
    sed 's/[[:space:]]*#.*//'
)
if [ "${#pins[@]}" -ne 3 ]; then
  echo "benchmarks/requirements.txt must pin claptcha, multicolorcaptcha and wheezy.captcha" >&2
  exit 1
fi
python -m pip install --disable-pip-version-check "${pins[@]}"
python -c "import claptcha, multicolorcaptcha; from wheezy.captcha import image" &&
  echo "benchmark generators installed: ${pins[*]}"
