// Logits -> text and confidence, as src/captchalab/objectives/decoding.py and the Solver do:
// logits are divided by the calibration temperature in float32, then softmaxed in float64.
// Class 0 is "no symbol" (CTC blank, end of an attention sequence, empty fixed slot).
//
// Reading hints (the Solver's case_insensitive, restricted and with_lengths) change the
// float32 logits before the softmax (case folding, symbols outside the allowed set removed)
// and, for a length, the path or slots the decoder picks.

import { absentCaseTargets, foldAllowed, foldLogits, foldTargets, maskLogits } from "./case.js";
import { checkLengthsSupported, collapsedLength, ctcBestPath, parseLengths, slotsBestChoice } from "./lengths.js";
import { allowedClasses } from "./symbols.js";

export const DECODERS = ["fixed_length", "ctc", "attention"];

/** (S, C) float32 logits divided by the temperature, in float32. */
export function scaleLogits(logits, steps, classes, temperature = 1.0) {
  const t = Math.fround(temperature);
  const scaled = new Float32Array(steps * classes);
  for (let i = 0; i < steps * classes; i++) scaled[i] = logits[i] / t;
  return scaled;
}

/** Per-frame probabilities (float64 rows) of (S, C) float32 logits. */
export function softmaxRows(logits, steps, classes) {
  const frames = [];
  for (let s = 0; s < steps; s++) {
    const row = new Float64Array(classes);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      row[c] = logits[s * classes + c];
      if (row[c] > max) max = row[c];
    }
    let total = 0;
    for (let c = 0; c < classes; c++) {
      row[c] = Math.exp(row[c] - max);
      total += row[c];
    }
    for (let c = 0; c < classes; c++) row[c] /= total;
    frames.push(row);
  }
  return frames;
}

/** Per-frame probabilities (float64) of (S, C) float32 logits after the temperature. */
export function frameProbabilities(logits, steps, classes, temperature = 1.0) {
  return softmaxRows(scaleLogits(logits, steps, classes, temperature), steps, classes);
}

function argmax(row) {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

function symbolsOf(charset, ids) {
  return ids.map((id) => charset.symbols[id - 1]).join("");
}

/** The best class of each frame. */
function argmaxPath(frames) {
  return Int32Array.from(frames, argmax);
}

function decodeCtc(frames, charset, lengths = null) {
  let ids = argmaxPath(frames);
  if (lengths && !lengths.has(collapsedLength(ids))) ids = ctcBestPath(frames, lengths) ?? ids;
  const emitted = [];
  const charProbs = [];
  let confidence = 1.0;
  let previous = 0;
  ids.forEach((id, t) => {
    const p = frames[t][id];
    confidence *= p;
    if (id !== 0 && id !== previous) {
      emitted.push(id);
      charProbs.push(p);
    } else if (id !== 0 && charProbs.length) {
      charProbs[charProbs.length - 1] = Math.max(charProbs[charProbs.length - 1], p);
    }
    previous = id;
  });
  return { text: symbolsOf(charset, emitted), confidence, charProbs };
}

function decodeSlots(frames, charset, lengths = null) {
  let ids = argmaxPath(frames);
  if (lengths && !lengths.has(ids.filter((id) => id !== 0).length)) ids = slotsBestChoice(frames, lengths) ?? ids;
  const emitted = [];
  const charProbs = [];
  let confidence = 1.0;
  ids.forEach((id, s) => {
    confidence *= frames[s][id];
    if (id !== 0) {
      emitted.push(id);
      charProbs.push(frames[s][id]);
    }
  });
  return { text: symbolsOf(charset, emitted), confidence, charProbs };
}

function decodeUntilEnd(frames, charset) {
  const emitted = [];
  const charProbs = [];
  let confidence = 1.0;
  for (let s = 0; s < frames.length; s++) {
    const id = s === frames.length - 1 ? 0 : argmax(frames[s]);
    const p = frames[s][id];
    confidence *= p;
    if (id === 0) break;
    emitted.push(id);
    charProbs.push(p);
  }
  return { text: symbolsOf(charset, emitted), confidence, charProbs };
}

/**
 * What the reading hints mean for one model (Solver.restricted / case_insensitive /
 * with_lengths): the classes to fold, the classes allowed, the lengths allowed.
 * @param {{caseInsensitive?: boolean, symbols?: string, length?: string|number}} hints
 */
export function readingPlan(model, hints = {}) {
  const { caseInsensitive = false, symbols = "", length = "" } = hints;
  let lengths = null;
  if (length !== "" && length !== null && length !== undefined) {
    checkLengthsSupported(model.objective);
    lengths = parseLengths(length);
  }
  const fold = caseInsensitive ? foldTargets(model.charset.symbols) : null;
  let allowed = symbols ? allowedClasses(model.charset, symbols) : null;
  // restricted to one case of a letter: the other case's probability joins it
  const absent = allowed && !fold ? absentCaseTargets(model.charset.symbols, allowed) : null;
  if (allowed && fold) allowed = foldAllowed(allowed, fold);
  return { fold, absent, allowed, lengths };
}

/** Scaled (S, C) float32 logits -> the logits the decoder reads under the plan. */
export function applyPlan(logits, steps, classes, plan) {
  let out = logits;
  if (plan.absent) out = foldLogits(out, steps, classes, plan.absent); // a letter told in one case reads both
  if (plan.fold) out = foldLogits(out, steps, classes, plan.fold); // both cases count for the lower one
  if (plan.allowed) out = maskLogits(out, steps, classes, plan.allowed); // the others get no probability
  return out;
}

/**
 * (S, C) logits of one image -> {text, confidence, charProbs}.
 * @param {Float32Array} logits row-major (steps, classes)
 * @param {{objective: string, charset: {symbols: string, caseSensitive?: boolean}, temperature: number}} model
 * @param {{caseInsensitive?: boolean, symbols?: string, length?: string}} hints the site's
 *   reading hints (none: the model's own reading)
 */
export function decode(logits, steps, classes, model, hints = {}) {
  if (classes !== model.charset.symbols.length + 1) {
    throw new Error(`the model emits ${classes} classes; its charset has ${model.charset.symbols.length} symbols + blank`);
  }
  if (!DECODERS.includes(model.objective)) {
    throw new Error(`unknown decoder '${model.objective}'; known: ${DECODERS.join(", ")}`);
  }
  const plan = readingPlan(model, hints);
  const scaled = applyPlan(scaleLogits(logits, steps, classes, model.temperature), steps, classes, plan);
  const frames = softmaxRows(scaled, steps, classes);
  let result;
  if (model.objective === "ctc") result = decodeCtc(frames, model.charset, plan.lengths);
  else if (model.objective === "fixed_length") result = decodeSlots(frames, model.charset, plan.lengths);
  else result = decodeUntilEnd(frames, model.charset);
  // e.g. an upper-case-only charset: case-insensitive answers are lower case
  return plan.fold ? { ...result, text: result.text.toLowerCase() } : result;
}
