// The parity fixtures written by scripts/extension_fixtures.py from the Python code.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

const url = new URL("./fixtures/parity.json.gz", import.meta.url);
export const fixtures = JSON.parse(gunzipSync(readFileSync(url)).toString("utf8"));

export function bytes(b64) {
  return new Uint8Array(Buffer.from(b64, "base64"));
}

export function float32(b64) {
  const raw = bytes(b64);
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
