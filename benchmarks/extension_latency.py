"""The browser extension's local mode in headless Chromium: selection -> clipboard latency
once the model is loaded, and the model's load time (cold, in a fresh browser) separately.

    python benchmarks/extension_latency.py --trials 30 --out benchmarks/results/extension_latency.md

Each trial shows a different ``mix`` test captcha on a page, runs the toolbar handler, drags a
rectangle around the image with the mouse, and reads the time the content script measured
from the mouse release to the answer written to the clipboard (capture of the visible tab,
crop, preprocessing, onnxruntime-web WASM on one thread, decoding, clipboard). Needs Debian
``chromium``, Node and ``npm ci`` in ``extension/``. Like the end-to-end tests, the build gets
host access to pages because no script can grant activeTab.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_common import REPO_ROOT, display_path, machine_lines, markdown_table
from PIL import Image

from captchalab.browser import CHROMIUM_ARGS
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED

CAPTURE_GAP_S = 0.6  # Chrome allows two captureVisibleTab calls a second
MARGIN = 6


def build(out: Path) -> Path:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed (apt-get install -y nodejs npm)")
    subprocess.run(
        [node, str(REPO_ROOT / "extension" / "build.mjs"), "--out", str(out)], check=True
    )
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["host_permissions"] = ["<all_urls>"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@contextmanager
def browser(playwright: Any, extension: Path, profile: Path) -> Iterator[tuple[Any, Any]]:
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=shutil.which("chromium"),
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            f"--disable-extensions-except={extension}",
            f"--load-extension={extension}",
        ],
        viewport={"width": 900, "height": 560},
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        worker = (
            context.service_workers[0]
            if context.service_workers
            else context.wait_for_event("serviceworker", timeout=30_000)
        )
        worker.evaluate("() => chrome.storage.local.set({mode: 'local', threshold: 0})")
        yield context, worker
    finally:
        context.close()


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def load_time_ms(worker: Any) -> float:
    start = time.perf_counter()
    worker.evaluate("() => captchalab.getSettings().then((s) => captchalab.localModel(s))")
    wall = (time.perf_counter() - start) * 1000
    inside = worker.evaluate("() => captchalab.modelLoadMs()")
    return float(inside if inside is not None else wall)


def trial(context: Any, worker: Any, page: Any, image: Image.Image) -> dict[str, Any]:
    page.evaluate("(src) => { document.getElementById('c').src = src; }", data_url(image))
    page.wait_for_function("() => document.getElementById('c').complete")
    tabs = worker.evaluate("() => chrome.tabs.query({}).then(ts => ts.map(t => [t.id, t.url]))")
    tab = max(t for t, url in tabs if url == page.url)
    worker.evaluate("(id) => captchalab.onAction(id)", tab)
    page.wait_for_selector("#captchalab-overlay")
    box = page.locator("#c").bounding_box()
    page.mouse.move(box["x"] - MARGIN, box["y"] - MARGIN)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] + MARGIN, box["y"] + box["height"] + MARGIN)
    page.mouse.up()
    page.wait_for_selector("#captchalab-toast[data-selection-to-clipboard-ms]")
    ms = float(page.get_attribute("#captchalab-toast", "data-selection-to-clipboard-ms") or "nan")
    result = worker.evaluate("() => captchalab.lastRegion()")
    text = page.evaluate("() => navigator.clipboard.readText()")
    page.evaluate("() => document.getElementById('captchalab-toast')?.remove()")
    return {"ms": ms, "text": text, **result["timings"]}


def chromium_version() -> str:
    found = subprocess.run(["chromium", "--version"], capture_output=True, text=True, check=False)
    return found.stdout.strip()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--cold-loads", type=int, default=3, help="fresh browsers for load time")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        raise SystemExit("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    scheme = get_scheme("mix")
    samples = [scheme.sample_at(TEST_SEED, i) for i in range(args.trials + 2)]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        extension = build(Path(tmp) / "dist")
        page_path = Path(tmp) / "page.html"
        page_path.write_text('<!doctype html><body style="margin:24px"><img id="c"></body>')
        loads = []
        for run in range(args.cold_loads):
            with browser(playwright, extension, Path(tmp) / f"cold{run}") as (_, worker):
                loads.append(load_time_ms(worker))
        runs = []
        with browser(playwright, extension, Path(tmp) / "warm") as (context, worker):
            load_time_ms(worker)
            page = context.new_page()
            page.goto(page_path.as_uri())
            page.bring_to_front()
            for index, (image, label) in enumerate(samples):
                time.sleep(CAPTURE_GAP_S)
                measured = trial(context, worker, page, image)
                if index >= 2:  # the first two warm up the code paths
                    runs.append({**measured, "right": measured["text"] == label})
    total = [r["ms"] for r in runs]
    rows = [
        [
            "selection -> clipboard",
            *(f"{f(total):.1f}" for f in (statistics.median,)),
            f"{percentile(total, 0.9):.1f}",
            f"{max(total):.1f}",
        ],
        [
            "  capture + crop (worker)",
            f"{statistics.median(r['captureMs'] for r in runs):.1f}",
            f"{percentile([r['captureMs'] for r in runs], 0.9):.1f}",
            f"{max(r['captureMs'] for r in runs):.1f}",
        ],
        [
            "  preprocess + model + decode (worker)",
            f"{statistics.median(r['solveMs'] for r in runs):.1f}",
            f"{percentile([r['solveMs'] for r in runs], 0.9):.1f}",
            f"{max(r['solveMs'] for r in runs):.1f}",
        ],
        [
            "model load, cold (fresh browser)",
            f"{statistics.median(loads):.0f}",
            f"{percentile(loads, 0.9):.0f}",
            f"{max(loads):.0f}",
        ],
    ]
    right = sum(r["right"] for r in runs)
    lines = [
        "# Browser extension, local mode: latency in headless Chromium",
        "",
        f"`python benchmarks/extension_latency.py --trials {args.trials} "
        f"--cold-loads {args.cold_loads}`",
        "",
        *machine_lines(["playwright"]),
        f"- load average when it finished: {' '.join(f'{v:.1f}' for v in os.getloadavg())}",
        f"- {chromium_version()}",
        "- model: the shipped `default.onnx` in onnxruntime-web (WASM, SIMD, 1 thread)",
        f"- {len(runs)} timed selections of `mix` test captchas (seed {TEST_SEED}), after 2 "
        f"warm-up ones; {right}/{len(runs)} answers equal the label; "
        f"{len(loads)} cold model loads",
        "",
        *markdown_table(["step", "p50 ms", "p90 ms", "max ms"], rows),
        "",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines))
        print(f"wrote {display_path(args.out)}")


if __name__ == "__main__":
    main()
