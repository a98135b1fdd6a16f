import assert from "node:assert/strict";
import { test } from "node:test";

import { solveOnServer } from "../src/lib/server.js";
import { DEFAULTS, normalizeSettings, serverOrigin } from "../src/lib/settings.js";

const png = new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" });

function reply(status, body, headers = {}) {
  return async () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

test("a solve posts the image with the key and the model, and returns the answer", async () => {
  let seen;
  const fetchImpl = async (url, init) => {
    seen = { url, init };
    return new Response(JSON.stringify({ text: "ab12", confidence: 0.93, model: "digits" }), { status: 200 });
  };
  const settings = { serverUrl: "http://127.0.0.1:8000/", apiKey: "k3y", serverModel: "digits" };
  const answer = await solveOnServer(png, settings, fetchImpl);
  assert.deepEqual(answer, { text: "ab12", confidence: 0.93, model: "digits" });
  assert.equal(seen.url, "http://127.0.0.1:8000/v1/solve?model=digits");
  assert.equal(seen.init.method, "POST");
  assert.equal(seen.init.headers["X-API-Key"], "k3y");
  assert.ok(seen.init.body.get("image") instanceof Blob);
});

test("reading hints go as the API's case, symbols and length fields, only when set", async () => {
  const bodies = [];
  const fetchImpl = async (url, init) => {
    bodies.push(init.body);
    return new Response(JSON.stringify({ text: "ab12", confidence: 0.9, model: "default" }));
  };
  const base = { serverUrl: "http://127.0.0.1:8000", apiKey: "" };
  await solveOnServer(png, { ...base, caseInsensitive: true, symbols: "2345678bcdefgmnpwxy", length: "4-6" }, fetchImpl);
  await solveOnServer(png, { ...base, caseInsensitive: false, symbols: "", length: "" }, fetchImpl);
  await solveOnServer(png, { ...base, symbols: "@digits" }, fetchImpl);
  assert.equal(bodies[0].get("case"), "insensitive");
  assert.equal(bodies[0].get("symbols"), "2345678bcdefgmnpwxy");
  assert.equal(bodies[0].get("length"), "4-6");
  assert.deepEqual([...bodies[1].keys()], ["image"]);
  assert.deepEqual([...bodies[2].entries()].filter(([name]) => name !== "image"), [["symbols", "@digits"]]); // the server expands named sets
});

test("the second look goes as second_look=true, only when on", async () => {
  const bodies = [];
  const fetchImpl = async (url, init) => {
    bodies.push(init.body);
    return new Response(JSON.stringify({ text: "ab12", confidence: 0.9, model: "default", second_look: 0.5 }));
  };
  const base = { serverUrl: "http://127.0.0.1:8000", apiKey: "" };
  await solveOnServer(png, { ...base, secondLook: true }, fetchImpl);
  await solveOnServer(png, { ...base, secondLook: false }, fetchImpl);
  assert.equal(bodies[0].get("second_look"), "true");
  assert.deepEqual([...bodies[1].keys()], ["image"]);
});

test("symbols the server's model cannot read come back as its 422 detail", async () => {
  const detail = "symbols: model 'default' cannot read '!' (it reads 0123456789)";
  const settings = { serverUrl: "http://127.0.0.1:8000", apiKey: "", symbols: "12!" };
  await assert.rejects(
    solveOnServer(png, settings, reply(422, { error: "invalid_request", detail })),
    (error) => error.message === `The server answered 422: ${detail}.`,
  );
});

test("a server under a path prefix keeps it", async () => {
  let seen;
  const fetchImpl = async (url) => {
    seen = url;
    return new Response(JSON.stringify({ text: "x", confidence: 1, model: "m" }));
  };
  await solveOnServer(png, { serverUrl: "https://example.org/captchalab/", apiKey: "" }, fetchImpl);
  assert.equal(seen, "https://example.org/captchalab/v1/solve");
});

test("failures become sentences: unreachable, 401, 429 with Retry-After, 404, 503", async () => {
  const settings = { serverUrl: "http://127.0.0.1:9", apiKey: "" };
  const down = async () => {
    throw new TypeError("Failed to fetch");
  };
  await assert.rejects(solveOnServer(png, settings, down), /Cannot reach the captchalab server at http:\/\/127.0.0.1:9/);
  await assert.rejects(solveOnServer(png, settings, reply(401, { error: "unauthorized" })), /API key \(401\)/);
  await assert.rejects(solveOnServer(png, settings, reply(429, { error: "rate_limited" }, { "Retry-After": "7" })), /429\): try again in 7 seconds/);
  await assert.rejects(solveOnServer(png, settings, reply(404, { detail: "unknown model 'x'" })), /404\): unknown model 'x'/);
  await assert.rejects(solveOnServer(png, settings, reply(503, {})), /busy/);
});

test("settings: defaults, bad modes, thresholds and URLs", () => {
  assert.deepEqual(normalizeSettings({}), { ...DEFAULTS });
  assert.equal(normalizeSettings({ threshold: "0.7" }).threshold, 0.7);
  assert.throws(() => normalizeSettings({ mode: "cloud" }), /unknown mode/);
  assert.throws(() => normalizeSettings({ threshold: 2 }), /between 0 and 1/);
  assert.throws(() => normalizeSettings({ mode: "server", serverUrl: "ftp://x" }), /http/);
  assert.throws(() => serverOrigin("not a url"), /not a server URL/);
  assert.equal(serverOrigin("http://127.0.0.1:8000/some/path"), "http://127.0.0.1:8000");
});
