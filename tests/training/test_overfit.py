"""A model must be able to learn: 100% on 32 fixed images."""

import numpy as np
import torch

from captchalab.data.cache import render_arrays
from captchalab.data.preprocess import Preprocessing
from captchalab.models import create_model
from captchalab.objectives import create_objective
from captchalab.schemes import get_scheme
from captchalab.training.predict import predict_arrays


def test_models_overfit_32_fixed_captchas() -> None:
    torch.manual_seed(0)
    spec = Preprocessing(height=32, width=96)
    images, texts = render_arrays("digits5", spec, seed=123, count=32, workers=1)
    charset = get_scheme("digits5").charset
    model = create_model(
        "multihead",
        num_classes=charset.num_classes,
        in_channels=1,
        height=32,
        width=96,
        max_length=5,
        channels=(8, 16, 32),
        hidden=128,
        dropout=0.0,
    )
    objective = create_objective("fixed_length", charset, max_length=5)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch = torch.from_numpy(images).float() / 255.0
    accuracy = 0.0
    for step in range(300):
        model.train()
        loss = objective.loss(model(batch), texts)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 9:
            predicted = [p.text for p in predict_arrays(model, objective, images)]
            accuracy = float(np.mean([p == t for p, t in zip(predicted, texts, strict=True)]))
            if accuracy == 1.0:
                break
    assert accuracy == 1.0
