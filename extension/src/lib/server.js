// Server mode: POST the cropped PNG to captchalab serve's /v1/solve.

import { serverOrigin } from "./settings.js";

/** Turn a failed response into a sentence the toast can show. */
export async function describeFailure(response) {
  let detail = "";
  try {
    const body = await response.json();
    detail = body.detail || body.error || "";
  } catch {
    detail = "";
  }
  if (response.status === 401) return "The server refused the API key (401): check it in the options.";
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After");
    return `The server is rate limiting you (429): try again in ${wait ?? "a few"} seconds.`;
  }
  if (response.status === 404) return `The server does not know that model (404)${detail ? `: ${detail}` : ""}.`;
  if (response.status === 413) return "The image is too large for the server (413).";
  if (response.status === 503) return "The server is busy or still loading its models (503): try again.";
  return `The server answered ${response.status}${detail ? `: ${detail}` : ""}.`;
}

/**
 * @param {Blob} png the cropped captcha
 * @param {{serverUrl: string, apiKey: string, serverModel: string, caseInsensitive?: boolean,
 *   symbols?: string, length?: string, secondLook?: boolean}} settings the reading hints go as
 *   the API's ``case``, ``symbols`` and ``length`` fields, only when set (the server checks the
 *   symbols against its model and answers a 422 for one it cannot read); ``secondLook`` as
 *   ``second_look=true``
 * @returns {Promise<{text: string, confidence: number, model: string}>}
 */
export async function solveOnServer(png, settings, fetchImpl = fetch) {
  const origin = serverOrigin(settings.serverUrl);
  const base = new URL(settings.serverUrl);
  const path = base.pathname.replace(/\/+$/, "");
  const url = new URL(`${origin}${path}/v1/solve`);
  if (settings.serverModel) url.searchParams.set("model", settings.serverModel);
  const form = new FormData();
  form.append("image", png, "captcha.png");
  if (settings.caseInsensitive) form.append("case", "insensitive");
  if (settings.symbols) form.append("symbols", settings.symbols);
  if (settings.length) form.append("length", String(settings.length));
  if (settings.secondLook) form.append("second_look", "true");
  const headers = settings.apiKey ? { "X-API-Key": settings.apiKey } : {};
  let response;
  try {
    response = await fetchImpl(url.href, { method: "POST", body: form, headers });
  } catch (error) {
    throw new Error(`Cannot reach the captchalab server at ${origin} (${error.message}). Is \`captchalab serve\` running, and does it allow this extension (CAPTCHALAB_CORS_ORIGINS)?`);
  }
  if (!response.ok) throw new Error(await describeFailure(response));
  const body = await response.json();
  return { text: String(body.text), confidence: Number(body.confidence), model: String(body.model) };
}
