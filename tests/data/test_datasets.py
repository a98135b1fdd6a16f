import csv
import itertools

import numpy as np
import pytest
from PIL import Image
from torch.utils.data import DataLoader

from captchalab.charset import Charset, UnknownSymbolError
from captchalab.data.datasets import (
    FolderDataset,
    StepBatches,
    SyntheticDataset,
    collate,
    read_labels,
)
from captchalab.data.preprocess import Preprocessing
from captchalab.schemes import get_scheme

SPEC = Preprocessing(height=24, width=64)


def _image(path) -> None:
    Image.new("RGB", (64, 24), (255, 255, 255)).save(path)


def test_labels_from_file_names(tmp_path) -> None:
    for name in ("ANHMI_num46892.jpg", "jd5v_num1.png", "8N74XA.png"):
        _image(tmp_path / name)
    labels = sorted(text for _, text in read_labels(tmp_path))
    assert labels == ["8N74XA", "ANHMI", "jd5v"]


def test_labels_csv_wins_and_is_validated(tmp_path) -> None:
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png")
    with (tmp_path / "labels.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["filename", "label"], ["a.png", "123"], ["b.png", "4x5"]])
    with pytest.raises(UnknownSymbolError) as error:
        FolderDataset(tmp_path, Charset.from_spec("@digits"), SPEC)
    assert "b.png" in str(error.value) and "'x'" in str(error.value)


def test_folder_errors_are_clear(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_labels(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"no labels\.csv and no images"):
        read_labels(tmp_path)
    (tmp_path / "labels.csv").write_text("filename,label\nghost.png,12\n")
    with pytest.raises(FileNotFoundError, match=r"ghost\.png"):
        read_labels(tmp_path)
    (tmp_path / "labels.csv").write_text("name,text\n")
    with pytest.raises(ValueError, match="header"):
        read_labels(tmp_path)


def test_folder_dataset_items(tmp_path) -> None:
    _image(tmp_path / "42_a.png")
    dataset = FolderDataset(tmp_path, Charset.from_spec("@digits"), SPEC)
    image, text = dataset[0]
    assert image.shape == (1, 24, 64) and text == "42" and dataset.max_length == 2


def test_synthetic_stream_is_seeded() -> None:
    scheme = get_scheme("digits5")
    first, again = SyntheticDataset(scheme, SPEC, seed=3), SyntheticDataset(scheme, SPEC, seed=3)
    np.testing.assert_array_equal(first[4][0], again[4][0])
    assert first[4][1] == again[4][1] == scheme.sample_at(3, 4)[1]


def test_step_batches_are_a_function_of_the_step_whatever_the_workers() -> None:
    scheme = get_scheme("digits5")
    stream = SyntheticDataset(scheme, SPEC, seed=3)

    def texts(workers: int, start_step: int, rank: int = 0, world_size: int = 1) -> list[list[str]]:
        sampler = StepBatches(2, start_step, rank, world_size)
        loader = DataLoader(stream, batch_sampler=sampler, num_workers=workers, collate_fn=collate)
        return [batch for _, batch in itertools.islice(loader, 3)]

    serial = texts(0, 0) + texts(0, 3)
    assert texts(2, 0) + texts(2, 3) == serial
    assert texts(2, 3) == serial[3:] and texts(2, 1) == serial[1:4]  # resume at any step
    assert serial[0] == [scheme.sample_at(3, i)[1] for i in (0, 1)]
    other_rank = StepBatches(2, 0, rank=1, world_size=2)
    assert other_rank.indices(0) == [2, 3] and other_rank.indices(1) == [6, 7]
    with pytest.raises(ValueError, match="rank"):
        StepBatches(2, 0, rank=2, world_size=2)
