"""The training loop: AdamW, a step-indexed LR schedule, checkpoints, resume, early stop.

Run folder layout::

    RUN/last/    the newest checkpoint (resume point)
    RUN/best/    the checkpoint with the best validation accuracy
    RUN/metrics.jsonl, RUN/config.yaml, RUN/cache/ (pre-rendered images)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from captchalab.evaluation import evaluate_predictions
from captchalab.models import model_entry
from captchalab.objectives import Objective, create_objective
from captchalab.training import distributed
from captchalab.training.augment import augment_batch
from captchalab.training.checkpoint import (
    CheckpointMeta,
    build_model,
    load_checkpoint,
    load_training_state,
    save_checkpoint,
)
from captchalab.training.config import TrainConfig
from captchalab.training.grow import grow_model
from captchalab.training.precision import autocast, precision_warning
from captchalab.training.predict import predict_arrays
from captchalab.training.run_data import (
    Progress,
    RunData,
    batches,
    label_needs,
    prepare_data,
    preprocessing_of,
    reshaped_input,
)
from captchalab.training.schedule import learning_rate
from captchalab.training.widen import widen_model

log = logging.getLogger(__name__)
Event = Callable[[dict[str, Any]], None]


class RunExistsError(RuntimeError):
    """The run folder already holds a checkpoint and ``resume`` was not asked for."""


def train(
    config: TrainConfig,
    run_dir: Path,
    resume: bool = False,
    on_event: Event | None = None,
    progress: Progress | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Train per ``config`` into ``run_dir``; returns the final validation metrics."""
    run_dir = Path(run_dir)
    if (run_dir / "last").exists() and not resume:
        raise RunExistsError(
            f"{run_dir} already has a checkpoint: pass --resume, or use a new folder"
        )
    try:  # any error after joining the process group leaves it
        info = distributed.setup(device)
        metrics = _train(config, run_dir, info, resume, on_event, progress)
    except BaseException:
        distributed.teardown(together=False)
        raise
    distributed.teardown()
    return metrics


