// The extension's service worker: toolbar button, shortcut and context menu -> capture the
// visible tab, crop the selection, solve it (in the browser or on the server), and hand the
// answer to the page's content script for the clipboard and the toast.
//
// The handlers are also exposed as globalThis.captchalab so that tests (which cannot click
// the toolbar or press a browser shortcut) drive exactly the code a click runs.

import * as ort from "./ort/ort.wasm.bundle.min.mjs";
import { captureScale, cropPixels, cropRect, trimUniformBorder } from "./lib/geometry.js";
import { LocalModel } from "./lib/local.js";
import { solveOnServer } from "./lib/server.js";
import { normalizeSettings, readingHints } from "./lib/settings.js";
import { DEFAULT_SECOND_LOOK } from "./lib/views.js";

ort.env.wasm.numThreads = 1; // a service worker is not cross-origin isolated: no threads
ort.env.wasm.proxy = false;
// Only the binary's address: with a path prefix, onnxruntime-web would import() its glue
// module instead of the one inlined in the bundle, and service workers forbid import().
ort.env.wasm.wasmPaths = { wasm: chrome.runtime.getURL("ort/ort-wasm-simd-threaded.wasm") };

const MENU_ID = "captchalab-read-image";
const DEFAULT_MODEL_URL = chrome.runtime.getURL("models/default.onnx");
let loaded = null; // {key, promise, loadMs}
// JPEG at quality 100: Chromium encodes the visible tab in about a third of the time PNG
// takes (benchmarks/results/extension_latency.md), and the default model reads JPEG-100
// copies of the mix test captchas as well as the originals. Both modes solve the same
// captured pixels, so local and server answers stay identical.
const CAPTURE = { format: "jpeg", quality: 100 };

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: MENU_ID, title: "Read this captcha", contexts: ["image"] });
});

chrome.action.onClicked.addListener((tab) => onAction(tab.id));

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === MENU_ID && tab) onReadImage(tab.id, info.srcUrl);
});

chrome.runtime.onMessage.addListener((message, sender) => {
  if (message.type === "captchalab:region" && sender.tab) {
    const { id, windowId } = sender.tab;
    lastRegion = onRegion(id, windowId, message.rect, message.viewport, message.startedAt);
  }
  return false;
});

// What each browser event runs. A failure is shown in the page; the promise resolves to
// the result or {error}, for tests and benchmarks.
async function reported(tabId, work) {
  try {
    return await work();
  } catch (error) {
    await report(tabId, error);
    return { error: error.message };
  }
}

/** Toolbar button or Alt+Shift+C. */
export const onAction = (tabId) => reported(tabId, () => startSelection(tabId));
/** "Read this captcha" on an image. */
export const onReadImage = (tabId, srcUrl) => reported(tabId, () => readImage(tabId, srcUrl));
/** The rectangle the person dragged in the overlay. */
export const onRegion = (tabId, windowId, rect, viewport, startedAt) =>
  reported(tabId, () => solveSelection(tabId, windowId, rect, viewport, startedAt, true));
let lastRegion = null; // the latest overlay result, for tests and benchmarks

export async function getSettings() {
  const stored = await chrome.storage.local.get(null);
  return normalizeSettings(stored);
}

async function injectContent(tabId) {
  try {
    await chrome.scripting.executeScript({ target: { tabId }, files: ["content.js"] });
  } catch (error) {
    throw new Error(`captchalab cannot work on this page (${error.message}).`);
  }
}

/** Toolbar click / shortcut: show the selection overlay in the tab. */
export async function startSelection(tabId) {
  await injectContent(tabId);
  await chrome.tabs.sendMessage(tabId, { type: "captchalab:select" });
}

/** Right-click on an image: locate it in the page, then read that rectangle of the screen. */
export async function readImage(tabId, srcUrl) {
  await injectContent(tabId);
  const found = await chrome.tabs.sendMessage(tabId, { type: "captchalab:find-image", srcUrl });
  if (!found || found.error) throw new Error(found?.error || "The image could not be found on the page.");
  const tab = await chrome.tabs.get(tabId);
  return solveSelection(tabId, tab.windowId, found.rect, found.viewport, undefined, false);
}

/** The loaded local model (the shipped default, or the one picked in the options). */
export async function localModel(settings) {
  const key = settings.customModel ? `custom:${settings.customModelName}:${settings.customModel.length}` : "default";
  if (!loaded || loaded.key !== key) {
    const entry = { key, loadMs: null };
    entry.promise = (async () => {
      const started = performance.now();
      let bytes;
      let name;
      if (settings.customModel) {
        bytes = Uint8Array.from(atob(settings.customModel), (c) => c.charCodeAt(0));
        name = settings.customModelName || "the picked model";
      } else {
        const response = await fetch(DEFAULT_MODEL_URL);
        if (!response.ok) throw new Error(`The model failed to load: the default model is missing from the extension (${response.status}).`);
        bytes = new Uint8Array(await response.arrayBuffer());
        name = "default.onnx";
      }
      const model = await LocalModel.load(ort, bytes, name);
      entry.loadMs = performance.now() - started;
      return model;
    })();
    loaded = entry;
    entry.promise.catch(() => {
      if (loaded === entry) loaded = null; // a failed load is retried next time
    });
  }
  return loaded.promise;
}

