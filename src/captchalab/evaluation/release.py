"""The release guard: a candidate default model must not be worse on the benchmark.

Both models are read through the Solver (each with its own preprocessing) on the same fixed
sets: captchalab's scheme presets at the test seed, the held-out YAML schemes, and a labelled
split of a real set when one is given. The candidate passes when its mean exact accuracy is at
least the shipped model's (minus an optional tolerance); otherwise ``check_release`` raises
``ReleaseRefused`` naming the sets that dropped. Sets drawn by a generator named in
``exclude_generators`` are still read and shown, but left out of the decision: when the
shipped model was trained on a generator that the candidate may not use, those sets measure
what it memorised rather than how it generalises. No torch here.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from captchalab.data.preprocess import ImageInput
from captchalab.evaluation.metrics import evaluate_predictions
from captchalab.inference.solver import Solver
from captchalab.training.config import TEST_SEED  # disjoint from every training stream

DEFAULT_COUNT = 300
Advance = Callable[[int], None]


@dataclass(frozen=True)
class BenchmarkSet:
    """Labelled images, read as a solver would receive them."""

    name: str
    images: Sequence[ImageInput]
    labels: Sequence[str]
    case_sensitive: bool = True
    generators: frozenset[str] = frozenset({"labelled images"})  # who drew the images

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels) or not self.labels:
            raise ValueError(f"benchmark set {self.name!r} needs as many labels as images (>0)")


def scheme_set(spec: str, count: int = DEFAULT_COUNT, seed: int = TEST_SEED) -> BenchmarkSet:
    """Samples ``0..count-1`` of a scheme (preset name or YAML path) at ``seed``."""
    from captchalab.schemes import get_scheme

    scheme = get_scheme(spec)
    samples = [scheme.sample_at(seed, index) for index in range(count)]
    return BenchmarkSet(
        scheme.name,
        [image for image, _ in samples],
        [scheme.charset.normalize(text) for _, text in samples],
        scheme.charset.case_sensitive,
        scheme.generators(),
    )


def split_set(
    folder: Path, split: str = "test", name: str | None = None, limit: int | None = None
) -> BenchmarkSet:
    """The rows of ``folder/split.csv`` (``filename,label,split``) in ``split``, e.g. the
    Kaggle set's test split."""
    index = Path(folder) / "split.csv"
    if not index.is_file():
        raise FileNotFoundError(f"no split.csv in {folder}")
    with index.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("split") == split][:limit]
    if not rows:
        raise ValueError(f"{index} has no rows in split {split!r}")
    return BenchmarkSet(
        name or f"{Path(folder).name}_{split}",
        [Path(folder) / row["filename"] for row in rows],
        [row["label"] for row in rows],
    )


def release_benchmark(
    scheme_files: Path,
    kaggle: Path | None,
    count: int = DEFAULT_COUNT,
    folders: Sequence[Path] = (),
    note: Callable[[str], None] = print,
) -> list[BenchmarkSet]:
    """The release benchmark: every scheme preset and every YAML file in ``scheme_files`` at
    the test seed (``count`` images each), plus ``kaggle``'s test split when it has a
    ``split.csv``. Labelled ``folders`` (their ``test`` rows) replace all of it when given."""
    from captchalab.schemes import list_schemes

    if folders:
        return [split_set(folder, name=Path(folder).name) for folder in folders]
    sets = [scheme_set(name, count) for name in list_schemes()]
    sets += [scheme_set(str(path), count) for path in sorted(Path(scheme_files).glob("*.y*ml"))]
    if kaggle is not None and (Path(kaggle) / "split.csv").exists():
        sets.append(split_set(kaggle))
    elif kaggle is not None:
        note(f"note: no {Path(kaggle) / 'split.csv'}; the benchmark leaves the Kaggle set out")
    return sets


def exact_accuracy(solver: Solver, bench: BenchmarkSet, advance: Advance | None = None) -> float:
    """The solver's exact accuracy on ``bench`` (case folded when the set ignores case)."""
    predictions: list[str] = []
    for start in range(0, len(bench.images), 64):
        chunk = list(bench.images[start : start + 64])
        predictions += [p.text for p in solver.solve(chunk)]
        if advance is not None:
            advance(len(chunk))
    result = evaluate_predictions(bench.labels, predictions, case_sensitive=bench.case_sensitive)
    return result.exact_accuracy


