"""Training precision: float32, or bfloat16 autocast where the CPU computes it natively.

bf16 autocast runs convolutions, matrix products and recurrent cells in bfloat16 while the
weights, the optimiser state and the losses stay float32. On a CPU with AVX512-BF16 or AMX
that is close to twice the model step's speed; on one without (AVX2 only), PyTorch emulates
bfloat16 and the step gets several times *slower*, so :func:`precision_warning` says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import torch

Precision = Literal["float32", "bf16"]
PRECISIONS: tuple[Precision, ...] = ("float32", "bf16")
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
SIMD_FLAGS = ("avx2", "fma", "avx512f", *NATIVE_BF16_FLAGS)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (empty where ``/proc/cpuinfo`` cannot be read)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def describe_simd(flags: frozenset[str]) -> str:
    """``"avx2 yes, fma yes, avx512f no, ..."``: the extensions that decide bf16's payoff."""
    if not flags:
        return "unknown"
    return ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in SIMD_FLAGS)


def native_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU has bfloat16 arithmetic in hardware (AVX512-BF16 or AMX)."""
    present = cpu_flags() if flags is None else flags
    return any(flag in present for flag in NATIVE_BF16_FLAGS)


def check_precision(precision: str) -> Precision:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    return precision


def precision_warning(
    precision: str, device: torch.device | str, flags: frozenset[str] | None = None
) -> str | None:
    """Why ``precision`` will be slow on ``device``, or ``None`` when it should pay off."""
    if check_precision(precision) != "bf16" or torch.device(device).type != "cpu":
        return None
    if native_bf16(flags):
        return None
    return (
        "precision bf16 on a CPU without AVX512-BF16 or AMX: PyTorch emulates bfloat16 there "
        "and training runs several times slower than float32"
    )


@contextlib.contextmanager
def autocast(precision: str, device: torch.device | str) -> Iterator[None]:
    """Forward passes inside run in ``precision`` (a no-op for float32)."""
    if check_precision(precision) == "float32":
        yield
        return
    with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
        yield
