"""Sharded generation: disjoint, reproducible slices whose union is one unsharded run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from captchalab.schemes.generate import generate_dataset
from captchalab.schemes.shards import SHARDS_DIR, Shard


def read_folder(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_shard_parse_and_slices_cover_every_index_once() -> None:
    assert Shard.parse("2/8") == Shard(2, 8)
    assert Shard.parse(" 0 / 1 ") == Shard(0, 1)
    for bad in ["3", "1/0", "4/4", "-1/4", "a/b", "1/2/3"]:
        with pytest.raises(ValueError):
            Shard.parse(bad)
    for count in [0, 1, 7, 10, 33]:
        for total in [1, 2, 3, 5, 11]:
            slices = [list(Shard(i, total).indices(count)) for i in range(total)]
            assert [i for part in slices for i in part] == list(range(count))


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 0, 1]], ids=["in-order", "out-of-order"])
def test_union_of_shards_is_byte_identical_to_one_run(tmp_path: Path, order: list[int]) -> None:
    count, seed = 10, 3
    whole = read_folder(generate_dataset("hku", count, tmp_path / "whole", seed, workers=1))
    sharded = tmp_path / "sharded"
    written: set[str] = set()
    for position, index in enumerate(order):
        before = set(read_folder(sharded)) if sharded.exists() else set()
        generate_dataset(
            "hku", count, sharded, seed, workers=2 if index else 1, shard=Shard(index, 3)
        )
        new_pngs = {n for n in set(read_folder(sharded)) - before if n.endswith(".png")}
        assert new_pngs == {f"{i:06d}.png" for i in Shard(index, 3).indices(count)}
        assert not new_pngs & written  # disjoint
        written |= new_pngs
        assert (sharded / "labels.csv").exists() == (position == len(order) - 1)
    assert read_folder(sharded) == whole
    assert not (sharded / SHARDS_DIR).exists()


def test_a_rerun_shard_writes_the_same_bytes(tmp_path: Path) -> None:
    generate_dataset("digits5", 6, tmp_path, 0, workers=1, shard=Shard(1, 2))
    first = read_folder(tmp_path)
    generate_dataset("digits5", 6, tmp_path, 0, workers=1, shard=Shard(1, 2))  # a retried pod
    assert read_folder(tmp_path) == first
    assert not (tmp_path / "labels.csv").exists()
    with pytest.raises(ValueError, match="overwrite"):
        generate_dataset("digits5", 6, tmp_path, 0, workers=1, shard=Shard(0, 2), overwrite=True)


def test_shards_of_different_runs_never_mix(tmp_path: Path) -> None:
    generate_dataset("digits5", 4, tmp_path, 0, workers=1, shard=Shard(0, 2))
    generate_dataset("digits5", 4, tmp_path, 1, workers=1, shard=Shard(1, 2))  # another seed
    assert not (tmp_path / "labels.csv").exists()


def test_cli_shard_option(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "captchalab.cli", "generate", "--scheme", "digits5"]
    base += ["-n", "4", "-o", str(tmp_path), "--workers", "1"]
    bad = subprocess.run([*base, "--shard", "2/2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "0 <= I < N" in bad.stderr
    for spec in ["1/2", "0/2"]:
        done = subprocess.run([*base, "--shard", spec], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert "labels.csv written" in done.stderr
    assert len((tmp_path / "labels.csv").read_text().splitlines()) == 5
