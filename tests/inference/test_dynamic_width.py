"""Dynamic-width models: each image is read at its own width, the same way everywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import CheckpointFactory
from PIL import Image

from captchalab.data import resize
from captchalab.data.preprocess import (
    Preprocessing,
    input_widths,
    load_image,
    to_array,
    trim,
    width_groups,
)
from captchalab.inference import Solver
from captchalab.training.export import check_parity, export_onnx

SPEC = Preprocessing(height=32, width=192, resize="pad", dynamic_width=True, min_width=48)


def _captcha(width: int, height: int, seed: int) -> Image.Image:
    """Dark strokes on a light, flat background (its right margin is background too)."""
    rng = np.random.default_rng(seed)
    pixels = np.full((height, width, 3), 235, dtype=np.uint8)
    for x in range(4, width - 8, 9):
        top = int(rng.integers(0, height // 3))
        pixels[top : top + height // 2, x : x + 3] = rng.integers(0, 80, 3)
    return Image.fromarray(pixels)


def test_content_width_cuts_fill_columns_only() -> None:
    planes = np.full((1, 4, 10), 0.5, dtype=np.float32)
    planes[0, 2, 6] = 0.1
    assert resize.content_width(planes) == 7
    planes[0, 3, 9] = 0.2  # the right edge varies: nothing is fill
    assert resize.content_width(planes) == 10
    assert resize.content_width(np.full((3, 4, 10), 0.5)) == 0


def test_input_width_steps_and_bounds() -> None:
    assert resize.WIDTH_STEP == 16
    assert [resize.input_width(c, 48, 192) for c in (0, 49, 64, 65, 500)] == [48, 64, 64, 80, 192]


def test_narrow_images_are_cut_and_wide_ones_fill_the_cap() -> None:
    narrow, wide = _captcha(90, 45, 0), _captcha(900, 60, 1)
    batch = np.stack([to_array(load_image(im), SPEC) for im in (narrow, wide)])
    assert batch.shape == (2, 1, 32, 192)  # to_array keeps the full width: arrays stack
    widths = input_widths(batch, SPEC)
    assert widths[0] == 64  # 90x45 -> 64x32 inner, already a multiple of 16
    assert widths[1] == 192
    groups = width_groups(batch, SPEC)
    assert [(list(i), w) for i, w in groups] == [([0], 64), ([1], 192)]
    assert trim(batch[:1], SPEC).shape[-1] == 64
    fixed = Preprocessing(height=32, width=192, resize="pad")
    assert list(input_widths(batch, fixed)) == [192, 192]
    assert trim(batch[:1], fixed).shape[-1] == 192


def test_dynamic_width_needs_pad_and_a_sane_minimum() -> None:
    with pytest.raises(ValueError, match="dynamic_width needs resize 'pad'"):
        Preprocessing(resize="stretch", dynamic_width=True)
    with pytest.raises(ValueError, match="min_width"):
        Preprocessing(width=64, resize="pad", dynamic_width=True, min_width=80)


@pytest.fixture(scope="module")
def dynamic_model(
    tmp_path_factory: pytest.TempPathFactory, make_checkpoint: CheckpointFactory
) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("dynamic")
    checkpoint = make_checkpoint(folder / "checkpoint", "crnn", SPEC)
    return checkpoint, export_onnx(checkpoint, folder / "dynamic.onnx")


def test_export_has_a_dynamic_width_and_matches_torch_at_every_width(
    dynamic_model: tuple[Path, Path],
) -> None:
    checkpoint, onnx_path = dynamic_model
    images = np.stack(
        [
            to_array(load_image(_captcha(w, h, i)), SPEC)
            for i, (w, h) in enumerate([(70, 40), (120, 40), (200, 50), (400, 60), (1000, 50)])
        ]
    )
    assert len(width_groups(images, SPEC)) >= 4
    report = check_parity(checkpoint, onnx_path, images)
    assert report.num_images == 5
    assert report.ok(), report


def test_an_answer_does_not_depend_on_its_batch(dynamic_model: tuple[Path, Path]) -> None:
    solver = Solver.load(dynamic_model[1])
    narrow, wide = _captcha(100, 40, 3), _captcha(700, 70, 4)
    alone = solver.solve(narrow)
    together = solver.solve([narrow, wide, narrow])
    assert together[0] == together[2] == alone
    # the model really reads the narrow one at its cut width: 80 columns -> 20 frames
    array = to_array(load_image(narrow), SPEC)[None]
    assert solver.logits(array).shape[1] == int(input_widths(array, SPEC)[0]) // 4
    assert solver.logits(np.stack([array[0], to_array(load_image(wide), SPEC)])).shape[1] == 48


def test_dynamic_widths_are_checked(
    dynamic_model: tuple[Path, Path], onnx_model_path: Path
) -> None:
    solver = Solver.load(dynamic_model[1])
    with pytest.raises(ValueError, match=r"W <= 192"):
        solver.logits(np.zeros((1, 1, 32, 200), dtype=np.float32))
    fixed = Solver.load(onnx_model_path)  # a fixed 32x96 model takes only 96 columns
    with pytest.raises(ValueError, match="expected a batch of shape"):
        fixed.logits(np.zeros((1, 1, 32, 64), dtype=np.float32))
