// Assemble extension/dist/ (load it unpacked, or zip it with scripts/pack_extension.sh) from
// the sources, onnxruntime-web's WASM build from node_modules (npm ci), and the shipped model.
// No network: everything comes from this checkout.
//
//   node extension/build.mjs [--out DIR]

import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");
const args = process.argv.slice(2);
const out = resolve(args.includes("--out") ? args[args.indexOf("--out") + 1] : join(here, "dist"));

// Exactly the onnxruntime-web files the service worker loads: the bundled WASM-only ES module
// (its JavaScript glue inlined, as service workers forbid import()) and its SIMD binary.
const ORT_FILES = ["ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"];
const MODEL = join(repo, "src", "captchalab", "assets", "default.onnx");

function fail(message) {
  console.error(`build_extension: ${message}`);
  process.exit(1);
}

function projectVersion() {
  const text = readFileSync(join(repo, "pyproject.toml"), "utf8");
  const match = text.match(/^\[project\][^[]*?^version\s*=\s*"([^"]+)"/ms);
  if (!match) fail("no [project] version in pyproject.toml");
  const version = match[1].replace(/[^0-9.]/g, "").replace(/^\.|\.$/g, "");
  if (!/^\d+(\.\d+){0,3}$/.test(version)) fail(`version ${match[1]} cannot be a Chrome version`);
  return version;
}

// A captchalab-blue rounded square with a white "C" stroke, as PNG, drawn here so the
// repository holds no binary icons.
function icon(size) {
  const pixels = Buffer.alloc(size * size * 4);
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = Math.max(Math.abs(x - c) - size * 0.3, 0);
      const dy = Math.max(Math.abs(y - c) - size * 0.3, 0);
      const inside = Math.hypot(dx, dy) <= size * 0.2;
      const r = Math.hypot(x - c, y - c) / size;
      const angle = Math.atan2(y - c, x - c);
      const ring = r > 0.19 && r < 0.31 && Math.abs(angle) > 0.7;
      const i = (y * size + x) * 4;
      if (!inside) continue;
      const [red, green, blue] = ring ? [255, 255, 255] : [29, 78, 216];
      pixels.set([red, green, blue, 255], i);
    }
  }
  const rows = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let v = n;
    for (let k = 0; k < 8; k++) v = v & 1 ? 0xedb88320 ^ (v >>> 1) : v >>> 1;
    return v >>> 0;
  });
  const crc = (buffer) => {
    let v = 0xffffffff;
    for (const byte of buffer) v = crcTable[(v ^ byte) & 0xff] ^ (v >>> 8);
    return (v ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const check = Buffer.alloc(4);
    check.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, check]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const ortDist = join(here, "node_modules", "onnxruntime-web", "dist");
for (const file of ORT_FILES) {
  if (!existsSync(join(ortDist, file))) fail(`missing ${join(ortDist, file)}: run \`npm ci\` in extension/ first`);
}
if (!existsSync(MODEL)) fail(`missing the shipped model ${MODEL}`);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "ort"), { recursive: true });
mkdirSync(join(out, "models"));
mkdirSync(join(out, "icons"));
cpSync(join(here, "src"), out, { recursive: true });
for (const file of ORT_FILES) copyFileSync(join(ortDist, file), join(out, "ort", file));
copyFileSync(MODEL, join(out, "models", "default.onnx"));
for (const size of [16, 32, 48, 128]) writeFileSync(join(out, "icons", `${size}.png`), icon(size));
const manifest = JSON.parse(readFileSync(join(here, "manifest.json"), "utf8"));
manifest.version = projectVersion();
writeFileSync(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`built ${out} (captchalab extension ${manifest.version})`);
