"""torchrun (DDP) support: the same training command runs on one CPU or many GPUs."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | None = None) -> DistInfo:
    """Join the process group when launched by torchrun; pick CUDA when present."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    target = torch.device(device)
    if target.type == "cuda":
        torch.cuda.set_device(target)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if target.type == "cuda" else "gloo")
    return DistInfo(rank, world_size, target)


def wrap(model: nn.Module, info: DistInfo) -> nn.Module:
    if info.world_size == 1:
        return model
    ids = [info.device.index] if info.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def all_agree(flag: bool, info: DistInfo) -> bool:
    """Rank 0's decision (e.g. early stop), shared with every rank."""
    if info.world_size == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.broadcast(value, src=0)
    return bool(value.item())


def teardown(together: bool = True) -> None:
    """Leave the process group.

    ``together`` (the normal end) waits for every rank first: a rank that destroys its gloo
    group while another is still working (rank 0 writing the last checkpoint) can abort in
    gloo's destructor. After an error pass ``False``: the other ranks may never reach the
    barrier, and waiting would turn a crash into a hang.
    """
    if dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()
