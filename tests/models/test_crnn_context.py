"""CRNN with self-attention after the BiLSTM: shapes, errors, learning, ONNX at every width."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from captchalab.charset import Charset
from captchalab.data.preprocess import Preprocessing, width_groups
from captchalab.models import create_model
from captchalab.training.checkpoint import CheckpointMeta, build_model, save_checkpoint
from captchalab.training.export import check_parity, export_onnx

ARGS = {"channels": [8, 8, 16, 16], "hidden": 16, "context_layers": 2, "heads": 4}


def _model(**changes: object) -> torch.nn.Module:
    args = {**ARGS, **changes}
    return create_model(
        "crnn", num_classes=11, in_channels=1, height=32, width=96, max_length=6, **args
    )


def test_context_layers_keep_the_frame_shape_and_add_parameters() -> None:
    torch.manual_seed(0)
    plain, context = _model(context_layers=0), _model()
    images = torch.rand(3, 1, 32, 96)
    assert context(images).shape == plain(images).shape == (3, 24, 11)
    extra = sum(p.numel() for p in context.parameters()) - sum(
        p.numel() for p in plain.parameters()
    )
    assert extra > 0


def test_bad_context_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="heads dividing 32"):
        _model(heads=5)
    with pytest.raises(ValueError, match="context_layers >= 0"):
        _model(context_layers=-1)


def test_context_layers_learn() -> None:
    torch.manual_seed(0)
    model = _model()
    images, targets = torch.rand(4, 1, 32, 96), torch.randint(1, 11, (4, 3))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        log_probs = model(images).log_softmax(-1).transpose(0, 1)
        loss = torch.nn.functional.ctc_loss(
            log_probs, targets, torch.full((4,), 24), torch.full((4,), 3)
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    assert all(p.grad is not None for p in model.context.parameters())


@pytest.mark.parametrize("model_args", [ARGS, {**ARGS, "row_channel": True}])
def test_export_matches_torch_at_every_width(tmp_path: Path, model_args: dict) -> None:
    spec = Preprocessing(height=32, width=160, resize="pad", dynamic_width=True, min_width=48)
    meta = CheckpointMeta(
        model_name="crnn",
        model_args=model_args,
        objective="ctc",
        charset=Charset.from_spec("@digits"),
        max_length=6,
        preprocessing=spec,
        config={},
    )
    torch.manual_seed(0)
    checkpoint = save_checkpoint(tmp_path / "ckpt", build_model(meta), meta)
    onnx_path = export_onnx(checkpoint, tmp_path / "context.onnx")
    rng = np.random.default_rng(0)
    images = np.full((4, 1, 32, 160), 0.9, dtype=np.float32)
    for i, width in enumerate((40, 70, 110, 160)):  # content widths -> 4 input widths
        images[i, :, 4:28, :width] = rng.random((24, width), dtype=np.float32) * 0.5
    assert len(width_groups(images, spec)) == 4
    report = check_parity(checkpoint, onnx_path, images)
    assert report.ok(), report


def test_the_row_channel_tells_the_model_where_ink_is() -> None:
    """The appended channel is each pixel's row, the same in every column, at the model's height."""
    torch.manual_seed(0)
    with_rows, without = _model(row_channel=True), _model()
    assert with_rows.rows is not None and without.rows is None
    stacked = with_rows.rows(torch.zeros(2, 1, 32, 96))
    assert stacked.shape == (2, 2, 32, 96)
    assert torch.allclose(stacked[0, 1, :, 0], torch.linspace(-1, 1, 32))
    assert (stacked[:, 1] == stacked[:, 1, :, :1]).all()  # the same in every column
    first = with_rows.backbone[0][0]
    assert first.in_channels == 2 and without.backbone[0][0].in_channels == 1
    assert "rows.values" not in with_rows.state_dict()  # computed, so checkpoints stay small
    with pytest.raises(ValueError, match="built for height 32, got 48"):
        with_rows(torch.rand(1, 1, 48, 96))
