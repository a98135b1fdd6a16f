#!/usr/bin/env bash
# Build the browser extension and zip it for "Load unpacked" (unzip first) or a store upload:
#   scripts/pack_extension.sh            -> dist/captchalab-extension-<version>.zip
# The version is pyproject.toml's; needs `npm ci` in extension/ once (no network here).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d extension/node_modules/onnxruntime-web ]; then
  echo "pack_extension: run 'npm ci' in extension/ first (it installs onnxruntime-web)" >&2
  exit 1
fi
node extension/build.mjs --out extension/dist
version="$(python3 -c 'import json; print(json.load(open("extension/dist/manifest.json"))["version"])')"
mkdir -p dist
zip_path="dist/captchalab-extension-${version}.zip"
python3 - "$zip_path" <<'PY'
import sys
import zipfile
from pathlib import Path

root = Path("extension/dist")
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        info = zipfile.ZipInfo(str(path.relative_to(root)), date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, path.read_bytes())
PY
echo "wrote ${zip_path} ($(du -k "$zip_path" | cut -f1) KiB)"
