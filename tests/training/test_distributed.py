"""The training command runs unchanged under torchrun (two CPU processes, gloo)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml


def test_torchrun_two_processes(tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": "crnn",
                "scheme": "digits5",
                "height": 32,
                "width": 96,
                "batch_size": 4,
                "max_steps": 2,
                "cache_size": 16,
                "val_size": 8,
                "eval_every": 2,
                "threads": 1,
                "model_args": {"channels": [8, 8, 16, 16], "hidden": 16},
            }
        )
    )
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-port",
        "29517",
        "-m",
        "captchalab.cli",
        "train",
        "--config",
        str(config),
        "-o",
        str(run),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((run / "last" / "checkpoint.json").read_text())["step"] == 2
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1  # only rank 0 writes