/** Milliseconds the current local model took to load, or null. */
export function modelLoadMs() {
  return loaded?.loadMs ?? null;
}

// Chrome allows a couple of captures per second; a selection made right after another one
// waits for the quota instead of failing.
const CAPTURE_ATTEMPTS = 4;
const CAPTURE_RETRY_MS = 600;

async function captureVisible(windowId) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await chrome.tabs.captureVisibleTab(windowId, CAPTURE);
    } catch (error) {
      const quota = /MAX_CAPTURE_VISIBLE_TAB_CALLS_PER_SECOND/.test(error.message);
      if (!quota || attempt >= CAPTURE_ATTEMPTS) {
        throw new Error(`The page could not be captured (${error.message}).`);
      }
      await new Promise((resolve) => setTimeout(resolve, CAPTURE_RETRY_MS));
    }
  }
}

async function captureBitmap(windowId) {
  const dataUrl = await captureVisible(windowId);
  const comma = dataUrl.indexOf(",");
  const type = dataUrl.slice(5, dataUrl.indexOf(";"));
  const binary = atob(dataUrl.slice(comma + 1));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return createImageBitmap(new Blob([bytes], { type }), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
}

function cropToCanvas(bitmap, rect) {
  const canvas = new OffscreenCanvas(rect.width, rect.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, rect.x, rect.y, rect.width, rect.height, 0, 0, rect.width, rect.height);
  return { canvas, rgba: context.getImageData(0, 0, rect.width, rect.height).data };
}

/** Solve RGBA pixels (or, for the server, their PNG) with the configured mode. */
export async function solvePixels(rgba, width, height, settings, canvas = null) {
  if (settings.mode === "server") {
    let source = canvas;
    if (!source) {
      source = new OffscreenCanvas(width, height);
      source.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
    }
    const png = await source.convertToBlob({ type: "image/png" });
    return solveOnServer(png, settings);
  }
  const model = await localModel(settings);
  // "Look again if unsure": the Solver's default threshold, as the server's second_look=true
  const secondLook = settings.secondLook ? DEFAULT_SECOND_LOOK : null;
  const answer = await model.solve(rgba, width, height, readingHints(settings), secondLook);
  return { text: answer.text, confidence: answer.confidence, model: model.name };
}

/** An encoded image (PNG, JPEG...) -> answer, with no page involved (tests, benchmarks). */
export async function solveImageBytes(bytes, overrides = {}) {
  const settings = { ...(await getSettings()), ...overrides };
  const bitmap = await createImageBitmap(new Blob([bytes]), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const rect = { x: 0, y: 0, width: bitmap.width, height: bitmap.height };
  const { canvas, rgba } = cropToCanvas(bitmap, rect);
  return solvePixels(rgba, rect.width, rect.height, settings, canvas);
}

/**
 * A CSS-pixel rectangle of the visible tab -> answer delivered to the page (clipboard, toast).
 * ``trim``: peel uniform page background off a hand-dragged rectangle (not off an image's
 * own rectangle, whose edges are the captcha's).
 */
export async function solveSelection(tabId, windowId, selection, viewport, startedAt, trim) {
  const timings = {};
  let t = performance.now();
  const settings = await getSettings();
  const bitmap = await captureBitmap(windowId);
  chrome.tabs.sendMessage(tabId, { type: "captchalab:captured" }).catch(() => {});
  const scale = captureScale(bitmap.width, viewport.width);
  let rect = cropRect(selection, scale, bitmap.width, bitmap.height);
  let { canvas, rgba } = cropToCanvas(bitmap, rect);
  if (trim) {
    const inner = trimUniformBorder(rgba, rect.width, rect.height);
    if (inner.width !== rect.width || inner.height !== rect.height) {
      rgba = cropPixels(rgba, rect.width, inner);
      canvas = null; // the server's PNG is made from the trimmed pixels
      rect = { x: rect.x + inner.x, y: rect.y + inner.y, width: inner.width, height: inner.height };
    }
  }
  timings.captureMs = performance.now() - t;
  t = performance.now();
  const answer = await solvePixels(rgba, rect.width, rect.height, settings, canvas);
  timings.solveMs = performance.now() - t;
  const result = { ...answer, mode: settings.mode, threshold: settings.threshold, startedAt, scale, crop: rect };
  const delivered = await chrome.tabs.sendMessage(tabId, { type: "captchalab:result", result });
  return { ...result, copied: Boolean(delivered?.copied), timings, modelLoadMs: modelLoadMs() };
}

async function report(tabId, error) {
  console.error("captchalab:", error);
  try {
    await injectContent(tabId);
    await chrome.tabs.sendMessage(tabId, { type: "captchalab:result", result: { error: error.message } });
  } catch {
    chrome.action.setBadgeText({ tabId, text: "!" });
    chrome.action.setTitle({ tabId, title: `captchalab: ${error.message}` });
  }
}

globalThis.captchalab = {
  onAction, onReadImage, onRegion, solveImageBytes, solvePixels, localModel, modelLoadMs,
  getSettings, lastRegion: () => lastRegion,
};
