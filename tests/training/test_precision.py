"""bf16 autocast: the flag checks, the CPU test, and that the trainer really runs in it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from captchalab.training import trainer as trainer_module
from captchalab.training.config import config_from_dict
from captchalab.training.precision import (
    autocast,
    check_precision,
    cpu_flags,
    describe_simd,
    native_bf16,
    precision_warning,
)
from captchalab.training.trainer import train
from tests.training.test_resume import CONFIG as RESUME_CONFIG

# the resume test's tiny CRNN run, three steps long
CONFIG = replace(RESUME_CONFIG, max_steps=3, cache_size=16, eval_every=3, checkpoint_every=3)


def test_unknown_precision_is_an_error() -> None:
    with pytest.raises(ValueError, match="float32, bf16"):
        check_precision("fp8")
    with pytest.raises(ValueError, match="precision"):
        config_from_dict({"scheme": "digits5", "precision": "half"})
    assert config_from_dict({"scheme": "digits5", "precision": "bf16"}).precision == "bf16"


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 fma avx512f avx512_bf16\n")
    flags = cpu_flags(cpuinfo)
    assert {"avx2", "avx512_bf16"} <= flags and "fpu" in flags and ":" not in flags
    assert native_bf16(flags)
    assert describe_simd(flags).startswith("avx2 yes, fma yes, avx512f yes, avx512_bf16 yes")
    assert cpu_flags(tmp_path / "missing") == frozenset()
    assert describe_simd(frozenset()) == "unknown"


def test_bf16_without_native_support_warns() -> None:
    avx2_only = frozenset({"avx2", "fma"})
    assert not native_bf16(avx2_only)
    assert "slower" in (precision_warning("bf16", "cpu", avx2_only) or "")
    assert precision_warning("bf16", "cpu", frozenset({"amx_bf16"})) is None
    assert precision_warning("float32", "cpu", avx2_only) is None


def test_autocast_computes_in_bf16_and_float32_stays_float32() -> None:
    layer = torch.nn.Linear(4, 3)
    inputs = torch.randn(2, 4)
    with autocast("bf16", "cpu"):
        assert layer(inputs).dtype == torch.bfloat16
    with autocast("float32", "cpu"):
        assert layer(inputs).dtype == torch.float32


def test_trainer_runs_its_steps_under_bf16(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The forward passes of a bf16 run are in bfloat16; weights and checkpoints stay float32."""
    seen: list[str] = []

    @contextlib.contextmanager
    def recording(precision: str, device: torch.device | str) -> Iterator[None]:
        seen.append(precision)
        with autocast(precision, device):
            probe = torch.nn.functional.linear(torch.ones(1, 2), torch.ones(2, 2))
            seen.append(str(probe.dtype))
            yield

    monkeypatch.setattr(trainer_module, "autocast", recording)
    metrics = train(replace(CONFIG, precision="bf16"), tmp_path / "run", device="cpu")
    assert seen == ["bf16", "torch.bfloat16"] * CONFIG.max_steps
    assert torch.isfinite(torch.tensor(metrics["loss"]))
    weights = load_file(str(tmp_path / "run" / "last" / "model.safetensors"))
    assert {tensor.dtype for tensor in weights.values() if tensor.is_floating_point()} == {
        torch.float32
    }
