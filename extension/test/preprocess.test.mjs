import assert from "node:assert/strict";
import { test } from "node:test";

import {
  borderValue,
  contentWidth,
  flattenAlpha,
  grayscale,
  innerSize,
  inputWidth,
  medianFilter,
  modelInput,
  resizeTaps,
  toTensor,
} from "../src/lib/preprocess.js";
import { bytes, fixtures, float32, maxAbsDiff } from "./fixtures.mjs";

const TOLERANCE = 1e-4;

for (const image of fixtures.images) {
  for (const { spec, tensor, input_width: pythonWidth } of image.tensors) {
    const label = `${spec.channels}x${spec.height}x${spec.width} ${spec.resize} median ${spec.median_filter}`;
    test(`tensor of ${image.name} (${image.width}x${image.height}) matches Python, ${label}`, () => {
      const expected = float32(tensor);
      const actual = toTensor(bytes(image.rgba), image.width, image.height, spec);
      assert.equal(actual.length, spec.channels * spec.height * spec.width);
      const diff = maxAbsDiff(actual, expected);
      assert.ok(diff <= TOLERANCE, `max |JS - Python| = ${diff}`);
      const input = modelInput(actual, spec);
      assert.equal(input.width, pythonWidth, "input width differs from Python's input_widths");
      assert.equal(input.data.length, spec.channels * spec.height * input.width);
    });
  }
}

test("a changed pixel changes the tensor (the parity check can fail)", () => {
  const image = fixtures.images[0];
  const { spec, tensor } = image.tensors[0];
  const rgba = bytes(image.rgba);
  for (let i = 0; i < rgba.length; i += 4) rgba[i] = 255 - rgba[i]; // invert the red channel
  const diff = maxAbsDiff(toTensor(rgba, image.width, image.height, spec), float32(tensor));
  assert.ok(diff > TOLERANCE, `inverting red moved the tensor only by ${diff}`);
});

test("alpha is composited over white", () => {
  const rgba = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 255, 100, 50, 200, 128]);
  assert.deepEqual([...flattenAlpha(rgba, 3, 1)], [255, 255, 255, 0, 0, 0, 177, 152, 227]);
});

test("grayscale uses integer ITU-R 601-2 luma", () => {
  assert.deepEqual([...grayscale(new Uint8Array([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255]), 4, 1)], [255, 76, 150, 29]);
});

test("median filter replicates the edges", () => {
  const pixels = new Uint8Array([0, 0, 0, 0, 255, 0, 0, 0, 0]); // an isolated dot
  assert.deepEqual([...medianFilter(pixels, 3, 3, 1, 3)], new Array(9).fill(0));
  assert.throws(() => medianFilter(pixels, 3, 3, 1, 2), /odd/);
});

test("resize taps: identity at the same size, normalised when shrinking", () => {
  for (const tap of resizeTaps(5, 5)) assert.deepEqual(tap.weights, [1]);
  for (const tap of resizeTaps(250, 123)) {
    const total = tap.weights.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-12);
  }
});

test("inner size keeps the aspect and rounds half up", () => {
  assert.deepEqual(innerSize(250, 65, 128, 32), [123, 32]);
  assert.deepEqual(innerSize(256, 41, 128, 32), [128, 21]); // 20.5 -> 21, not banker's 20
  assert.deepEqual(innerSize(1000, 1, 128, 32), [128, 1]);
});

test("border value is the median of the ring", () => {
  const values = [1, 2, 3, 4, 100, 6, 7, 8, 9]; // ring: 1 2 3 7 8 9 1 4 7 3 6 9
  assert.deepEqual(borderValue(values, 3, 3, 1), [5]);
});

test("content width: fill columns on the right are cut, a varying edge keeps everything", () => {
  // (C=1, H=2, W=5): ink in column 2, fill 0.5 after it
  const tensor = new Float32Array([0.1, 0.5, 0.9, 0.5, 0.5, 0.2, 0.5, 0.5, 0.5, 0.5]);
  assert.equal(contentWidth(tensor, 1, 2, 5), 3);
  const ragged = new Float32Array([0.1, 0.5, 0.9, 0.5, 0.5, 0.2, 0.5, 0.5, 0.5, 0.7]);
  assert.equal(contentWidth(ragged, 1, 2, 5), 5);
  assert.equal(contentWidth(new Float32Array(10).fill(0.5), 1, 2, 5), 0);
});

test("input width rounds up to 16 columns within the bounds", () => {
  assert.equal(inputWidth(1, 32, 256), 32);
  assert.equal(inputWidth(33, 32, 256), 48);
  assert.equal(inputWidth(48, 32, 256), 48);
  assert.equal(inputWidth(300, 32, 256), 256);
});

test("a dynamic-width fixture image is cut narrower than the cap", () => {
  const cut = fixtures.images.flatMap((image) =>
    image.tensors.filter((t) => t.spec.dynamic_width && t.input_width < t.spec.width),
  );
  assert.ok(cut.length > 0, "no fixture exercises the dynamic-width cut");
});
