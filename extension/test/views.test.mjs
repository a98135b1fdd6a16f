// The second look's views against the bytes Pillow gives (src/captchalab/inference/views.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { flattenAlpha } from "../src/lib/preprocess.js";
import { BILINEAR } from "../src/lib/preprocess.js";
import { VIEWS, boxRadius, fixedPointTaps } from "../src/lib/views.js";
import { bytes, fixtures, maxAbsDiff } from "./fixtures.mjs";

const { second_look: secondLook } = fixtures;
const sources = [...fixtures.images, ...secondLook.images];

/** The RGB pixels of a fixture image, alpha over white as the Solver loads it. */
function rgbOf(name) {
  const image = sources.find((i) => i.name === name);
  assert.ok(image, `no fixture image ${name}`);
  return { rgb: flattenAlpha(bytes(image.rgba), image.width, image.height), width: image.width, height: image.height };
}

test("the views are Python's, in its order", () => {
  assert.deepEqual(Object.keys(VIEWS), secondLook.view_names);
});

for (const expected of secondLook.views) {
  test(`view ${expected.view} of ${expected.image} is Pillow's, byte for byte`, () => {
    const { rgb, width, height } = rgbOf(expected.image);
    const seen = VIEWS[expected.view](rgb, width, height);
    assert.deepEqual([seen.width, seen.height], [expected.width, expected.height], "size differs");
    const diff = maxAbsDiff(seen.pixels, bytes(expected.rgb));
    assert.equal(diff, 0, `max |JS - Pillow| = ${diff}`);
  });
}

test("the views leave their input alone", () => {
  const { rgb, width, height } = rgbOf("odd");
  const before = rgb.slice();
  for (const view of Object.values(VIEWS)) view(rgb, width, height);
  assert.deepEqual(rgb, before);
});

test("GaussianBlur(1) is three box blurs of a quarter pixel's radius, in float32", () => {
  assert.equal(boxRadius(1, 3), Math.fround(0.25000003)); // 0.25 in float64
});

test("fixed-point taps sum to one in units of 2^-22", () => {
  for (const tap of fixedPointTaps(37, 18, BILINEAR)) {
    assert.ok(Math.abs(tap.weights.reduce((a, b) => a + b, 0) - (1 << 22)) <= tap.weights.length);
  }
});
