"""The adapt loop: solve everything, ask the owner's checker, learn from what it accepts.

    adapt(init="default", images=Path("site/"), checker=..., run_dir=Path("runs/site"))

Each round: (1) the current model solves every image that has no label yet; (2) each answer
goes to the checker (an answer once rejected for an image is never sent again); (3) accepted
answers become labels; (4) the model is fine-tuned on all labels so far through the trainer's
fine-tune path (``train`` with ``init`` and ``data``), continuing from the previous round's
checkpoint; (5) repeat. With ``top_k > 1``, a rejected image is retried with up to
``top_k - 1`` runner-up answers, as long as the query budget lasts.

Run folder::

    RUN/labels/labels.csv    accepted answers (absolute image paths), the fine-tuning data
    RUN/round_N/             round N's training run (its last/ checkpoint) and model.onnx
    RUN/model.onnx           the final model; RUN/adapt.jsonl: one line per round
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from captchalab.adapt.alternatives import alternatives
from captchalab.adapt.checkers import Checker
from captchalab.data.preprocess import preprocess
from captchalab.inference import Solver
from captchalab.inference.inputs import expand_inputs
from captchalab.objectives.decoding import decode

Event = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class AdaptConfig:
    rounds: int = 3
    steps: int = 400  # fine-tuning steps per round
    batch_size: int = 32
    lr: float = 5e-4
    top_k: int = 1  # answers tried per image and round (1: only the model's best)
    query_budget: int | None = None  # checker calls in all; None: no limit
    seed: int = 0
    threads: int | None = None
    # the site's answer lengths (``Solver.with_lengths``): answers of another length are never
    # sent, since the checker would reject them; None: any length
    lengths: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.steps < 1 or self.top_k < 1:
            raise ValueError("rounds, steps and top_k must be at least 1")
        if self.lengths is not None and not self.lengths:
            raise ValueError("lengths, when given, must allow at least one length")
        if self.query_budget is not None and self.query_budget < 0:
            raise ValueError("the query budget cannot be negative")


@dataclass(frozen=True)
class AdaptRound:
    """What one round did: how the model it started with fared with the checker."""

    round: int
    images: int
    solved: int  # images still without a label at the start of the round
    accepted_first: int  # of those, accepted at the model's first answer
    accepted_alternative: int  # accepted at a runner-up answer
    labels: int  # labels after the round
    queries: int  # checker calls so far, all rounds
    trained: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RunFolderExists(FileExistsError):
    """The run folder already holds an adapt run."""


def adapt(
    init: str | Path,
    images: Path,
    checker: Checker,
    run_dir: Path,
    config: AdaptConfig | None = None,
    on_event: Event | None = None,
) -> list[AdaptRound]:
    """Adapt ``init`` (a checkpoint folder, a run folder, or ``"default"``) to ``images``."""
    from captchalab.training.config import TrainConfig
    from captchalab.training.export import export_onnx
    from captchalab.training.pretrained import resolve_init
    from captchalab.training.trainer import train

    config = config or AdaptConfig()
    run_dir = Path(run_dir)
    if (run_dir / "adapt.jsonl").exists():
        raise RunFolderExists(f"{run_dir} already holds an adapt run; use a new folder")
    files = [Path(p).absolute() for p in expand_inputs([images])]  # links keep their names
    if not Path(images).is_dir() or not files:
        raise FileNotFoundError(f"no images in {images}")
    checkpoint = _checkpoint_folder(resolve_init(str(init)))
    run_dir.mkdir(parents=True, exist_ok=True)
    model_path = export_onnx(checkpoint, run_dir / "round_0" / "model.onnx")
    labels: dict[Path, str] = {}
    rejected: dict[Path, set[str]] = {file: set() for file in files}
    queries = 0
    history: list[AdaptRound] = []
    for number in range(1, config.rounds + 1):
        solver = Solver.load(model_path, threads=config.threads).with_lengths(config.lengths)
        pending = [file for file in files if file not in labels]
        first = second = 0
        for file, answers in zip(pending, _answers(solver, pending, config.top_k), strict=True):
            for rank, answer in enumerate(answers):
                if answer in rejected[file] or not answer:
                    continue
                if config.query_budget is not None and queries >= config.query_budget:
                    break
                queries += 1
                if checker.check(file, answer):
                    labels[file] = answer
                    first, second = (first + 1, second) if rank == 0 else (first, second + 1)
                    break
                rejected[file].add(answer)
        _write_labels(run_dir / "labels", labels)
        trained = bool(labels)
        if trained:
            round_dir = run_dir / f"round_{number}"
            shutil.rmtree(round_dir / "train", ignore_errors=True)
            settings = TrainConfig(
                scheme=None,
                data=str(run_dir / "labels"),
                init=str(checkpoint),
                max_steps=config.steps,
                batch_size=config.batch_size,
                lr=config.lr,
                seed=config.seed + number,
                threads=config.threads,
                eval_every=config.steps,
                checkpoint_every=config.steps,
                channels_last=False,
            )
            train(settings, round_dir / "train")
            checkpoint = round_dir / "train" / "last"
            model_path = export_onnx(checkpoint, round_dir / "model.onnx")
        record = AdaptRound(
            number, len(files), len(pending), first, second, len(labels), queries, trained
        )
        history.append(record)
        with (run_dir / "adapt.jsonl").open("a") as log:
            log.write(json.dumps(record.to_dict()) + "\n")
        if on_event is not None:
            on_event({"event": "round", **record.to_dict()})
        if not trained or (config.query_budget is not None and queries >= config.query_budget):
            break
    shutil.copy2(model_path, run_dir / "model.onnx")
    return history


def _checkpoint_folder(path: Path) -> Path:
    """A run folder means its last checkpoint; a checkpoint folder is itself."""
    if (path / "checkpoint.json").exists():
        return path
    for name in ("last", "best"):
        if (path / name / "checkpoint.json").exists():
            return path / name
    raise FileNotFoundError(f"no checkpoint in {path}")


def _answers(solver: Solver, files: list[Path], top_k: int) -> list[list[str]]:
    """Each file's answers to try, the best first (unreadable files get none)."""
    if top_k == 1:
        return [
            [] if isinstance(result, Exception) else [result.text]
            for result in solver.solve_each(files)
        ]
    answers: list[list[str]] = []
    temperature = solver.metadata.temperature
    for start in range(0, len(files), 64):
        batch, readable = [], []
        for file in files[start : start + 64]:
            try:
                batch.append(preprocess(file, solver.preprocessing))
                readable.append(True)
            except (ValueError, OSError):
                readable.append(False)
        logits = solver.logits(np.stack(batch)) / temperature if batch else np.zeros((0,))
        rows = iter(logits)
        for ok in readable:
            if not ok:
                answers.append([])
                continue
            row = next(rows)
            tried = alternatives(row, solver.charset, solver.metadata.objective, top_k)
            lengths = solver.lengths
            if lengths is not None:  # the best answer that fits first, then fitting runner-ups
                best = decode(row[None], solver.charset, solver.metadata.objective, lengths)
                fitting = [a for a in tried if len(a) in lengths and a != best[0].text]
                tried = [best[0].text, *fitting][:top_k]
            answers.append(tried)
    return answers


def _write_labels(folder: Path, labels: dict[Path, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "labels.csv.tmp"
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "label"])
        writer.writerows((str(path), text) for path, text in labels.items())
    partial.replace(folder / "labels.csv")  # never a half-written label file
