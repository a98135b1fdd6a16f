// The shipped default model in onnxruntime-web (WASM, as in the extension) against the Python
// Solver's answers for the same pixels.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as ort from "onnxruntime-web";

import { LocalModel } from "../src/lib/local.js";
import { modelMetadata, readMetadataProps } from "../src/lib/metadata.js";
import { bytes, fixtures } from "./fixtures.mjs";

const MODEL = new URL("../../src/captchalab/assets/default.onnx", import.meta.url);
ort.env.wasm.numThreads = 1;

test("the ONNX metadata is read from the file's bytes", () => {
  const metadata = modelMetadata(new Uint8Array(readFileSync(MODEL)), "default.onnx");
  assert.equal(metadata.objective, fixtures.model.objective);
  assert.equal(metadata.charset.symbols, fixtures.model.charset.symbols);
  assert.deepEqual(metadata.preprocessing, fixtures.model.preprocessing);
  assert.equal(metadata.temperature, fixtures.model.calibration.temperature);
});

test("a file without captchalab metadata gets a clear error", () => {
  assert.equal(readMetadataProps(new Uint8Array([0x08, 0x07])).size, 0); // ir_version only
  assert.throws(() => modelMetadata(new Uint8Array([0x08, 0x07]), "x.onnx"), /not a captchalab model/);
  assert.throws(() => modelMetadata(new Uint8Array([0x72, 0x05, 0x0a]), "x.onnx"), /truncated/);
});

test("onnxruntime-web gives the Python Solver's answers", async () => {
  const model = await LocalModel.load(ort, new Uint8Array(readFileSync(MODEL)), "default");
  for (const image of fixtures.images) {
    const answer = await model.solve(bytes(image.rgba), image.width, image.height);
    assert.equal(answer.text, image.answer.text, image.name);
    assert.ok(Math.abs(answer.confidence - image.answer.confidence) < 1e-3, `${image.name}: ${answer.confidence} vs ${image.answer.confidence}`);
  }
});

test("onnxruntime-web's second look gives Solver.with_second_look's answers", async () => {
  const model = await LocalModel.load(ort, new Uint8Array(readFileSync(MODEL)), "default");
  const { threshold, answers, images: extra } = fixtures.second_look;
  const images = new Map([...fixtures.images, ...extra].map((image) => [image.name, image]));
  let changed = 0;
  for (const expected of answers) {
    const image = images.get(expected.image);
    const label = `${expected.image} ${JSON.stringify(expected.hints)}`;
    const rgba = bytes(image.rgba);
    const first = await model.solve(rgba, image.width, image.height, expected.hints);
    assert.equal(first.text, expected.first.text, `${label}: first reading`);
    const answer = await model.solve(rgba, image.width, image.height, expected.hints, threshold);
    assert.equal(answer.text, expected.text, label);
    assert.ok(Math.abs(answer.confidence - expected.confidence) < 1e-4, `${label}: ${answer.confidence} vs ${expected.confidence}`);
    if (answer.text !== first.text) changed++;
  }
  assert.ok(changed > 0, "no fixture answer is changed by the second look");
});

test("a confident answer is not read again, and a bad threshold is refused", async () => {
  const model = await LocalModel.load(ort, new Uint8Array(readFileSync(MODEL)), "default");
  const image = fixtures.images.find((i) => i.name === "mix_3");
  assert.ok(image.answer.confidence >= 0.5);
  let runs = 0;
  const solveTensor = model.solveTensor.bind(model);
  model.solveTensor = (...args) => (runs++, solveTensor(...args));
  const answer = await model.solve(bytes(image.rgba), image.width, image.height, {}, 0.5);
  assert.equal(answer.text, image.answer.text);
  assert.equal(runs, 1);
  for (const bad of [0, 1.5, Number.NaN]) {
    await assert.rejects(model.solve(bytes(image.rgba), image.width, image.height, {}, bad), /confidence in \(0, 1\]/);
  }
});
