import assert from "node:assert/strict";
import { test } from "node:test";

import { captureScale, cropPixels, cropRect, normalizeRect, trimUniformBorder } from "../src/lib/geometry.js";

test("the scale comes from the capture, not devicePixelRatio", () => {
  assert.equal(captureScale(1800, 900), 2); // HiDPI capture in device pixels
  assert.equal(captureScale(900, 900), 1); // capture in CSS pixels (zoomed page, some HiDPI setups)
  assert.equal(captureScale(1125, 900), 1.25); // 125% zoom
  assert.throws(() => captureScale(900, 0), /viewport/);
});

test("a drag from any corner gives a positive rectangle", () => {
  assert.deepEqual(normalizeRect(50, 40, 10, 20), { x: 10, y: 20, width: 40, height: 20 });
});

test("the crop is scaled, rounded outwards and clipped to the capture", () => {
  const selection = { x: 10.4, y: 20.6, width: 100.2, height: 30.1 };
  assert.deepEqual(cropRect(selection, 1, 900, 560), { x: 10, y: 20, width: 101, height: 31 });
  assert.deepEqual(cropRect(selection, 2, 1800, 1120), { x: 20, y: 41, width: 202, height: 61 });
  const offEdge = { x: 850, y: 500, width: 100, height: 100 };
  assert.deepEqual(cropRect(offEdge, 1, 900, 560), { x: 850, y: 500, width: 50, height: 60 });
});

test("nothing selected, too small and off-screen selections are refused", () => {
  assert.throws(() => cropRect(null, 1, 900, 560), /Nothing selected/);
  assert.throws(() => cropRect({ x: 1, y: 1, width: 0, height: 0 }, 1, 900, 560), /Nothing selected/);
  assert.throws(() => cropRect({ x: 1, y: 1, width: 4, height: 40 }, 1, 900, 560), /too small/);
  assert.throws(() => cropRect({ x: 950, y: 1, width: 40, height: 40 }, 1, 900, 560), /outside/);
});

test("cropping copies the right pixels", () => {
  const width = 4;
  const rgba = new Uint8ClampedArray(4 * 3 * 4).map((_, i) => i); // 4x3 image
  const crop = cropPixels(rgba, width, { x: 1, y: 1, width: 2, height: 2 });
  assert.deepEqual([...crop.slice(0, 4)], [20, 21, 22, 23]); // pixel (1, 1)
  assert.deepEqual([...crop.slice(12, 16)], [40, 41, 42, 43]); // pixel (2, 2)
});

test("a dragged margin of page background is trimmed, the captcha kept", () => {
  const width = 30;
  const height = 20;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255); // white page
  for (let y = 5; y < 15; y++) {
    for (let x = 4; x < 26; x++) rgba.set([40, 60, 200, 255], (y * width + x) * 4); // the captcha
  }
  rgba.set([250, 250, 250, 255], (2 * width + 2) * 4); // near-white speck: still background
  assert.deepEqual(trimUniformBorder(rgba, width, height), { x: 4, y: 5, width: 22, height: 10 });
  const plain = new Uint8ClampedArray(width * height * 4).fill(255);
  const kept = trimUniformBorder(plain, width, height);
  assert.ok(kept.width >= 8 && kept.height >= 8); // a blank selection keeps the minimum
});