def _train(
    config: TrainConfig,
    run_dir: Path,
    info: distributed.DistInfo,
    resume: bool,
    on_event: Event | None,
    progress: Progress | None,
) -> dict[str, Any]:
    if config.threads:
        torch.set_num_threads(config.threads)
    slow = precision_warning(config.precision, info.device)
    if slow and info.is_main:
        log.warning("%s", slow)
    torch.manual_seed(config.seed + info.rank)
    meta, model, data = _setup_model(config, run_dir, progress)
    objective = create_objective(meta.objective, data.charset, data.max_length)
    model.to(info.device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    step = 0
    if resume and (run_dir / "last").exists():
        last, last_meta = load_checkpoint(run_dir / "last")
        model.load_state_dict(last.state_dict())
        load_training_state(run_dir / "last", optimizer)
        step = last_meta.step
        log.info("resumed %s at step %d", run_dir, step)
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    loop = _Loop(
        config,
        run_dir,
        meta,
        distributed.wrap(model, info),
        objective,
        optimizer,
        data,
        info,
        on_event,
    )
    return loop.run(step)


def _setup_model(
    config: TrainConfig, run_dir: Path, progress: Progress | None
) -> tuple[CheckpointMeta, nn.Module, RunData]:
    cache_dir = run_dir / "cache"
    if config.init:
        from captchalab.training.pretrained import resolve_init

        init_model, init_meta = load_checkpoint(resolve_init(config.init))
        preprocessing = init_meta.preprocessing
        if config.reshape_input:
            preprocessing = reshaped_input(init_meta, preprocessing_of(config))
            init_meta = replace(init_meta, preprocessing=preprocessing)
        if config.model == init_meta.model_name:  # the config may add blocks to the model
            init_model, init_meta = grow_model(init_model, init_meta, dict(config.model_args))
        # a site's own symbols and lengths: new output rows, a longer CTC label
        init_model, init_meta = widen_model(init_model, init_meta, *label_needs(config))
        data = prepare_data(
            config,
            cache_dir,
            charset=init_meta.charset,
            preprocessing=preprocessing,
            max_length=init_meta.max_length,
            progress=progress,
        )
        meta = replace(init_meta, config=config.to_dict(), step=0, metrics=None)
        return meta, init_model, data
    if config.dynamic_width and model_entry(config.model).objective != "ctc":
        raise ValueError(
            f"dynamic_width needs a width-free CTC model (crnn, cnnctc); {config.model!r} "
            "reads a fixed width"
        )
    data = prepare_data(config, cache_dir, progress=progress)
    meta = CheckpointMeta(
        model_name=config.model,
        model_args=dict(config.model_args),
        objective=model_entry(config.model).objective,
        charset=data.charset,
        max_length=data.max_length,
        preprocessing=data.preprocessing,
        config=config.to_dict(),
    )
    return meta, build_model(meta), data


class _Loop:
    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        meta: CheckpointMeta,
        model: nn.Module,
        objective: Objective,
        optimizer: torch.optim.Optimizer,
        data: RunData,
        info: distributed.DistInfo,
        on_event: Event | None,
    ) -> None:
        self.config, self.run_dir, self.meta, self.model = config, run_dir, meta, model
        self.objective, self.optimizer, self.data, self.info = objective, optimizer, data, info
        self.on_event = on_event or (lambda event: None)
        self.best = self._previous_best()

    def _previous_best(self) -> tuple[float, float]:
        """(exact accuracy, -CER) of ``best/``: a higher pair is better."""
        best_meta = self.run_dir / "best" / "checkpoint.json"
        if best_meta.exists():
            metrics = json.loads(best_meta.read_text())["metrics"]
            return (
                float(metrics.get("exact_accuracy", -1)),
                -float(metrics.get("character_error_rate", 1)),
            )
        return (-1.0, -float("inf"))

    def run(self, step: int) -> dict[str, Any]:
        config, metrics = self.config, {}
        generator = torch.Generator()
        started, seen = time.perf_counter(), 0
        self.model.train()
        end = min(config.max_steps, config.stop_at or config.max_steps)
        if step == 0 and config.init:
            # the starting weights are the first candidate for best/: fine-tuning a few
            # images can only replace them by doing better on the held-out ones
            metrics = self._validate(0, None, 0.0)
        for images, texts in batches(self.data, config, step, self.info.rank, self.info.world_size):
            if step >= end:
                break
            loss, lr = self._step(images, texts, step, generator)
            step, seen = step + 1, seen + len(texts)
            elapsed = time.perf_counter() - started
            self.on_event(
                {
                    "event": "step",
                    "step": step,
                    "loss": loss,
                    "lr": lr,
                    "images_per_s": seen * self.info.world_size / max(elapsed, 1e-9),
                }
            )
            done = step >= end
            if step % config.eval_every == 0 or done:
                metrics = self._validate(step, loss, lr)
                target = config.target_accuracy
                done = done or (target is not None and metrics["exact_accuracy"] >= target)
            if step % config.checkpoint_every == 0 or done:
                self._save("last", step, metrics)
            if distributed.all_agree(done, self.info):
                break
        return metrics

    def _step(
        self, images: torch.Tensor, texts: list[str], step: int, generator: torch.Generator
    ) -> tuple[float, float]:
        config = self.config
        if config.augment:
            # seeded by the step, so a resumed run augments exactly as an uninterrupted one
            generator.manual_seed(config.seed * 1_000_003 + step)
            images = augment_batch(images, generator)
        images = images.to(self.info.device)
        if config.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        lr = learning_rate(
            step, config.max_steps, config.lr, config.schedule, config.warmup_fraction
        )
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        teacher = self.objective.teacher_forcing_targets(texts)
        with autocast(config.precision, images.device):
            logits = (
                self.model(images)
                if teacher is None
                else self.model(images, teacher.to(images.device))
            )
            loss = self.objective.loss(logits.float(), texts)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
        self.optimizer.step()
        return float(loss.detach()), lr

    def _validate(self, step: int, loss: float | None, lr: float) -> dict[str, Any]:
        model = distributed.unwrap(self.model)
        predictions = predict_arrays(
            model,
            self.objective,
            self.data.val_images,
            device=self.info.device,
            preprocessing=self.data.preprocessing,
        )
        result = evaluate_predictions(
            self.data.val_texts,
            [p.text for p in predictions],
            [p.confidence for p in predictions],
            case_sensitive=self.data.charset.case_sensitive,
        )
        metrics = {
            "step": step,
            "loss": loss,
            "lr": lr,
            "exact_accuracy": result.exact_accuracy,
            "character_error_rate": result.character_error_rate,
            "time": time.time(),
        }
        if self.info.is_main:
            with (self.run_dir / "metrics.jsonl").open("a") as handle:
                handle.write(json.dumps(metrics) + "\n")
            score = (result.exact_accuracy, -result.character_error_rate)
            if score > self.best:  # ties on exact accuracy go to the lower CER
                self.best = score
                self._save("best", step, metrics, with_optimizer=False)
        self.on_event({"event": "validation", **metrics, "best": self.best[0]})
        return metrics

    def _save(
        self, name: str, step: int, metrics: dict[str, Any], with_optimizer: bool = True
    ) -> None:
        if not self.info.is_main:
            return
        meta = replace(self.meta, step=step, metrics=metrics)
        model = distributed.unwrap(self.model)
        save_checkpoint(
            self.run_dir / name, model, meta, self.optimizer if with_optimizer else None
        )
