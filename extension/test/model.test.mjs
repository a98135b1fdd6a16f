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
