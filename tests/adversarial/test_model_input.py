from __future__ import annotations

import numpy as np
import pytest
import torch

from captchalab.adversarial.model_input import median_filter, model_input
from captchalab.adversarial.quantise import to_tensor
from captchalab.data.preprocess import Preprocessing, to_array
from captchalab.schemes import get_scheme


@pytest.mark.parametrize(
    "spec",
    [
        Preprocessing(32, 96, 1, "stretch"),
        Preprocessing(32, 128, 1, "pad"),
        Preprocessing(40, 100, 3, "stretch"),
        Preprocessing(40, 120, 1, "stretch", median_filter=3),
    ],
    ids=["stretch", "pad", "rgb", "median"],
)
def test_torch_preprocessing_matches_the_one_preprocessing_path(spec: Preprocessing) -> None:
    scheme = get_scheme("merged4+mix")
    for index in range(6):
        image, _ = scheme.sample_at(0, index)
        reference = to_array(image, spec)
        ours = model_input(to_tensor([image]), spec)[0].numpy()
        assert ours.shape == reference.shape
        difference = np.abs(ours - reference) * 255
        assert difference.max() <= 2.5 and difference.mean() <= 0.6


def test_gradients_reach_the_served_pixels() -> None:
    image, _ = get_scheme("merged4").sample_at(0, 0)
    x = to_tensor([image]).requires_grad_(True)
    model_input(x, Preprocessing(32, 96, 1, "stretch")).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_median_filter_removes_a_lone_pixel() -> None:
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    assert float(median_filter(x, 3).abs().sum()) == 0.0
