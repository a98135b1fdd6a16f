// The options the person sets, stored in chrome.storage.local.

import { parseLengths } from "./lengths.js";
import { resolveSymbols } from "./symbols.js";

export const DEFAULTS = Object.freeze({
  mode: "local", // "local": the model runs in the browser; "server": POST to captchalab serve
  serverUrl: "http://127.0.0.1:8000",
  apiKey: "",
  serverModel: "", // empty: the server's default model
  secondLook: false, // both modes: an answer below 50% is read again from other views (Solver.with_second_look)
  threshold: 0.5, // below this confidence, ask for a fresh captcha instead of copying
  // Reading hints, for a site whose captchas follow known rules (the Solver's
  // case_insensitive, restricted and with_lengths; the API's case, symbols and length fields):
  caseInsensitive: false, // the site ignores case: both cases of a letter count, answers are lower case
  symbols: "", // the only symbols the site uses, e.g. "2345678bcdefgmnpwxy" or "@digits"; "" = any
  length: "", // the answer's length: "5", "4-6" or "4,6"; "" = any
});

/** Merge stored values over the defaults and check them; a clear error for bad ones. */
export function normalizeSettings(stored) {
  const settings = { ...DEFAULTS, ...(stored || {}) };
  if (!["local", "server"].includes(settings.mode)) throw new Error(`unknown mode '${settings.mode}'`);
  const threshold = Number(settings.threshold);
  if (!(threshold >= 0 && threshold <= 1)) throw new Error("the confidence threshold must be between 0 and 1");
  settings.threshold = threshold;
  if (settings.mode === "server") serverOrigin(settings.serverUrl); // throws when malformed
  if (typeof settings.secondLook !== "boolean") throw new Error("'Look again if unsure' must be on or off");
  Object.assign(settings, readingHints(settings));
  return settings;
}

/** The checked reading hints of (merged) settings: {caseInsensitive, symbols, length}. */
export function readingHints(settings) {
  const { caseInsensitive, symbols, length } = settings;
  if (typeof caseInsensitive !== "boolean") throw new Error("'The site ignores case' must be on or off");
  if (typeof symbols !== "string") throw new Error("the allowed symbols must be text, e.g. 2345678bcdefgmnpwxy or @digits");
  if (symbols) resolveSymbols(symbols); // throws for an unknown @name
  const text = typeof length === "number" ? String(length) : length;
  if (typeof text !== "string") throw new Error("the answer length must be text such as 5, 4-6 or 4,6");
  if (text.trim()) {
    try {
      parseLengths(text);
    } catch (error) {
      throw new Error(`answer length: ${error.message}`);
    }
  }
  return { caseInsensitive, symbols, length: text.trim() };
}

/** "http://host:port/anything" -> "http://host:port"; only http and https. */
export function serverOrigin(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`'${url}' is not a server URL (e.g. http://127.0.0.1:8000)`);
  }
  if (!["http:", "https:"].includes(parsed.protocol)) throw new Error("the server URL must start with http:// or https://");
  return parsed.origin;
}
