// Case folding of logits, as src/captchalab/inference/case.py does it: classes that fold
// together pool their probability in one class before decoding (the log of the summed
// probability, so a softmax over the result equals the summed softmax), in float32 like
// numpy's logaddexp on float32 logits. Class 0 (blank / end / empty) folds into itself.

const MASKED = Math.fround(-1e9);
const LOGE2 = Math.fround(Math.LN2);

/** The class each class folds into: its lower-case twin when the charset has one, else itself. */
export function foldTargets(symbols) {
  const index = new Map([...symbols].map((s, i) => [s, i + 1]));
  const targets = Int32Array.from({ length: symbols.length + 1 }, (_, i) => i);
  [...symbols].forEach((symbol, i) => {
    const twin = index.get(symbol.toLowerCase());
    if (twin !== undefined && twin !== i + 1) targets[i + 1] = twin;
  });
  return targets;
}

function swapCase(symbol) {
  const lower = symbol.toLowerCase();
  return symbol === lower ? symbol.toUpperCase() : lower;
}

/**
 * For answers restricted to ``allowed`` classes: each letter that may not appear folds into
 * its other case when that one may (a site writing lower case only calls an "A" an "a"); null
 * when no letter does.
 */
export function absentCaseTargets(symbols, allowed) {
  const index = new Map([...symbols].map((s, i) => [s, i + 1]));
  const targets = Int32Array.from({ length: symbols.length + 1 }, (_, i) => i);
  let moved = false;
  [...symbols].forEach((symbol, i) => {
    const twin = index.get(swapCase(symbol));
    if (!allowed[i + 1] && twin !== undefined && twin !== i + 1 && allowed[twin]) {
      targets[i + 1] = twin;
      moved = true;
    }
  });
  return moved ? targets : null;
}

/** numpy's float32 logaddexp. */
function logAddExp(x, y) {
  if (x === y) return Math.fround(x + LOGE2);
  const d = Math.fround(x - y);
  if (d > 0) return Math.fround(x + Math.fround(Math.log1p(Math.fround(Math.exp(-d)))));
  if (d <= 0) return Math.fround(y + Math.fround(Math.log1p(Math.fround(Math.exp(d)))));
  return d; // NaN
}

/** The groups that fold together: [target, its members in class order], by target. */
function groups(targets) {
  const classes = [...targets.keys()];
  const receiving = [...new Set(classes.filter((c) => targets[c] !== c).map((c) => targets[c]))];
  return receiving.sort((a, b) => a - b).map((target) => [target, classes.filter((c) => targets[c] === target)]);
}

/** Merge the classes that fold together in (steps, classes) float32 logits; a new array. */
export function foldLogits(logits, steps, classes, targets) {
  const merged = Float32Array.from(logits);
  for (const [target, members] of groups(targets)) {
    for (let s = 0; s < steps; s++) {
      const row = s * classes;
      let pooled = logits[row + members[0]];
      for (const c of members.slice(1)) pooled = logAddExp(pooled, logits[row + c]);
      merged[row + target] = pooled;
      for (const c of members) if (c !== target) merged[row + c] = MASKED;
    }
  }
  return merged;
}

/** A class mask after folding: a target class is allowed when any of its members was. */
export function foldAllowed(allowed, targets) {
  const folded = new Uint8Array(allowed.length);
  targets.forEach((target, c) => {
    if (allowed[c]) folded[target] = 1;
  });
  return folded;
}

/** Every class not allowed gets the masked logit (no probability); a new array. */
export function maskLogits(logits, steps, classes, allowed) {
  const masked = Float32Array.from(logits);
  for (let s = 0; s < steps; s++) {
    for (let c = 0; c < classes; c++) if (!allowed[c]) masked[s * classes + c] = MASKED;
  }
  return masked;
}
