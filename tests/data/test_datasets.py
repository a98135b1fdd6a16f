import csv
import itertools

import numpy as np
import pytest
from PIL import Image
from torch.utils.data import DataLoader

from captchalab.charset import Charset, UnknownSymbolError
from captchalab.data.datasets import FolderDataset, SyntheticDataset, collate, read_labels
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


def test_synthetic_stream_is_seeded_and_split_across_workers_without_overlap() -> None:
    scheme = get_scheme("digits5")
    serial = list(itertools.islice(SyntheticDataset(scheme, SPEC, seed=3), 6))
    again = list(itertools.islice(SyntheticDataset(scheme, SPEC, seed=3), 6))
    assert [t for _, t in serial] == [t for _, t in again]
    np.testing.assert_array_equal(serial[0][0], again[0][0])
    loader = DataLoader(
        SyntheticDataset(scheme, SPEC, seed=3), batch_size=1, num_workers=2, collate_fn=collate
    )
    parallel = [texts[0] for _, texts in itertools.islice(loader, 6)]
    assert sorted(parallel) == sorted(t for _, t in serial)
    other_rank = list(itertools.islice(SyntheticDataset(scheme, SPEC, 3, rank=1, world_size=2), 3))
    assert [t for _, t in other_rank] == [t for _, t in serial[1::2]]
