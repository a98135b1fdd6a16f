"""Run under torchrun (2 CPU processes, gloo) by test_distributed.py; not a test module itself.

Every rank builds the same model, takes its slice of training step ``STEP`` from ``batches``,
and backpropagates through DistributedDataParallel. Rank 0 then does what one process with
the whole global batch does (``batch_size * world_size`` images from the same ``batches``) and
writes both gradients, the global-batch texts and a local-only gradient to ``argv[1]`` (JSON).

BatchNorm layers are put in eval mode on both sides (under DDP each process normalises by its
own slice's statistics; SyncBatchNorm needs GPUs) and dropout is off: with those two random or
slice-dependent parts removed, the rest (sharding, loss, gradient averaging) must match one
process up to float32 rounding.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from captchalab.objectives import create_objective
from captchalab.training import distributed
from captchalab.training.checkpoint import CheckpointMeta, build_model
from captchalab.training.config import TrainConfig
from captchalab.training.run_data import batches, prepare_data

STEP = 3  # second batch of the second epoch (16 cached images, global batch 8)


def freeze_batchnorm(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def gradients(model: nn.Module) -> list[list[float]]:
    return [p.grad.flatten().tolist() for p in model.parameters() if p.grad is not None]


def main(out: Path) -> None:
    info = distributed.setup("cpu")
    torch.set_num_threads(1)
    config = TrainConfig(
        model="crnn",
        scheme="digits5",
        height=32,
        width=96,
        batch_size=4,
        cache_size=16,
        val_size=4,
        augment=False,
        model_args={"channels": [8, 8, 16, 16], "hidden": 16, "dropout": 0.0},
    )
    data = prepare_data(config, out.parent / f"cache{info.rank}")
    meta = CheckpointMeta(
        model_name="crnn",
        model_args=dict(config.model_args),
        objective="ctc",
        charset=data.charset,
        max_length=data.max_length,
        preprocessing=data.preprocessing,
        config=config.to_dict(),
    )
    objective = create_objective(meta.objective, data.charset, data.max_length)
    torch.manual_seed(info.rank)  # different on purpose: DDP must broadcast rank 0's weights
    model = build_model(meta)
    ddp = distributed.wrap(model, info)
    ddp.train()
    freeze_batchnorm(ddp)
    images, texts = next(batches(data, config, STEP, info.rank, info.world_size))
    local = copy.deepcopy(model)  # rank 0's weights, as DDP broadcast them at wrap time
    objective.loss(ddp(images), texts).backward()
    shards: list[list[str]] = [[] for _ in range(info.world_size)]
    dist.all_gather_object(shards, texts)
    if info.is_main:
        # The same slice without DDP: what rank 0 alone would step on.
        freeze_batchnorm(local)
        objective.loss(local(images), texts).backward()
        # One process, the whole global batch, from the same data path.
        single = copy.deepcopy(local)
        single.zero_grad()
        whole = replace(config, batch_size=config.batch_size * info.world_size)
        all_images, all_texts = next(batches(data, whole, STEP, 0, 1))
        objective.loss(single(all_images), all_texts).backward()
        out.write_text(
            json.dumps(
                {
                    "ddp": gradients(model),
                    "single": gradients(single),
                    "local": gradients(local),
                    "ddp_texts": [t for shard in shards for t in shard],
                    "single_texts": all_texts,
                }
            )
        )
    distributed.teardown()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
