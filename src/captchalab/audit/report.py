"""Write an audit's three outputs: report.html (Jinja2, figures embedded), summary.md and
metrics.json (every number, no figures)."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from captchalab.audit.anchors import ANCHORS
from captchalab.audit.curves import cost_to_reach
from captchalab.audit.plots import data_uri

if TYPE_CHECKING:  # importing pipeline at run time would be circular
    from captchalab.audit.pipeline import AuditOptions

SECTIONS = (
    ("headline", "Headline: cost to break"),
    ("cost", "Cost to break: learning curves"),
    ("off-the-shelf", "Off-the-shelf attacks"),
    ("errors", "Why it breaks: error factors"),
    ("sensitivity", "Sensitivity: one factor at a time"),
    ("image-factors", "Factors measured on the images"),
    ("saliency", "Where the model looks"),
    ("hardening", "Adversarial hardening"),
    ("advice", "Advice"),
    ("method", "Method and reproducibility"),
)


def headline_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (target, curve): accuracy at the largest size and the 50%/90% costs."""
    rows = []
    for result in results:
        for name, points in result["curves"].items():
            if not points:
                continue
            cost = result["costs"][name]
            rows.append(
                {
                    "target": result["name"],
                    "curve": name,
                    "samples": points[-1]["samples"],
                    "accuracy": points[-1]["accuracy"],
                    "cpu_minutes": points[-1]["cpu_minutes"],
                    "samples_50": _cost(cost["samples"][0]),
                    "samples_90": _cost(cost["samples"][1]),
                    "cpu_50": _cost(cost["cpu_minutes"][0], " min"),
                    "cpu_90": _cost(cost["cpu_minutes"][1], " min"),
                }
            )
    return rows


def anchor_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each seed anchor beside this audit's curve for the same scheme, when audited."""
    rows = []
    for anchor in ANCHORS:
        row: dict[str, Any] = {**anchor.to_dict(), "measured": None}
        for result in results:
            if result["name"] != anchor.scheme:
                continue
            for name, points in result["curves"].items():
                reached = [p for p in points if p["accuracy"] >= anchor.accuracy]
                to_anchor = cost_to_reach(
                    [p["samples"] for p in points], [p["accuracy"] for p in points], anchor.accuracy
                )
                row.setdefault("curves", []).append(
                    {
                        "curve": name,
                        "best": max(p["accuracy"] for p in points) if points else None,
                        "reached_at": reached[0]["samples"] if reached else None,
                        "cost_anchor": _cost(to_anchor.to_dict()),
                    }
                )
            row["measured"] = True
        rows.append(row)
    return rows


def _cost(cost: dict[str, Any], unit: str = "") -> str:
    value, method = cost["value"], cost["method"]
    if method == "beyond" and cost.get("bound") is not None:
        bound = f"{cost['bound']:,.2f}" if unit else f"{cost['bound']:,.0f}"
        return f"> {bound}{unit} (beyond 1000x the budget)"
    if value is None:
        return "not estimable"
    number = f"{value:,.2f}" if unit else f"{value:,.0f}"
    if method == "extrapolated":
        return f"~{number}{unit} (extrapolated)"
    if method == "measured":
        return f"<= {number}{unit}"
    return f"{number}{unit}"


def _environment() -> dict[str, Any]:
    import os

    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }


