// Decoding under a known answer length, as src/captchalab/objectives/lengths.py does it.
//
// CTC: the most probable frame path whose collapsed text has an allowed length (a Viterbi
// search over (characters emitted, last frame's class)). Fixed length: the most probable
// slots with an allowed number k of characters, the first k slots filled with their best
// symbols and the rest empty. Attention models choose their length inside the model: refused.

export const SUPPORTED = ["ctc", "fixed_length"];
export const MAX_LENGTH = 64;

const SHAPE = (spec) => `lengths look like 5, 4-6 or 4,6; got '${spec}'`;

/** Python's int() on a decimal string: optional sign, digits, single underscores between. */
function wholeNumber(text, spec) {
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(text)) throw new Error(SHAPE(spec));
  return Number(text.trim().replace(/_/g, ""));
}

/** "5", "4-6", "4,6" (or a whole number) -> the allowed lengths, a Set; a clear error else. */
export function parseLengths(spec) {
  if (typeof spec === "number") {
    if (!Number.isInteger(spec)) throw new Error(`a length must be a whole number, got ${spec}`);
    spec = String(spec);
  }
  if (typeof spec !== "string") throw new Error(`a length must be a whole number, got ${JSON.stringify(spec)}`);
  const parts = spec.split(",").map((p) => p.trim());
  if (!spec.trim() || parts.some((p) => !p)) throw new Error(SHAPE(spec));
  const values = new Set();
  for (const part of parts) {
    const dash = part.indexOf("-");
    const start = wholeNumber(dash < 0 ? part : part.slice(0, dash), spec);
    const end = dash < 0 ? start : wholeNumber(part.slice(dash + 1), spec);
    if (end < start) throw new Error(`the range '${part}' runs backwards`);
    if (start < 1 || end > MAX_LENGTH) throw new Error(`lengths must be from 1 to ${MAX_LENGTH}, got '${spec}'`);
    for (let n = start; n <= end; n++) values.add(n);
  }
  return values;
}

export function checkLengthsSupported(decoder) {
  if (!SUPPORTED.includes(decoder)) {
    throw new Error(
      `a known answer length needs a CTC or fixed-length model; this one decodes with '${decoder}', which chooses its length inside the model`,
    );
  }
}

/** How many characters a CTC frame path reads: runs of one symbol count once. */
export function collapsedLength(ids) {
  let count = 0;
  for (let t = 0; t < ids.length; t++) if (ids[t] !== 0 && (t === 0 || ids[t] !== ids[t - 1])) count++;
  return count;
}

/** numpy's argmax of a row, with one class left out: the first maximum; 0 when all are -inf. */
function rowArgmax(score, offset, classes, skip = -1) {
  let best = 0;
  let value = skip === 0 ? -Infinity : score[offset];
  for (let c = 1; c < classes; c++) {
    const v = c === skip ? -Infinity : score[offset + c];
    if (v > value) {
      value = v;
      best = c;
    }
  }
  return [best, value];
}

/**
 * The most probable frame path (Int32Array of T classes) of per-frame probabilities whose
 * collapsed text has a length in ``lengths``; null when no path can (too few frames).
 */
export function ctcBestPath(frames, lengths) {
  const T = frames.length;
  if (T === 0) return null;
  const C = frames[0].length;
  const top = Math.min(Math.max(...lengths), T);
  if (Math.min(...lengths) > top) return null;
  const K = top + 1;
  let score = new Float64Array(K * C).fill(-Infinity);
  score[0] = 0;
  const backClass = new Int32Array(T * K * C); // the previous state's class
  const backEmit = new Uint8Array(T * K * C); // whether it came from row k - 1
  const bestClass = new Int32Array(K);
  const best = new Float64Array(K);
  const secondClass = new Int32Array(K);
  const second = new Float64Array(K);
  for (let t = 0; t < T; t++) {
    const logp = frames[t].map(Math.log);
    for (let k = 0; k < K; k++) {
      [bestClass[k], best[k]] = rowArgmax(score, k * C, C);
      [secondClass[k], second[k]] = rowArgmax(score, k * C, C, bestClass[k]);
    }
    const next = new Float64Array(K * C);
    for (let k = 0; k < K; k++) {
      const at = k * C;
      const back = (t * K + k) * C;
      next[at] = best[k] + logp[0]; // a blank keeps k, from any class
      backClass[back] = bestClass[k];
      for (let c = 1; c < C; c++) {
        const repeat = score[at + c] + logp[c]; // a repeated symbol keeps k
        let emit = -Infinity; // a new symbol comes from row k - 1, from the best class not c
        let from = 0;
        if (k >= 1) {
          const same = bestClass[k - 1] === c;
          emit = (same ? second[k - 1] : best[k - 1]) + logp[c];
          from = same ? secondClass[k - 1] : bestClass[k - 1];
        }
        const takeEmit = emit > repeat;
        next[at + c] = takeEmit ? emit : repeat;
        backClass[back + c] = takeEmit ? from : c;
        backEmit[back + c] = takeEmit ? 1 : 0;
      }
    }
    score = next;
  }
  let end = -1;
  let endScore = -Infinity;
  for (let k = 0; k < K; k++) {
    if (!lengths.has(k)) continue;
    for (let c = 0; c < C; c++) {
      if (score[k * C + c] > endScore) {
        endScore = score[k * C + c];
        end = k * C + c;
      }
    }
  }
  if (end < 0) return null;
  let k = Math.floor(end / C);
  let c = end % C;
  const path = new Int32Array(T);
  for (let t = T - 1; t >= 0; t--) {
    path[t] = c;
    const at = (t * K + k) * C + c;
    if (backEmit[at]) k -= 1;
    c = backClass[at];
  }
  return path;
}

/**
 * The most probable slot classes (Int32Array) with an allowed number of non-empty slots,
 * filling a prefix as training pads shorter texts; null when there are too few slots.
 */
export function slotsBestChoice(frames, lengths) {
  const slots = frames.length;
  const allowed = [...lengths].filter((k) => k <= slots);
  if (!allowed.length) return null;
  const symbol = new Int32Array(slots);
  const filledPrefix = new Float64Array(slots + 1);
  const emptySuffix = new Float64Array(slots + 1);
  for (let s = 0; s < slots; s++) {
    const logp = frames[s].map(Math.log);
    symbol[s] = rowArgmax(logp, 0, logp.length, 0)[0] || 1; // the best non-empty class
    filledPrefix[s + 1] = filledPrefix[s] + logp[symbol[s]];
  }
  for (let s = slots - 1; s >= 0; s--) {
    const empty = Math.log(frames[s][0]);
    emptySuffix[s] = emptySuffix[s + 1] + empty;
  }
  let k = -1;
  for (const n of allowed) {
    const v = filledPrefix[n] + emptySuffix[n];
    const kv = k < 0 ? -Infinity : filledPrefix[k] + emptySuffix[k];
    if (k < 0 || v > kv || (v === kv && n < k)) k = n;
  }
  const choice = new Int32Array(slots);
  for (let s = 0; s < k; s++) choice[s] = symbol[s];
  return choice;
}
