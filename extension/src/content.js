// Injected into the page on demand (never declared for all sites): the selection overlay,
// the clipboard write and the toast. It reads nothing from the page but the rectangle the
// person drags (or the clicked image's position) and never touches forms.
(() => {
  if (globalThis.__captchalabContent) return; // injected once per page
  globalThis.__captchalabContent = true;

  const Z = 2147483647;
  let overlay = null;
  let toast = null;
  let toastTimer = null;

  function removeOverlay() {
    if (overlay) overlay.remove();
    overlay = null;
    document.removeEventListener("keydown", onKey, true);
  }

  function onKey(event) {
    if (event.key === "Escape") {
      removeOverlay();
      showToast({ kind: "info", title: "captchalab", message: "Selection cancelled." });
    }
  }

  function viewport() {
    return { width: window.innerWidth, height: window.innerHeight };
  }

  // The overlay dims everything *outside* the rectangle and outlines it a few pixels outside,
  // so the region inside is captured as the page shows it, while the overlay is still up.
  function startSelection() {
    removeOverlay();
    hideToast();
    overlay = document.createElement("div");
    overlay.id = "captchalab-overlay";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Drag a rectangle around the captcha; Escape cancels");
    Object.assign(overlay.style, {
      position: "fixed", inset: "0", zIndex: String(Z), cursor: "crosshair",
      background: "rgba(0, 0, 0, 0.25)", userSelect: "none",
    });
    const hint = document.createElement("div");
    hint.textContent = "Drag around the captcha (Esc cancels)";
    Object.assign(hint.style, {
      position: "fixed", top: "8px", left: "50%", transform: "translateX(-50%)",
      font: "14px/1.4 system-ui, sans-serif", color: "#fff", background: "#1f2937",
      padding: "4px 10px", borderRadius: "4px", pointerEvents: "none",
    });
    const box = document.createElement("div");
    Object.assign(box.style, {
      position: "fixed", display: "none", outline: "2px dashed #f59e0b", outlineOffset: "3px",
      boxShadow: "0 0 0 9999px rgba(0, 0, 0, 0.25)", pointerEvents: "none",
    });
    overlay.append(hint, box);
    let start = null;
    overlay.addEventListener("mousedown", (event) => {
      event.preventDefault();
      start = { x: event.clientX, y: event.clientY };
      overlay.style.background = "transparent"; // the box's shadow dims the outside now
      hint.style.display = "none";
      Object.assign(box.style, { display: "block", left: `${start.x}px`, top: `${start.y}px`, width: "0", height: "0" });
    });
    overlay.addEventListener("mousemove", (event) => {
      if (!start) return;
      const r = rect(start, event);
      Object.assign(box.style, { left: `${r.x}px`, top: `${r.y}px`, width: `${r.width}px`, height: `${r.height}px` });
    });
    overlay.addEventListener("mouseup", (event) => {
      if (!start) return;
      const selected = rect(start, event);
      start = null;
      const startedAt = performance.now();
      chrome.runtime.sendMessage({ type: "captchalab:region", rect: selected, viewport: viewport(), startedAt });
      // Removed once the capture is taken (the worker says so) or on the answer.
    });
    document.addEventListener("keydown", onKey, true);
    document.documentElement.append(overlay);
  }

  function rect(a, event) {
    return {
      x: Math.min(a.x, event.clientX), y: Math.min(a.y, event.clientY),
      width: Math.abs(event.clientX - a.x), height: Math.abs(event.clientY - a.y),
    };
  }

  function findImage(srcUrl) {
    const images = [...document.images].filter((img) => img.currentSrc === srcUrl || img.src === srcUrl);
    if (!images.length) throw new Error("The clicked image is no longer on the page.");
    const img = images[0];
    img.scrollIntoView({ block: "nearest", inline: "nearest" });
    const r = img.getBoundingClientRect();
    return { rect: { x: r.left, y: r.top, width: r.width, height: r.height }, viewport: viewport() };
  }

  function hideToast() {
    if (toast) toast.remove();
    toast = null;
    clearTimeout(toastTimer);
  }

  function showToast({ kind, title, message, detail }) {
    hideToast();
    toast = document.createElement("div");
    toast.id = "captchalab-toast";
    toast.dataset.kind = kind;
    toast.setAttribute("role", kind === "error" || kind === "warning" ? "alert" : "status");
    const colours = { ok: "#065f46", warning: "#92400e", error: "#991b1b", info: "#1f2937" };
    Object.assign(toast.style, {
      position: "fixed", right: "16px", bottom: "16px", zIndex: String(Z), maxWidth: "340px",
      font: "14px/1.4 system-ui, sans-serif", color: "#fff", background: colours[kind] || colours.info,
      padding: "10px 14px", borderRadius: "6px", boxShadow: "0 4px 12px rgba(0,0,0,.3)",
    });
    const heading = document.createElement("div");
    heading.className = "captchalab-title";
    heading.style.fontWeight = "600";
    heading.textContent = title;
    const body = document.createElement("div");
    body.className = "captchalab-message";
    body.textContent = message;
    toast.append(heading, body);
    if (detail) {
      const small = document.createElement("div");
      small.className = "captchalab-detail";
      small.style.opacity = "0.8";
      small.style.fontSize = "12px";
      small.textContent = detail;
      toast.append(small);
    }
    document.documentElement.append(toast);
    toastTimer = setTimeout(hideToast, kind === "ok" ? 6000 : 10000);
    return toast;
  }

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      const area = document.createElement("textarea"); // older path, allowed by clipboardWrite
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.documentElement.append(area);
      area.select();
      const done = document.execCommand("copy");
      area.remove();
      return done;
    }
  }

  async function deliver(result) {
    removeOverlay();
    if (result.error) {
      showToast({ kind: "error", title: "captchalab could not read it", message: result.error });
      return { copied: false };
    }
    const percent = `${Math.round(result.confidence * 100)}%`;
    const where = result.mode === "local" ? "in this browser" : "by the server";
    if (result.confidence < result.threshold) {
      showToast({
        kind: "warning",
        title: `Not sure: "${result.text}" (${percent})`,
        message: "Nothing was copied. Refresh the captcha to get a new one, then select it again.",
        detail: `Read ${where}; below your threshold of ${Math.round(result.threshold * 100)}%.`,
      });
      return { copied: false };
    }
    const copied = await copy(result.text);
    const elapsed = performance.now() - (result.startedAt ?? performance.now());
    const shown = showToast({
      kind: copied ? "ok" : "error",
      title: copied ? `Copied "${result.text}"` : `Read "${result.text}" but could not copy it`,
      message: `Confidence ${percent}. ${copied ? "Paste it with Ctrl+V." : "Copy it by hand."}`,
      detail: `Read ${where}.`,
    });
    if (result.startedAt !== undefined) shown.dataset.selectionToClipboardMs = elapsed.toFixed(2);
    return { copied };
  }

  chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    if (message.type === "captchalab:select") {
      startSelection();
      sendResponse({ ok: true });
    } else if (message.type === "captchalab:captured") {
      removeOverlay();
    } else if (message.type === "captchalab:find-image") {
      try {
        sendResponse(findImage(message.srcUrl));
      } catch (error) {
        sendResponse({ error: error.message });
      }
    } else if (message.type === "captchalab:result") {
      deliver(message.result).then(sendResponse);
      return true; // answers asynchronously
    }
    return false;
  });
})();