@dataclass(frozen=True)
class ReleaseComparison:
    """Per-set exact accuracy of the candidate and the shipped model."""

    candidate: dict[str, float]
    shipped: dict[str, float]
    tolerance: float = 0.0
    sizes: dict[str, int] = field(default_factory=dict)
    excluded: frozenset[str] = frozenset()  # sets shown but left out of the decision

    @property
    def decisive(self) -> list[str]:
        """The sets whose mean decides the release."""
        return [name for name in self.candidate if name not in self.excluded]

    @property
    def candidate_mean(self) -> float:
        return sum(self.candidate[name] for name in self.decisive) / len(self.decisive)

    @property
    def shipped_mean(self) -> float:
        return sum(self.shipped[name] for name in self.decisive) / len(self.decisive)

    @property
    def passed(self) -> bool:
        """The candidate's mean exact accuracy is at least the shipped one's - tolerance."""
        return self.candidate_mean >= self.shipped_mean - self.tolerance

    def dropped(self) -> list[str]:
        """Decisive sets on which the candidate reads fewer images exactly than the shipped
        model."""
        return [name for name in self.decisive if self.candidate[name] < self.shipped[name]]

    def table(self, baseline: str = "shipped") -> str:
        lines = [f"{'set':<24} {'images':>6} {baseline:>8} {'candidate':>9} {'change':>7}"]
        for name in self.candidate:
            old, new = self.shipped[name], self.candidate[name]
            size = self.sizes.get(name, 0)
            mark = " (not decisive)" if name in self.excluded else ""
            lines.append(
                f"{name:<24} {size:>6} {old:>8.1%} {new:>9.1%} {100 * (new - old):>+6.1f}p{mark}"
            )
        if self.excluded:
            every_old = sum(self.shipped.values()) / len(self.shipped)
            every_new = sum(self.candidate.values()) / len(self.candidate)
            change = 100 * (every_new - every_old)
            every = f"{every_old:>8.1%} {every_new:>9.1%} {change:>+6.1f}p"
            lines.append(f"{'mean, every set':<24} {'':>6} {every}")
        old, new = self.shipped_mean, self.candidate_mean
        label = "mean, decisive sets" if self.excluded else "mean"
        lines.append(f"{label:<24} {'':>6} {old:>8.1%} {new:>9.1%} {100 * (new - old):>+6.1f}p")
        return "\n".join(lines)


class ReleaseRefused(RuntimeError):
    """The candidate is worse on the benchmark than the shipped model."""

    def __init__(self, comparison: ReleaseComparison) -> None:
        self.comparison = comparison
        dropped = ", ".join(comparison.dropped()) or "none"
        super().__init__(
            f"refusing to release: mean exact accuracy {comparison.candidate_mean:.1%} is below "
            f"the shipped model's {comparison.shipped_mean:.1%}"
            + (f" (tolerance {comparison.tolerance:.1%})" if comparison.tolerance else "")
            + f"; sets that dropped: {dropped}. Pass --force to release it anyway.\n"
            + comparison.table()
        )


def compare_models(
    candidate: Solver,
    shipped: Solver,
    sets: Sequence[BenchmarkSet],
    tolerance: float = 0.0,
    advance: Advance | None = None,
    exclude_generators: Collection[str] = (),
) -> ReleaseComparison:
    """Both models on the same sets, each through its own Solver; sets drawn (even partly) by
    one of ``exclude_generators`` are left out of the decision."""
    if not sets:
        raise ValueError("the release benchmark needs at least one set")
    names = [bench.name for bench in sets]
    if len(set(names)) != len(names):
        raise ValueError(f"benchmark set names repeat: {names}")
    excluded = frozenset(b.name for b in sets if b.generators & set(exclude_generators))
    if len(excluded) == len(sets):
        raise ValueError(f"every benchmark set is drawn by {sorted(exclude_generators)}")
    return ReleaseComparison(
        candidate={b.name: exact_accuracy(candidate, b, advance) for b in sets},
        shipped={b.name: exact_accuracy(shipped, b, advance) for b in sets},
        tolerance=tolerance,
        sizes={b.name: len(b.labels) for b in sets},
        excluded=excluded,
    )


def check_release(comparison: ReleaseComparison, force: bool = False) -> None:
    """Raise ``ReleaseRefused`` when the candidate is worse, unless ``force``."""
    if not comparison.passed and not force:
        raise ReleaseRefused(comparison)
