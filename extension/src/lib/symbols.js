// Allowed symbols: a site that uses only some symbols (digits only, say) lets the reader drop
// the others' probability before decoding (src/captchalab/charset.py resolve_symbols and
// Solver.restricted).

const DIGITS = "0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";

/** Named symbol sets, written "@name" (charset.py NAMED_CHARSETS). */
export const NAMED_CHARSETS = Object.freeze({
  digits: DIGITS,
  upper: UPPER,
  lower: LOWER,
  alnum_upper: DIGITS + UPPER,
  alnum: DIGITS + UPPER + LOWER,
  hku: DIGITS.slice(1) + UPPER.replace("O", "") + LOWER.replace("o", ""),
});

/** "@name" -> the named set; any other string is the symbols themselves. */
export function resolveSymbols(spec) {
  if (!spec.startsWith("@")) return spec;
  const name = spec.slice(1);
  if (!Object.hasOwn(NAMED_CHARSETS, name)) {
    throw new Error(`unknown symbol set '${spec}'; known: ${Object.keys(NAMED_CHARSETS).sort().map((n) => `@${n}`).join(", ")}`);
  }
  return NAMED_CHARSETS[name];
}

/**
 * The classes an answer may use (Uint8Array over blank + symbols): the given symbols and
 * class 0, which every decoder needs. A symbol the model cannot read is a clear error.
 * @param {{symbols: string, caseSensitive?: boolean}} charset the model's
 */
export function allowedClasses(charset, spec) {
  const symbols = resolveSymbols(spec);
  const wanted = charset.caseSensitive === false ? symbols.toLowerCase() : symbols;
  const index = new Map([...charset.symbols].map((s, i) => [s, i + 1]));
  const allowed = new Uint8Array(charset.symbols.length + 1);
  allowed[0] = 1;
  for (const symbol of wanted) {
    if (!index.has(symbol)) {
      throw new Error(`the allowed symbols hold '${symbol}', which this model cannot read (it reads ${charset.symbols})`);
    }
    allowed[index.get(symbol)] = 1;
  }
  return allowed;
}
