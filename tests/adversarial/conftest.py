"""Fixtures for the hardening tests: captchas of the protected scheme and a tiny solver that
has memorised them (trained in a few seconds, so that an attack has something to break)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SAMPLES = 24


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """These models are tiny: one thread is faster than two fighting over shared cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def captchas() -> tuple[list[Image.Image], list[str]]:
    from captchalab.schemes import get_scheme

    scheme = get_scheme("merged4")
    pairs = [scheme.sample_at(7, i) for i in range(SAMPLES)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _memorise(
    folder: Path,
    captchas: tuple[list[Image.Image], list[str]],
    channels: list[int],
    seed: int,
    width: int = 96,
) -> Path:
    """A tiny multi-head CNN trained until it reads the fixture captchas (>= 90%)."""
    import torch

    from captchalab.adversarial.finetune import accuracy
    from captchalab.charset import Charset
    from captchalab.data.preprocess import Preprocessing, to_array
    from captchalab.objectives import create_objective
    from captchalab.training.checkpoint import CheckpointMeta, build_model, save_checkpoint

    meta = CheckpointMeta(
        "multihead",
        {"channels": channels, "hidden": 64, "dropout": 0.0},
        "fixed_length",
        Charset.from_spec("@digits"),
        4,
        Preprocessing(height=32, width=width),
        {},
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = build_model(meta)
    objective = create_objective(meta.objective, meta.charset, meta.max_length)
    images, texts = captchas
    arrays = np.stack([np.round(to_array(im, meta.preprocessing) * 255) for im in images])
    arrays = arrays.astype(np.uint8)
    batch = torch.from_numpy(arrays).float() / 255.0
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(400):
        model.train()
        loss = objective.loss(model(batch), texts)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 24 and accuracy(model, objective, arrays, texts) >= 0.95:
            break
    torch.set_num_threads(threads)
    assert accuracy(model, objective, arrays, texts) >= 0.9
    return save_checkpoint(folder, model, meta)


@pytest.fixture(scope="session")
def memorised_checkpoint(
    tmp_path_factory: pytest.TempPathFactory, captchas: tuple[list[Image.Image], list[str]]
) -> Path:
    """A tiny multi-head CNN that has memorised the fixture captchas."""
    return _memorise(tmp_path_factory.mktemp("memorised") / "ckpt", captchas, [8, 16, 16], 0)


@pytest.fixture(scope="session")
def second_memorised_checkpoint(
    tmp_path_factory: pytest.TempPathFactory, captchas: tuple[list[Image.Image], list[str]]
) -> Path:
    """Another model of the same captchas: other widths, other seed, another input size."""
    folder = tmp_path_factory.mktemp("memorised_second") / "ckpt"
    return _memorise(folder, captchas, [16, 16, 32], 1, width=128)


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory, make_checkpoint) -> dict[str, Path]:
    """Untrained tiny checkpoints of each model family (their gradients are not zero)."""
    root = tmp_path_factory.mktemp("tiny")
    return {name: make_checkpoint(root / name, name) for name in ("crnn", "multihead", "attention")}
