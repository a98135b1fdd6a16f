import { modelMetadata } from "./lib/metadata.js";
import { DEFAULTS, normalizeSettings, serverOrigin } from "./lib/settings.js";

const $ = (id) => document.getElementById(id);
const form = $("options");
let picked = null; // {name, base64} of a newly picked model, or "reset"

function status(message, kind = "ok") {
  $("status").textContent = message;
  $("status").className = kind;
}

function currentMode() {
  return form.querySelector("input[name=mode]:checked")?.value ?? DEFAULTS.mode;
}

function showMode() {
  const local = currentMode() === "local";
  $("local-options").classList.toggle("disabled", !local);
  $("server-options").classList.toggle("disabled", local);
}

async function load() {
  const settings = { ...DEFAULTS, ...(await chrome.storage.local.get(null)) };
  form.querySelector(`input[name=mode][value=${settings.mode}]`).checked = true;
  $("serverUrl").value = settings.serverUrl;
  $("apiKey").value = settings.apiKey;
  $("serverModel").value = settings.serverModel;
  $("secondLook").checked = settings.secondLook === true;
  $("threshold").value = Math.round(settings.threshold * 100);
  $("caseInsensitive").checked = settings.caseInsensitive === true;
  $("symbols").value = settings.symbols;
  $("length").value = settings.length;
  $("model-name").textContent = settings.customModelName || "the shipped default model";
  $("cors-hint").textContent = `CAPTCHALAB_CORS_ORIGINS=${location.origin}`;
  showMode();
}

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

$("model-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const metadata = modelMetadata(bytes, file.name);
    picked = { name: file.name, base64: toBase64(bytes) };
    $("model-name").textContent = `${file.name} (${metadata.modelName}, ${metadata.objective}; not saved yet)`;
    status("Model checked; press Save to use it.");
  } catch (error) {
    picked = null;
    status(error.message, "error");
  }
});

$("model-reset").addEventListener("click", () => {
  picked = "reset";
  $("model-name").textContent = "the shipped default model (not saved yet)";
});

form.addEventListener("change", showMode);

$("test-server").addEventListener("click", async () => {
  try {
    const origin = serverOrigin($("serverUrl").value);
    const headers = $("apiKey").value ? { "X-API-Key": $("apiKey").value } : {};
    const response = await fetch(`${origin}/v1/models`, { headers });
    if (response.status === 401) throw new Error("The server refused the API key (401).");
    if (!response.ok) throw new Error(`The server answered ${response.status}.`);
    const body = await response.json();
    const names = (body.models || []).map((m) => m.name).join(", ");
    status(`Connected: models ${names || "(none listed)"}.`);
  } catch (error) {
    status(`Cannot reach the server: ${error.message}`, "error");
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = {
    mode: currentMode(),
    serverUrl: $("serverUrl").value.trim() || DEFAULTS.serverUrl,
    apiKey: $("apiKey").value,
    serverModel: $("serverModel").value.trim(),
    secondLook: $("secondLook").checked,
    threshold: Number($("threshold").value) / 100,
    caseInsensitive: $("caseInsensitive").checked,
    symbols: $("symbols").value.trim(),
    length: $("length").value.trim(),
  };
  try {
    normalizeSettings(values);
    if (values.mode === "server") {
      // Host access for this one server only, asked while the click still counts as a gesture.
      const origins = [`${serverOrigin(values.serverUrl)}/*`];
      if (!(await chrome.permissions.contains({ origins }))) {
        await chrome.permissions.request({ origins }).catch(() => false);
      }
    }
    if (picked === "reset") {
      await chrome.storage.local.remove(["customModel", "customModelName"]);
    } else if (picked) {
      values.customModel = picked.base64;
      values.customModelName = picked.name;
    }
    await chrome.storage.local.set(values);
    picked = null;
    await load();
    status("Saved.");
  } catch (error) {
    status(error.message, "error");
  }
});

load();
