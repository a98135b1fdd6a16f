import assert from "node:assert/strict";
import { test } from "node:test";

import { decode } from "../src/lib/decode.js";
import { parseMetadata } from "../src/lib/metadata.js";
import { fixtures, float32 } from "./fixtures.mjs";

for (const c of fixtures.decoding) {
  test(`${c.objective} decoding at T=${c.temperature} matches Python`, () => {
    const model = { objective: c.objective, charset: { symbols: c.symbols }, temperature: c.temperature };
    const result = decode(float32(c.logits), c.steps, c.classes, model);
    assert.equal(result.text, c.text);
    assert.ok(Math.abs(result.confidence - c.confidence) < 1e-9, `${result.confidence} vs ${c.confidence}`);
    assert.equal(result.charProbs.length, c.char_probs.length);
    result.charProbs.forEach((p, i) => assert.ok(Math.abs(p - c.char_probs[i]) < 1e-9));
  });
}

test("the default model's logits decode to the Solver's answers and confidences", () => {
  const model = parseMetadata(JSON.stringify(fixtures.model));
  assert.equal(model.temperature, fixtures.model.calibration.temperature);
  for (const image of fixtures.images) {
    const [steps, classes] = image.logits_shape;
    const result = decode(float32(image.logits), steps, classes, model);
    assert.equal(result.text, image.answer.text, image.name);
    assert.ok(Math.abs(result.confidence - image.answer.confidence) < 1e-9, image.name);
  }
});

test("a temperature changes the confidence, never the text", () => {
  const c = fixtures.decoding.find((d) => d.objective === "ctc" && d.temperature === 1.0);
  const hot = decode(float32(c.logits), c.steps, c.classes, { objective: "ctc", charset: { symbols: c.symbols }, temperature: 3 });
  assert.equal(hot.text, c.text);
  assert.ok(hot.confidence < c.confidence);
});

test("a charset that does not fit the logits is refused", () => {
  const c = fixtures.decoding[0];
  assert.throws(() => decode(float32(c.logits), c.steps, c.classes, { objective: "ctc", charset: { symbols: "ab" }, temperature: 1 }), /classes/);
  assert.throws(() => decode(float32(c.logits), c.steps, c.classes, { objective: "nope", charset: { symbols: c.symbols }, temperature: 1 }), /unknown decoder/);
});
