// Reading hints (case, symbols, length) decoded in JavaScript against the Python Solver's
// answers for the same logits (scripts/extension_fixtures.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { decode, readingPlan } from "../src/lib/decode.js";
import { parseLengths } from "../src/lib/lengths.js";
import { parseMetadata } from "../src/lib/metadata.js";
import { NAMED_CHARSETS, resolveSymbols } from "../src/lib/symbols.js";
import { fixtures, float32 } from "./fixtures.mjs";

const TOLERANCE = 1e-6;

function describe(hints) {
  return JSON.stringify(hints);
}

/** The JavaScript answer equals the Solver's: the same text, or an error where it refused. */
function assertSameAnswer(read, expected, label) {
  if (expected.error !== undefined) {
    assert.throws(read, (error) => {
      // a length for an attention model: the very sentence Python gives
      if (/CTC or fixed-length/.test(expected.error)) assert.equal(error.message, expected.error, label);
      return true;
    }, label);
    return;
  }
  const result = read();
  assert.equal(result.text, expected.text, label);
  assert.ok(Math.abs(result.confidence - expected.confidence) < TOLERANCE, `${label}: ${result.confidence} vs ${expected.confidence}`);
  assert.equal(result.charProbs.length, expected.char_probs.length, label);
  result.charProbs.forEach((p, i) => assert.ok(Math.abs(p - expected.char_probs[i]) < TOLERANCE, `${label}: char ${i}`));
}

for (const [i, c] of fixtures.hints.entries()) {
  test(`${c.objective} decoding of draw ${i} at T=${c.temperature} under reading hints matches the Solver`, () => {
    const model = { objective: c.objective, charset: { symbols: c.symbols }, temperature: c.temperature };
    const logits = float32(c.logits);
    for (const expected of c.answers) {
      const label = `${c.objective} ${describe(expected.hints)}`;
      assertSameAnswer(() => decode(logits, c.steps, c.classes, model, expected.hints), expected, label);
    }
  });
}

test("the default model's logits under reading hints decode to the Solver's answers", () => {
  const model = parseMetadata(JSON.stringify(fixtures.model));
  for (const image of fixtures.images) {
    const [steps, classes] = image.logits_shape;
    for (const expected of image.hinted) {
      const label = `${image.name} ${describe(expected.hints)}`;
      assertSameAnswer(() => decode(float32(image.logits), steps, classes, model, expected.hints), expected, label);
    }
  }
});

test("the hints change answers in these fixtures, so the parity above means something", () => {
  let changed = 0;
  for (const c of fixtures.hints) {
    const model = { objective: c.objective, charset: { symbols: c.symbols }, temperature: c.temperature };
    const plain = decode(float32(c.logits), c.steps, c.classes, model).text;
    changed += c.answers.filter((a) => a.text !== undefined && a.text !== plain).length;
  }
  assert.ok(changed >= 30, `only ${changed} hinted answers differ from the plain ones`);
});

test("no hints, or empty ones, read as the model does", () => {
  const c = fixtures.hints[0];
  const model = { objective: c.objective, charset: { symbols: c.symbols }, temperature: c.temperature };
  const plain = decode(float32(c.logits), c.steps, c.classes, model);
  const empty = decode(float32(c.logits), c.steps, c.classes, model, { caseInsensitive: false, symbols: "", length: "" });
  assert.deepEqual(empty, plain);
  assert.deepEqual(readingPlan(model, {}), { fold: null, absent: null, allowed: null, lengths: null });
});

test("lengths are parsed as Python's parse_lengths parses them", () => {
  for (const { spec, lengths, error } of fixtures.length_specs) {
    if (error !== undefined) {
      assert.throws(() => parseLengths(spec), (e) => e.message.length > 0, `'${spec}' should be refused (${error})`);
    } else {
      assert.deepEqual([...parseLengths(spec)].sort((a, b) => a - b), lengths, `'${spec}'`);
    }
  }
  assert.deepEqual([...parseLengths(5)], [5]);
  assert.throws(() => parseLengths(4.5), /whole number/);
  assert.throws(() => parseLengths(true), /whole number/);
});

test("named symbol sets are Python's", () => {
  assert.deepEqual({ ...NAMED_CHARSETS }, fixtures.named_charsets);
  assert.equal(resolveSymbols("@digits"), "0123456789");
  assert.equal(resolveSymbols("abc"), "abc");
  assert.throws(() => resolveSymbols("@nope"), /unknown symbol set '@nope'; known: @alnum/);
});

test("a symbol the model cannot read is a clear error", () => {
  const model = { objective: "ctc", charset: { symbols: "abc" }, temperature: 1 };
  const logits = new Float32Array(2 * 4);
  assert.throws(() => decode(logits, 2, 4, model, { symbols: "ab7" }), /the allowed symbols hold '7', which this model cannot read \(it reads abc\)/);
});

test("a case-insensitive charset takes its allowed symbols in either case", () => {
  const model = { objective: "fixed_length", charset: { symbols: "ab", caseSensitive: false }, temperature: 1 };
  //                             empty  a    b
  const logits = Float32Array.from([0, 1, 3]);
  assert.equal(decode(logits, 1, 3, model, { symbols: "A" }).text, "a");
});
