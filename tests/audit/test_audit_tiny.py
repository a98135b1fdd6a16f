"""The tiny budget end to end: report structure, and numbers that respond to the scheme."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from captchalab.audit.budgets import Budget
from captchalab.audit.pipeline import AuditOptions, run_audit
from captchalab.audit.targets import scheme_target

from .conftest import EASY


def _cost(target: dict[str, Any], target_accuracy: int) -> float:
    """The cheapest attacker's samples to reach 50% (index 0) or 90% (index 1); inf if none."""
    values = [
        cost["samples"][target_accuracy]["value"]
        for cost in target["costs"].values()
        if cost["samples"][target_accuracy]["value"] is not None
    ]
    return min(values, default=math.inf)


def test_report_files_and_structure(tiny_report: Path, tiny_metrics: dict[str, Any]) -> None:
    for name in ("report.html", "summary.md", "metrics.json"):
        assert (tiny_report / name).stat().st_size > 0
    assert not (tiny_report / "work").exists(), "the work folder must be cleaned up"
    assert tiny_metrics["budget"]["name"] == "tiny"
    easy, hard = tiny_metrics["targets"]
    assert (easy["name"], hard["name"]) == ("trivial", "noisy_lines")
    for target in (easy, hard):
        assert set(target["curves"]) == {"crnn from scratch", "default model fine-tuned"}
        for points in target["curves"].values():
            assert [p["samples"] for p in points] == [40, 160]
            assert all(0 <= p["accuracy"] <= 1 and p["cpu_minutes"] > 0 for p in points)
        assert {c["target"] for c in target["costs"]["crnn from scratch"]["samples"]} == {0.5, 0.9}
        assert [a["name"] for a in target["off_the_shelf"]] == [
            "default (zero-shot)",
            "default (zero-shot, second look)",
            "ddddocr",
        ]
        assert len(target["errors"]["per_position_accuracy"]) == target["max_length"]
        assert [f["name"] for f in target["image_factors"]] == [
            "contrast",
            "ink",
            "overlap",
            "length",
        ]
        assert [s["factor"] for s in target["sensitivity"]] == ["rotation", "charset"]
        assert all(s["delta"] is not None for s in target["sensitivity"])  # styled: both vary
        assert target["saliency"][0]["kind"] == "gradient saliency"
        advice = target["advice"]
        assert [a["rank"] for a in advice] == list(range(1, len(advice) + 1))
        hardening = target["hardening"]
        assert hardening["available"] and hardening["count"] == 8
        roles = {a["attacker"]: a["role"] for a in hardening["attackers"]}
        assert set(roles) == set(target["curves"])
        assert sorted(roles.values()) == ["substitute", "transfer"]
        assert all(0 <= a["clean"] <= 1 and 0 <= a["hardened"] <= 1 for a in hardening["attackers"])
        assert 0 < hardening["ssim"] < 1  # the images changed
        rows = [a for a in advice if a["kind"] == "hardening"]
        assert len(rows) == 1 and not rows[0].get("placeholder") and "SSIM" in rows[0]["text"]
    html = (tiny_report / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 14
    assert "http://" not in html and "https://" not in html  # self-contained
    summary = (tiny_report / "summary.md").read_text()
    assert "## Headline: cost to break" in summary and "98.94%" in summary


def test_easy_scheme_costs_less_than_hard(tiny_metrics: dict[str, Any]) -> None:
    easy, hard = tiny_metrics["targets"]
    assert _cost(easy, 1) < _cost(hard, 1)
    assert _cost(easy, 0) <= _cost(hard, 0)
    best = {
        t["name"]: max(p["accuracy"] for c in t["curves"].values() for p in c) for t in (easy, hard)
    }
    assert best["trivial"] > best["noisy_lines"] + 0.3


def test_same_seed_same_numbers(tmp_path: Path) -> None:
    budget = Budget(
        "mini",
        sizes=(16, 32),
        scratch_steps=(6, 6),
        finetune_steps=(3, 3),
        test_size=24,
        sensitivity_size=32,
        sensitivity_steps=3,
        factors=("warp",),
        examples=2,
        model_args={"crnn": {"channels": [8, 8, 16, 16], "hidden": 16}},
    )
    options = AuditOptions(budget, ("crnn",), seed=3, threads=1)
    runs = [
        run_audit([scheme_target(str(EASY))], options, tmp_path / str(i))["targets"][0]
        for i in range(2)
    ]

    def numbers(target: dict[str, Any]) -> list[float]:
        curves = [p["accuracy"] for c in target["curves"].values() for p in c]
        cers = [p["character_error_rate"] for c in target["curves"].values() for p in c]
        return [*curves, *cers, *(s["accuracy"] for s in target["sensitivity"])]

    assert numbers(runs[0]) == numbers(runs[1])
    assert runs[0]["errors"] == runs[1]["errors"]


def test_labelled_folder_audit(tmp_path: Path) -> None:
    from captchalab.audit.targets import folder_target
    from captchalab.schemes.generate import generate_dataset

    folder = generate_dataset(str(EASY), 40, tmp_path / "real", seed=5, workers=1)
    budget = Budget(
        "mini",
        sizes=(16, 100),
        scratch_steps=(4, 4),
        finetune_steps=(2, 2),
        test_size=8,
        sensitivity_size=16,
        sensitivity_steps=2,
        examples=2,
        model_args={"crnn": {"channels": [8, 8, 16, 16], "hidden": 16}},
    )
    target = folder_target(folder, budget.test_size)
    assert target.charset.symbols == "OX" and target.available(100) == 32
    metrics = run_audit([target], AuditOptions(budget, ("crnn",), threads=1), tmp_path / "out")
    result = metrics["targets"][0]
    assert result["kind"] == "data" and result["sensitivity"] == []
    assert [p["samples"] for p in result["curves"]["crnn from scratch"]] == [16, 32]  # capped
    assert result["test_size"] == 8
    assert len(result["image_factors"]) == 4
    assert "cannot be re-rendered" in (tmp_path / "out" / "report.html").read_text()
