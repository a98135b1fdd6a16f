"""Ranked recommendations, each backed by a number measured in this audit.

Rows are ranked by the size of the effect behind them (accuracy points for a factor,
attacker accuracy for the cost rows). An effect smaller than the test set's noise floor
(two standard errors, at least 1 point) is reported as "no measurable effect".
"""

from __future__ import annotations

from typing import Any

# Where the audit could not harden (e.g. a label its substitute cannot encode), this row says
# so; ``--compare`` with a hardened folder (``captchalab harden`` output) still measures it.
HARDENING_UNMEASURED = {
    "kind": "hardening",
    "rank_effect": -1.0,
    "text": (
        "Adversarial hardening: not measured in this audit. Compare this scheme with "
        "its hardened version: `captchalab audit --scheme S --compare HARDENED_DIR ...`."
    ),
    "placeholder": True,
}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def advise(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    rows.extend(_cost_rows(result))
    rows.extend(_factor_rows(result.get("sensitivity", [])))
    errors = result.get("errors", {})
    misread = round((1 - errors.get("accuracy", 1.0)) * result.get("test_size", 0))
    rows.extend(_image_rows(result.get("image_factors", []), misread))
    hardening = _hardening_row(result.get("hardening"))
    if hardening is not None:
        rows.append(hardening)
    rows.sort(key=lambda r: -float(r["rank_effect"]))
    if hardening is None:
        note = (result.get("hardening") or {}).get("note", "the audit did not harden")
        rows.append({**HARDENING_UNMEASURED, "evidence": note})
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _cost_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for attack in result.get("off_the_shelf", []):
        if attack.get("available") and attack["accuracy"] >= 0.05:
            rows.append(
                {
                    "kind": "off-the-shelf",
                    "rank_effect": attack["accuracy"],
                    "text": (
                        f"An off-the-shelf solver ({attack['name']}) already reads "
                        f"{_pct(attack['accuracy'])} with no training on this scheme: "
                        "change the look (fonts, overlap, background) before anything else."
                    ),
                    "evidence": f"{attack['name']}: {_pct(attack['accuracy'])} exact",
                }
            )
    for name, points in result.get("curves", {}).items():
        if not points:
            continue
        last = points[-1]
        cost = result["costs"][name]["samples"]
        fifty, ninety = cost[0], cost[1]
        if fifty["value"] is None and ninety["value"] is None:
            reach = "this budget shows no trend towards 50% or 90%"
        else:
            reach = f"50% needs {_cost_text(fifty)} and 90% {_cost_text(ninety)} labelled captchas"
        rows.append(
            {
                "kind": "cost",
                "rank_effect": last["accuracy"],
                "text": (
                    f"{name}: {last['samples']} labelled captchas and "
                    f"{last['cpu_minutes']:.1f} CPU-minutes give {_pct(last['accuracy'])}; "
                    f"{reach}."
                ),
                "evidence": f"measured at {', '.join(str(p['samples']) for p in points)}",
            }
        )
    return rows


def _cost_text(cost: dict[str, Any]) -> str:
    value = cost["value"]
    if cost["method"] == "beyond":
        return f"more than {cost['bound']:,.0f} (past 1000x this budget)"
    if value is None:
        return "an amount this budget cannot estimate"
    tilde = "~" if cost["method"] == "extrapolated" else ""
    suffix = " (extrapolated by the power law)" if cost["method"] == "extrapolated" else ""
    if cost["method"] == "measured":
        return f"at most {value:,.0f}"
    return f"{tilde}{value:,.0f}{suffix}"


def _factor_rows(sensitivity: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in sensitivity:
        if row.get("delta") is None:
            continue
        delta, noise = row["delta"], row["noise"]
        change, label = row["change"], row["label"]
        numbers = f"{_pct(row['base_accuracy'])} -> {_pct(row['accuracy'])}"
        removes = change.startswith(("removes", "drops", "plain", "separates", "uses a single"))
        if abs(delta) <= noise:
            verdict = (
                f"'{change}' changes attacker accuracy by less than {100 * noise:.1f} points: "
                + (
                    f"{label} does not slow the attacker; drop it if it hurts people."
                    if removes
                    else f"not worth its cost to people for {label}."
                )
            )
        elif delta < 0:
            verdict = f"'{change}' lowers attacker accuracy by {-100 * delta:.1f} points: do it."
        else:
            verdict = f"'{change}' raises attacker accuracy by {100 * delta:.1f} points: " + (
                "keep it as it is." if removes else "avoid it."
            )
        rows.append(
            {
                "kind": f"factor: {label}",
                "rank_effect": abs(delta),
                "text": verdict,
                "evidence": f"attacker accuracy {numbers} at the same training budget",
            }
        )
    return rows


MIN_CORRELATION = 0.2  # weaker relations between an image factor and errors are not advice
MIN_ERRORS = 10  # nor are relations resting on fewer misread images


def _image_rows(relations: list[dict[str, Any]], errors: int) -> list[dict[str, Any]]:
    rows = []
    for relation in relations:
        r, bins = relation.get("correlation"), relation.get("bins", [])
        if r is None or abs(r) < MIN_CORRELATION or len(bins) < 2 or errors < MIN_ERRORS:
            continue
        low, high = bins[0], bins[-1]
        harder = "high" if high["error_rate"] > low["error_rate"] else "low"
        rows.append(
            {
                "kind": f"measured: {relation['label']}",
                "rank_effect": abs(high["error_rate"] - low["error_rate"]),
                "text": (
                    f"The attacker misreads images of {harder} {relation['label']} most: "
                    f"pushing the scheme towards {harder} {relation['label']} should slow it."
                ),
                "evidence": (
                    f"error rate {_pct(low['error_rate'])} for {low['low']:.2g}-"
                    f"{low['high']:.2g} vs {_pct(high['error_rate'])} for "
                    f"{high['low']:.2g}-{high['high']:.2g} (r = {r:+.2f}, {errors} misread)"
                ),
            }
        )
    return rows


def _hardening_row(effect: dict[str, Any] | None) -> dict[str, Any] | None:
    if not effect or not effect.get("available"):
        return None
    rows = effect["attackers"]
    white = next(r for r in rows if r["role"] == "substitute")
    transfer = [r for r in rows if r["role"] == "transfer"]
    drop = lambda r: r["clean"] - r["hardened"]  # noqa: E731
    others = "; ".join(
        f"{r['attacker']} {_pct(r['clean'])} -> {_pct(r['hardened'])}" for r in transfer
    )
    if transfer:
        effect_size = max(drop(r) for r in transfer)
        reach = f"attackers trained separately: {others}"
    else:
        effect_size = drop(white) / 2  # white-box only: an upper bound, ranked at half
        reach = "no separately trained attacker to measure the transfer (an upper bound only)"
    settings = effect["settings"]
    return {
        "kind": "hardening",
        "rank_effect": effect_size,
        "text": (
            f"Adversarial hardening (`captchalab harden`, {settings['method']}, L-inf "
            f"{settings['linf']}, L0 {settings['l0']}, {settings['mask']} masks) against the "
            f"strongest attacker ({white['attacker']}): it reads {_pct(white['clean'])} -> "
            f"{_pct(white['hardened'])} of hardened captchas; {reach}. Mean SSIM to the "
            f"original {effect['ssim']:.2f} (1 = unchanged): check that people still read them."
        ),
        "evidence": (
            f"{effect['count']} test captchas hardened and saved as 8-bit images, read by each "
            "curve's strongest attacker"
        ),
    }
