"""Every registered model must be able to learn: 100% on 32 fixed images."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing, to_array
from captchalab.models import create_model, list_models, model_entry
from captchalab.objectives import create_objective
from captchalab.schemes.styled import Style, StyledScheme
from captchalab.training.predict import predict_arrays

# Small, yet able to memorise 32 captchas in a few hundred steps. A model added later
# trains with its defaults (give it an entry here to keep the test fast).
OVERFIT_ARGS: dict[str, dict[str, Any]] = {
    "multihead": {"channels": (8, 16, 32), "hidden": 128, "dropout": 0.0},
    "crnn": {"channels": (8, 16, 32, 32), "hidden": 48, "dropout": 0.0},
    "attention": {
        "channels": (8, 8, 16, 16, 32, 32),
        "hidden": 64,
        "embedding": 16,
        "attention_dim": 32,
    },
}
MAX_STEPS = 600  # CTC sits on its blank plateau for ~200 of them before it learns
SPEC = Preprocessing(height=32, width=96)


def fixed_captchas(count: int = 32) -> tuple[np.ndarray, list[str], Charset]:
    """Clean 5-digit captchas (the test is about learning, not about hard images)."""
    charset = Charset("0123456789")
    style = Style(font_size=(22, 22), rotation=5.0, spacing=(0.0, 0.1))
    scheme = StyledScheme(
        name="overfit",
        charset=charset,
        min_length=5,
        max_length=5,
        width=96,
        height=32,
        style=style,
    )
    samples = [scheme.sample_at(123, index) for index in range(count)]
    images = np.stack(
        [np.round(to_array(image, SPEC) * 255).astype(np.uint8) for image, _ in samples]
    )
    return images, [text for _, text in samples], charset


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread, and a busy machine does not slow them more."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", list_models())
def test_every_model_overfits_32_fixed_captchas(name: str, one_thread: None) -> None:
    torch.manual_seed(0)
    images, texts, charset = fixed_captchas()
    model = create_model(
        name,
        num_classes=charset.num_classes,
        in_channels=1,
        height=SPEC.height,
        width=SPEC.width,
        max_length=5,
        **OVERFIT_ARGS.get(name, {}),
    )
    objective = create_objective(model_entry(name).objective, charset, max_length=5)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch = torch.from_numpy(images).float() / 255.0
    teacher = objective.teacher_forcing_targets(texts)  # attention decoders are taught
    accuracy, step = 0.0, 0
    for step in range(1, MAX_STEPS + 1):
        model.train()
        logits = model(batch) if teacher is None else model(batch, teacher)
        loss = objective.loss(logits, texts)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 20 == 0:
            predicted = [p.text for p in predict_arrays(model, objective, images)]
            accuracy = float(np.mean([p == t for p, t in zip(predicted, texts, strict=True)]))
            if accuracy == 1.0:
                break
    assert accuracy == 1.0, f"{name}: {accuracy:.0%} of the training images after {step} steps"