def write_report(
    results: Sequence[dict[str, Any]], options: AuditOptions, out: Path, command: str
) -> dict[str, Any]:

    metrics = {
        "format": "captchalab-audit/1",
        "command": command,
        "budget": options.budget.to_dict(),
        "models": list(options.models),
        "seed": options.seed,
        "environment": _environment(),
        "anchors": [a.to_dict() for a in ANCHORS],
        "headline": headline_rows(results),
        "targets": [{k: v for k, v in r.items() if k != "figures"} for r in results],
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    figures = [{k: data_uri(v) for k, v in r["figures"].items()} for r in results]
    render_files(metrics, figures, out)
    return metrics


def render_files(metrics: dict[str, Any], figures: list[dict[str, str]], out: Path) -> None:
    """report.html and summary.md from the metrics and the figures (as data URIs)."""
    from jinja2 import Environment, StrictUndefined

    template_text = (
        resources.files("captchalab.audit") / "templates" / "report.html.j2"
    ).read_text(encoding="utf-8")
    environment = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True)
    environment.filters["pct"] = lambda v: "-" if v is None else f"{100 * v:.1f}%"
    environment.filters["num"] = lambda v, d=1: "-" if v is None else f"{v:,.{d}f}"
    html = environment.from_string(template_text).render(
        metrics=metrics,
        results=metrics["targets"],
        figures=figures,
        sections=SECTIONS,
        anchors=anchor_rows(metrics["targets"]),
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    (out / "summary.md").write_text(render_summary(metrics), encoding="utf-8")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_summary(metrics: dict[str, Any]) -> str:
    names = " vs ".join(t["name"] for t in metrics["targets"])
    budget = metrics["budget"]
    parts = [
        f"# Audit: {names}",
        "",
        f"Budget `{budget['name']}` (training sizes {budget['sizes']}), models "
        f"{', '.join(metrics['models'])}, seed {metrics['seed']}.",
        f"Command: `{metrics['command']}`" if metrics["command"] else "",
        "",
        "## Headline: cost to break",
        "",
        _table(
            [
                "target",
                "attacker",
                "largest N",
                "accuracy",
                "CPU-min",
                "N for 50%",
                "N for 90%",
                "CPU-min for 90%",
            ],
            [
                [
                    r["target"],
                    r["curve"],
                    r["samples"],
                    f"{100 * r['accuracy']:.1f}%",
                    f"{r['cpu_minutes']:.1f}",
                    r["samples_50"],
                    r["samples_90"],
                    r["cpu_90"],
                ]
                for r in metrics["headline"]
            ],
        ),
        "",
        "Costs past the largest measured size are extrapolated with a power law fitted to "
        "the measured error rates, `error = a * N^-b`.",
        "",
        "Published anchors: "
        + "; ".join(
            f"{a['source']} {100 * a['accuracy']:.2f}% with {a['samples']:,} training captchas"
            for a in metrics["anchors"]
        )
        + ".",
    ]
    for anchor in anchor_rows(metrics["targets"]):
        for curve in anchor.get("curves", []):
            best = "-" if curve["best"] is None else f"{100 * curve['best']:.1f}%"
            verdict = (
                f"reached it with {curve['reached_at']:,} labelled captchas "
                f"({anchor['samples']:,} in the publication)"
                if curve["reached_at"]
                else f"not reached within the budget (the fitted curve: {curve['cost_anchor']})"
            )
            parts.append(
                f"- {anchor['short']} ({100 * anchor['accuracy']:.2f}%): {curve['curve']}, "
                f"best {best}, {verdict}."
            )
    for target in metrics["targets"]:
        parts += ["", f"## {target['name']} ({target['source']})", ""]
        attacks = [
            f"{a['name']}: {100 * a['accuracy']:.1f}%"
            if a.get("available")
            else f"{a['name']}: {a.get('note', 'unavailable')}"
            for a in target["off_the_shelf"]
        ]
        parts.append("Off-the-shelf: " + "; ".join(attacks) + ".")
        errors = target["errors"]
        positions = ", ".join(f"{100 * a:.0f}%" for a in errors["per_position_accuracy"])
        confusions = ", ".join(
            f"{c['true'] or '(ins)'}->{c['predicted'] or '(del)'} x{c['count']}"
            for c in errors["top_confusions"][:5]
        )
        parts += [
            "",
            f"Errors of {errors['attacker']} at {errors['samples']} captchas "
            f"({100 * errors['accuracy']:.1f}% exact): per position {positions}; "
            f"top confusions {confusions or 'none'}.",
        ]
        rows = target["sensitivity"]
        if rows:
            parts += [
                "",
                _table(
                    ["factor", "change", "base", "variant", "change (points)"],
                    [
                        [
                            r["label"],
                            r["change"],
                            f"{100 * r['base_accuracy']:.1f}%",
                            f"{100 * r['accuracy']:.1f}%",
                            f"{100 * r['delta']:+.1f}",
                        ]
                        if r.get("delta") is not None
                        else [r["label"], r["reason"], "-", "-", "-"]
                        for r in rows
                    ],
                ),
            ]
        hardening = target.get("hardening") or {}
        if hardening.get("available"):
            parts += [
                "",
                f"### Adversarial hardening ({hardening['count']} test captchas, "
                f"mean SSIM {hardening['ssim']:.2f})",
                "",
                _table(
                    ["attacker", "role", "clean", "hardened"],
                    [
                        [
                            r["attacker"],
                            r["role"],
                            f"{100 * r['clean']:.1f}%",
                            f"{100 * r['hardened']:.1f}%",
                        ]
                        for r in hardening["attackers"]
                    ],
                ),
            ]
        parts += ["", "### Advice", ""]
        parts += [f"{a['rank']}. {a['text']} ({a['evidence']})" for a in target["advice"]]
    return "\n".join(parts) + "\n"
