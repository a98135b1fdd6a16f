"""The seed-result scorer (ONNX through the Solver) and the throughput benchmark's parts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import seed_results
import train_throughput

from captchalab.inference.solver import DEFAULT_MODEL, Solver
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED, TrainConfig

needs_default = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model")


@needs_default
def test_score_onnx_scores_the_solvers_answers_on_the_test_seed() -> None:
    result, examples = seed_results.score_onnx("default", "digits5", count=6)
    scheme, solver = get_scheme("digits5"), Solver.load("default")
    labels = [scheme.sample_at(TEST_SEED, i)[1] for i in range(6)]
    answers = [p.text for p in solver.solve([scheme.sample_at(TEST_SEED, i)[0] for i in range(6)])]
    assert [label for label, _, _ in examples] == labels
    assert [text for _, text, _ in examples] == answers
    assert result.count == 6
    assert result.exact_accuracy == pytest.approx(
        np.mean([a == b for a, b in zip(labels, answers, strict=True)])
    )


@needs_default
def test_seed_results_writes_a_report_with_its_command(tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert (
        seed_results.main(["default", "--scheme", "digits5", "--count", "4", "--out", str(out)])
        == 0
    )
    summary = (out / "summary.md").read_text()
    assert "exact accuracy" in summary and "seed_results.py" in summary
    assert (out / "metrics.json").exists()


def test_seed_results_rejects_a_missing_model(tmp_path: Path) -> None:
    assert seed_results.main([str(tmp_path / "none.onnx"), "--scheme", "digits5"]) == 1


def test_step_variants_change_one_setting_each() -> None:
    config = TrainConfig(scheme="digits5", model="multihead", threads=1, channels_last=True)
    base = train_throughput.step_setup(config, "base")
    assert (base.threads, base.channels_last, base.compile, base.bf16) == (1, True, False, False)
    assert train_throughput.step_setup(config, "threads2").threads == 2
    assert not train_throughput.step_setup(config, "no_channels_last").channels_last
    assert train_throughput.step_setup(config, "bf16").bf16
    with pytest.raises(ValueError, match="unknown step variant"):
        train_throughput.step_setup(config, "turbo")


def test_step_bench_trains_the_model() -> None:
    config = TrainConfig(
        scheme="digits5",
        model="multihead",
        height=20,
        width=48,
        batch_size=4,
        model_args={"channels": [4, 8], "hidden": 16},
    )
    batch = train_throughput.rendered_batch(config, 4)
    bench = train_throughput.StepBench(config, train_throughput.step_setup(config, "base"), batch)
    before = [p.detach().clone() for p in bench.model.parameters()]
    bench.step()
    assert any(
        not (a == b.detach()).all() for a, b in zip(before, bench.model.parameters(), strict=True)
    )
