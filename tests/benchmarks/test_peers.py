"""The peer benchmark's own parts: seeded generators, peer charsets, measuring and tables."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import generators
from bench_sets import BenchSet, scheme_set
from peer_solvers import allowed_symbols
from peers import measure, results_rows


def test_seeded_global_random_is_repeatable_and_restores_state() -> None:
    random.seed(7)
    expected_next = random.random()
    random.seed(7)
    with generators.seeded_global_random(random.Random(1)):
        first = random.random()
    with generators.seeded_global_random(random.Random(1)):
        assert random.random() == first
    assert random.random() == expected_next


@pytest.mark.parametrize("spec", generators.GENERATORS, ids=lambda spec: spec.name)
def test_pypi_generators_are_seeded(spec: generators.GeneratorSpec) -> None:
    try:
        render = spec.build()
    except ImportError:
        if os.environ.get("CI"):  # .ci/steps/benchmarks.sh installs them: missing is a failure
            raise
        pytest.skip(f"{spec.package} is not installed (bash .ci/steps/benchmarks.sh installs it)")
    image, text = generators.sample(spec, render, 0, 3)
    again, same_text = generators.sample(spec, render, 0, 3)
    assert text == same_text and len(text) == spec.length
    assert image.mode == "RGB" and image.tobytes() == again.tobytes()


def test_allowed_symbols_adds_the_other_case() -> None:
    bench_set = BenchSet("t", "", [], [], "2bX")
    assert allowed_symbols(bench_set) == "2bBXx"


class EchoSolver:
    """Answers the labels it was prepared with: every metric is perfect."""

    name = "echo"
    batch_size = 2

    def prepare(self, bench_set: BenchSet) -> None:
        self.answers = dict(zip(bench_set.images, bench_set.labels, strict=True))

    def solve_one(self, image: bytes) -> str:
        return self.answers[image]

    def solve_batch(self, images: list[bytes]) -> list[str]:
        return [self.answers[image] for image in images]


def test_measure_scores_and_times_every_image() -> None:
    bench_set = scheme_set("digits5", 3)
    advanced: list[int] = []
    run = measure(EchoSolver(), bench_set, warmup=1, advance=advanced.append)
    assert run.result.exact_accuracy == 1.0 and run.result.character_error_rate == 0.0
    assert len(run.latencies_ms) == 3 and sum(advanced) == 6  # single pass + batched pass
    row = results_rows([run])[0]
    assert row[:3] == ["digits5", "echo", "100.0%"] and row[-1] == "n/a"
