"""Every registered model: forward shapes, backward, decode (ONNX parity: tests/inference)."""

import pytest
import torch

from captchalab.charset import Charset
from captchalab.models import create_model, list_models, model_entry
from captchalab.objectives import create_objective
from captchalab.objectives.decoding import DECODERS

CHARSET = Charset.from_spec("@hku")
TEXTS = ["abcd", "ABCDE", "123456", "xyz9"]


def _build(name: str, **extra: object) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(
        name,
        num_classes=CHARSET.num_classes,
        in_channels=1,
        height=32,
        width=96,
        max_length=6,
        **extra,
    )


def test_all_three_families_are_registered_with_known_objectives() -> None:
    assert {"multihead", "crnn", "attention"} <= set(list_models())
    for name in list_models():
        assert model_entry(name).objective in DECODERS


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_decode(name: str) -> None:
    model = _build(name)
    objective = create_objective(model_entry(name).objective, CHARSET, max_length=6)
    images = torch.rand(len(TEXTS), 1, 32, 96)
    teacher = objective.teacher_forcing_targets(TEXTS)
    logits = model(images) if teacher is None else model(images, teacher)
    assert logits.ndim == 3 and logits.shape[0] == len(TEXTS)
    assert logits.shape[2] == CHARSET.num_classes
    loss = objective.loss(logits, TEXTS)
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    model.eval()
    with torch.no_grad():
        decoded = objective.decode(model(images))
    assert len(decoded) == len(TEXTS)
    for item in decoded:
        assert 0.0 <= item.confidence <= 1.0
        assert len(item.char_probs) == len(item.text) <= 6
        assert set(item.text) <= set(CHARSET.symbols)


def test_crnn_resnet_backbone_and_frame_check() -> None:
    assert _build("crnn", backbone="resnet")(torch.rand(2, 1, 32, 96)).shape == (2, 24, 60)
    with pytest.raises(ValueError, match="frames"):
        create_model("crnn", num_classes=5, in_channels=1, height=32, width=32, max_length=8)


def test_attention_maps_cover_the_feature_grid() -> None:
    model = _build("attention")
    model.eval()
    _, weights = model.forward_with_attention(torch.rand(2, 1, 32, 96))
    grid_h, grid_w = model.grid
    assert weights.shape == (2, 7, grid_h * grid_w)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 7))


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown model 'vit'"):
        create_model("vit")


@pytest.mark.parametrize("name", ["crnn", "multihead"])
def test_the_row_channel_makes_vertical_position_visible(name: str) -> None:
    """A block moved 4 rows down: the plain stem answers it identically (a convolution does not
    know where it is), the stem with the row channel does not."""
    plain, rows = _build(name), _build(name, row_channel=True)
    assert rows.rows is not None and plain.rows is None
    images = torch.zeros(2, 1, 32, 96)
    images[0, :, 8:12, 40:48] = 1.0
    images[1, :, 12:16, 40:48] = 1.0
    stem = rows.backbone[0]
    rows.eval()
    with torch.no_grad():
        out = stem(rows.rows(images))
    assert not torch.allclose(out[0, :, 8:12, 40:48], out[1, :, 12:16, 40:48])
    with torch.no_grad():
        plain.eval()
        same = plain.backbone[0](images)
    assert torch.allclose(same[0, :, 8:12, 40:48], same[1, :, 12:16, 40:48])
