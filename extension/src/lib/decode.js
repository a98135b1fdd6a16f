// Logits -> text and confidence, as src/captchalab/objectives/decoding.py and the Solver do:
// logits are divided by the calibration temperature in float32, then softmaxed in float64.
// Class 0 is "no symbol" (CTC blank, end of an attention sequence, empty fixed slot).

export const DECODERS = ["fixed_length", "ctc", "attention"];

/** Per-frame probabilities (float64) of (S, C) float32 logits after the temperature. */
export function frameProbabilities(logits, steps, classes, temperature = 1.0) {
  const t = Math.fround(temperature);
  const frames = [];
  for (let s = 0; s < steps; s++) {
    const row = new Float64Array(classes);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      row[c] = Math.fround(logits[s * classes + c] / t);
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

function argmax(row) {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

function symbolsOf(charset, ids) {
  return ids.map((id) => charset.symbols[id - 1]).join("");
}

function decodeCtc(frames, charset) {
  const emitted = [];
  const charProbs = [];
  let confidence = 1.0;
  let previous = 0;
  for (const row of frames) {
    const id = argmax(row);
    const p = row[id];
    confidence *= p;
    if (id !== 0 && id !== previous) {
      emitted.push(id);
      charProbs.push(p);
    } else if (id !== 0 && charProbs.length) {
      charProbs[charProbs.length - 1] = Math.max(charProbs[charProbs.length - 1], p);
    }
    previous = id;
  }
  return { text: symbolsOf(charset, emitted), confidence, charProbs };
}

function decodeSlots(frames, charset) {
  const emitted = [];
  const charProbs = [];
  let confidence = 1.0;
  for (const row of frames) {
    const id = argmax(row);
    confidence *= row[id];
    if (id !== 0) {
      emitted.push(id);
      charProbs.push(row[id]);
    }
  }
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
 * (S, C) logits of one image -> {text, confidence, charProbs}.
 * @param {Float32Array} logits row-major (steps, classes)
 * @param {{objective: string, charset: {symbols: string}, temperature: number}} model
 */
export function decode(logits, steps, classes, model) {
  if (classes !== model.charset.symbols.length + 1) {
    throw new Error(`the model emits ${classes} classes; its charset has ${model.charset.symbols.length} symbols + blank`);
  }
  const frames = frameProbabilities(logits, steps, classes, model.temperature);
  if (model.objective === "ctc") return decodeCtc(frames, model.charset);
  if (model.objective === "fixed_length") return decodeSlots(frames, model.charset);
  if (model.objective === "attention") return decodeUntilEnd(frames, model.charset);
  throw new Error(`unknown decoder '${model.objective}'; known: ${DECODERS.join(", ")}`);
}
