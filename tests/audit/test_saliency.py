"""Saliency for every model family, and attention maps for the attention model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from captchalab.audit.plots import example_grid
from captchalab.audit.saliency import attention_maps, gradient_saliency, has_attention


@pytest.mark.parametrize("model", ["crnn", "multihead", "attention"])
def test_maps_have_image_shape(model: str, tmp_path: Path, make_checkpoint) -> None:
    checkpoint = make_checkpoint(tmp_path / model, model)
    images = np.random.default_rng(0).integers(0, 256, (3, 1, 32, 96), dtype=np.uint8)
    saliency = gradient_saliency(checkpoint, images)
    assert saliency.shape == (3, 32, 96)
    assert np.all(saliency >= 0) and np.allclose(saliency.max(axis=(1, 2)), 1.0)
    assert has_attention(checkpoint) == (model == "attention")
    if model == "attention":
        maps, lengths = attention_maps(checkpoint, images)
        assert maps.shape == (3, 7, 32, 96) and len(lengths) == 3
        png = example_grid(images, [m[:2] for m in maps], ["a", "b", "c"], "attention")
        assert png.startswith(b"\x89PNG")
