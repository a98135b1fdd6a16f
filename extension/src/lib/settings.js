// The options the person sets, stored in chrome.storage.local.

export const DEFAULTS = Object.freeze({
  mode: "local", // "local": the model runs in the browser; "server": POST to captchalab serve
  serverUrl: "http://127.0.0.1:8000",
  apiKey: "",
  serverModel: "", // empty: the server's default model
  threshold: 0.5, // below this confidence, ask for a fresh captcha instead of copying
});

/** Merge stored values over the defaults and check them; a clear error for bad ones. */
export function normalizeSettings(stored) {
  const settings = { ...DEFAULTS, ...(stored || {}) };
  if (!["local", "server"].includes(settings.mode)) throw new Error(`unknown mode '${settings.mode}'`);
  const threshold = Number(settings.threshold);
  if (!(threshold >= 0 && threshold <= 1)) throw new Error("the confidence threshold must be between 0 and 1");
  settings.threshold = threshold;
  if (settings.mode === "server") serverOrigin(settings.serverUrl); // throws when malformed
  return settings;
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
