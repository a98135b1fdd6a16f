"""Re-render a finished audit's report with today's analysis, without retraining.

The measured points (curves, errors, sensitivity, hardening, saliency) stay as measured. What
is derived from them is recomputed: the power-law fits, the costs to reach 50% and 90%, the
learning-curve plots, the advice, the headline and the anchor lines. The other figures are
taken back out of the old ``report.html``, where each is an ``<img data-plot=NAME>``.

    python scripts/rerender_audit.py docs/audits/hku_full
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import UndefinedError

from captchalab.audit.advice import advise
from captchalab.audit.plots import data_uri
from captchalab.audit.report import headline_rows, render_files

_IMAGE = re.compile(
    r'<img class="plot" data-plot="(?P<name>[^"]+)" alt="(?P<alt>[^"]*)" '
    r'src="data:image/png;base64,(?P<data>[^"]+)"'
)


def old_figures(html: str, names: list[str]) -> list[dict[str, bytes]]:
    """The embedded figures of a report, one mapping per audited target in ``names``.

    Every image's alt text ends with "for TARGET"; with two targets of the same name, the
    k-th image of each plot belongs to the k-th target."""
    import html as markup

    targets: list[dict[str, bytes]] = [{} for _ in names]
    unique = len(set(names)) == len(names)
    seen: dict[str, int] = {}
    for match in _IMAGE.finditer(html):
        plot, alt = match["name"], markup.unescape(match["alt"])
        owner = next((i for i, n in enumerate(names) if alt.endswith(f" for {n}")), None)
        if not unique or owner is None:
            owner = seen.get(plot, 0)
        seen[plot] = seen.get(plot, 0) + 1
        if owner < len(targets):
            targets[owner][plot] = base64.b64decode(match["data"])
    return targets


def rerender(folder: Path) -> dict[str, Any]:
    """Rewrite ``folder``'s metrics.json, summary.md and report.html; returns the metrics."""
    from captchalab.audit.pipeline import analyse_curves

    folder = Path(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    names = [target["name"] for target in metrics["targets"]]
    figures = old_figures((folder / "report.html").read_text(encoding="utf-8"), names)
    if not all(figures):
        raise ValueError(
            f"{folder}/report.html has no figures for some of {names}: not a report of this audit"
        )
    for target, images in zip(metrics["targets"], figures, strict=True):
        fits, costs, plots = analyse_curves(target["curves"], target["off_the_shelf"])
        target.update(fits=fits, costs=costs)
        target["advice"] = advise(target)
        images.update(plots)
    metrics["headline"] = headline_rows(metrics["targets"])
    uris = [{name: data_uri(png) for name, png in images.items()} for images in figures]
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        staged = Path(scratch)
        try:
            render_files(metrics, uris, staged)
        except UndefinedError as error:
            raise ValueError(
                f"{folder} was written by an older captchalab ({error.message}): re-run the audit "
                "instead of re-rendering it"
            ) from error
        (staged / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        for name in ("metrics.json", "summary.md", "report.html"):
            os.replace(staged / name, folder / name)  # nothing is half-written
    return metrics
