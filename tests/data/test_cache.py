"""The render cache is reused only while the scheme renders the same images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import captchalab
from captchalab.data.cache import cache_path, cached_arrays, render_arrays
from captchalab.data.preprocess import Preprocessing

SPEC = Preprocessing(height=24, width=64)
SCHEME = 'name: edited\ncharset: "@digits"\nlength: 4\nsize: [96, 40]\nstyle:\n  rotation: {}\n'


def test_editing_a_yaml_scheme_invalidates_its_cache(tmp_path: Path) -> None:
    scheme = tmp_path / "edited.yaml"
    scheme.write_text(SCHEME.format(0), encoding="utf-8")
    cache = tmp_path / "cache"
    first, labels = cached_arrays(cache, str(scheme), SPEC, seed=1, count=4, workers=1)
    again, _ = cached_arrays(cache, str(scheme), SPEC, seed=1, count=4, workers=1)
    np.testing.assert_array_equal(first, again)  # unchanged scheme: read back from the cache
    assert len(list(cache.glob("*.npz"))) == 1

    scheme.write_text(SCHEME.format(40), encoding="utf-8")  # same name and path, new look
    edited, edited_labels = cached_arrays(cache, str(scheme), SPEC, seed=1, count=4, workers=1)
    fresh, _ = render_arrays(str(scheme), SPEC, seed=1, count=4, workers=1)
    np.testing.assert_array_equal(edited, fresh)
    assert not np.array_equal(edited, first) and edited_labels == labels
    assert len(list(cache.glob("*.npz"))) == 2


def test_fonts_and_package_version_are_part_of_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from captchalab.schemes.styled import Style

    font = tmp_path / "face.ttf"
    font.write_bytes(Path(Style().fonts[0]).read_bytes())
    scheme = tmp_path / "s.yaml"
    scheme.write_text(SCHEME.format(0) + "  fonts: [face.ttf]\n", encoding="utf-8")
    before = cache_path(tmp_path, str(scheme), SPEC, 1, 4)
    font.write_bytes(Path(Style().fonts[1]).read_bytes())  # same file name, other font
    after_font = cache_path(tmp_path, str(scheme), SPEC, 1, 4)
    monkeypatch.setattr(captchalab, "__version__", "99.0")
    after_version = cache_path(tmp_path, str(scheme), SPEC, 1, 4)
    assert len({before, after_font, after_version}) == 3


def test_the_preprocessing_version_is_part_of_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from captchalab.data import resize

    spec = Preprocessing(height=32, width=128)
    before = cache_path(tmp_path, "digits5", spec, 0, 10)
    monkeypatch.setattr(resize, "PREPROCESSING_VERSION", resize.PREPROCESSING_VERSION + 1)
    assert cache_path(tmp_path, "digits5", spec, 0, 10) != before
