import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULTS, normalizeSettings, readingHints } from "../src/lib/settings.js";

test("reading hints default to none", () => {
  const settings = normalizeSettings({});
  assert.equal(settings.caseInsensitive, false);
  assert.equal(settings.symbols, "");
  assert.equal(settings.length, "");
  assert.deepEqual(readingHints(DEFAULTS), { caseInsensitive: false, symbols: "", length: "" });
});

test("reading hints that are well formed are kept", () => {
  const settings = normalizeSettings({ caseInsensitive: true, symbols: "2345678bcdefgmnpwxy", length: " 4-6 " });
  assert.equal(settings.caseInsensitive, true);
  assert.equal(settings.symbols, "2345678bcdefgmnpwxy");
  assert.equal(settings.length, "4-6");
  assert.equal(normalizeSettings({ symbols: "@digits", length: "4,6" }).length, "4,6");
  assert.equal(normalizeSettings({ length: 5 }).length, "5"); // a number, as Python takes it
});

test("bad reading hints get clear errors", () => {
  assert.throws(() => normalizeSettings({ caseInsensitive: "yes" }), /ignores case' must be on or off/);
  assert.throws(() => normalizeSettings({ symbols: 7 }), /allowed symbols must be text/);
  assert.throws(() => normalizeSettings({ symbols: "@nope" }), /unknown symbol set '@nope'/);
  assert.throws(() => normalizeSettings({ length: "0" }), /answer length: lengths must be from 1 to 64/);
  assert.throws(() => normalizeSettings({ length: "65" }), /from 1 to 64/);
  assert.throws(() => normalizeSettings({ length: "6-4" }), /answer length: the range '6-4' runs backwards/);
  assert.throws(() => normalizeSettings({ length: "4,,5" }), /lengths look like 5, 4-6 or 4,6; got '4,,5'/);
  assert.throws(() => normalizeSettings({ length: "five" }), /lengths look like/);
  assert.throws(() => normalizeSettings({ length: 4.5 }), /lengths look like/);
  assert.throws(() => normalizeSettings({ length: ["5"] }), /answer length must be text/);
});

test("every reading hint works in server mode too (the API's case, symbols and length)", () => {
  const server = { mode: "server", serverUrl: "http://127.0.0.1:8000" };
  const settings = normalizeSettings({ ...server, caseInsensitive: true, symbols: "abc", length: "5" });
  assert.equal(settings.caseInsensitive, true);
  assert.equal(settings.symbols, "abc");
  assert.equal(settings.length, "5");
  assert.equal(normalizeSettings({ ...server, symbols: "@digits" }).symbols, "@digits");
  assert.throws(() => normalizeSettings({ ...server, symbols: "@nope" }), /unknown symbol set '@nope'/);
});

test("the server's second look is off by default (answers as in local mode) and must be on or off", () => {
  const server = { mode: "server", serverUrl: "http://127.0.0.1:8000" };
  assert.equal(normalizeSettings(server).secondLook, false);
  assert.equal(normalizeSettings({ ...server, secondLook: true }).secondLook, true);
  assert.throws(() => normalizeSettings({ ...server, secondLook: "yes" }), /Look again if unsure' must be on or off/);
});
