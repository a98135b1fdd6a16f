// captchalab web page: take an image (drop, paste, file picker), POST it to /v1/solve, show it.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const dropZone = $("drop-zone");
  const fileInput = $("file");
  const modelSelect = $("model");
  const secondLook = $("second-look");
  const apiKey = $("api-key");
  const result = $("result");
  const preview = $("preview");
  const answer = $("answer");
  const confidence = $("confidence");
  const status = $("status");
  let previewUrl = null;

  function headers() {
    const key = apiKey.value.trim();
    return key ? { "X-API-Key": key } : {};
  }

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      return body.detail || body.error || response.statusText;
    } catch (_) {
      return response.statusText || "request failed";
    }
  }

  async function loadModels() {
    try {
      const response = await fetch("/v1/models", { headers: headers() });
      if (!response.ok) {
        say("Could not list models: " + (await errorMessage(response)), true);
        return;
      }
      const body = await response.json();
      modelSelect.replaceChildren();
      for (const model of body.models) {
        const option = document.createElement("option");
        option.value = model.name;
        option.textContent = model.name + (model.default ? " (default)" : "");
        option.selected = model.default;
        modelSelect.append(option);
      }
    } catch (err) {
      say("Could not reach the server: " + err.message, true);
    }
  }

  function showPreview(file) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    result.hidden = false;
  }

  async function solve(file) {
    if (!file || !file.type.startsWith("image/")) {
      say("That is not an image.", true);
      return;
    }
    showPreview(file);
    answer.textContent = "…";
    confidence.textContent = "";
    say("Solving…");
    const form = new FormData();
    form.append("image", file, file.name || "pasted-image");
    if (modelSelect.value) form.append("model", modelSelect.value);
    if (secondLook.checked) form.append("second_look", "true");
    try {
      const response = await fetch("/v1/solve", { method: "POST", body: form, headers: headers() });
      if (!response.ok) {
        answer.textContent = "";
        say("Error: " + (await errorMessage(response)), true);
        return;
      }
      const body = await response.json();
      answer.textContent = body.text;
      answer.dataset.text = body.text;
      confidence.textContent = (100 * body.confidence).toFixed(1) + "% confident";
      say("Solved with " + body.model + " in " + Math.round(body.elapsed_ms) + " ms.");
    } catch (err) {
      answer.textContent = "";
      say("Could not reach the server: " + err.message, true);
    }
  }

  function firstImage(dataTransfer) {
    if (!dataTransfer) return null;
    for (const item of dataTransfer.items || []) {
      if (item.kind === "file" && item.type.startsWith("image/")) return item.getAsFile();
    }
    for (const file of dataTransfer.files || []) {
      if (file.type.startsWith("image/")) return file;
    }
    return null;
  }

  function copyFallback(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  async function copyAnswer() {
    const text = answer.dataset.text;
    if (!text) return;
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (_) {
        copied = false;
      }
    }
    if (!copied) copied = copyFallback(text);
    say(copied ? "Copied “" + text + "”." : "Copy failed: select the answer and copy it.", !copied);
  }

  ["dragenter", "dragover"].forEach((type) =>
    dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      dropZone.classList.add("active");
    })
  );
  ["dragleave", "dragend"].forEach((type) =>
    dropZone.addEventListener(type, () => dropZone.classList.remove("active"))
  );
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("active");
    const file = firstImage(event.dataTransfer);
    if (file) solve(file);
    else say("Drop an image file.", true);
  });
  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) solve(fileInput.files[0]);
    fileInput.value = "";
  });
  document.addEventListener("paste", (event) => {
    const file = firstImage(event.clipboardData);
    if (file) {
      event.preventDefault();
      solve(file);
    }
  });
  answer.addEventListener("click", copyAnswer);
  apiKey.addEventListener("change", loadModels);

  loadModels();
})();
