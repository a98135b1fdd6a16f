"""Shared fixtures: tiny untrained checkpoints and their ONNX exports (seconds to build)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Small enough to export in about a second; unknown (future) models use their defaults.
TINY_MODEL_ARGS: dict[str, dict[str, Any]] = {
    "crnn": {"channels": [8, 8, 16, 16], "hidden": 16},
    "cnnctc": {"channels": [8, 8, 16, 16], "hidden": 16, "temporal_layers": 2},
    "multihead": {"channels": [8, 8, 16], "hidden": 32},
    "attention": {"channels": [8, 8, 16, 16], "hidden": 16, "embedding": 8, "attention_dim": 16},
}

CheckpointFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def make_checkpoint() -> CheckpointFactory:
    """``make_checkpoint(folder, model_name="crnn", preprocessing=None)`` -> a saved untrained
    checkpoint folder (charset "@digits", max_length 6, 32x96 grey input by default)."""

    def build(folder: Path, model_name: str = "crnn", preprocessing: Any = None) -> Path:
        import torch

        from captchalab.charset import Charset
        from captchalab.data.preprocess import Preprocessing
        from captchalab.models import model_entry
        from captchalab.training.checkpoint import CheckpointMeta, build_model, save_checkpoint

        meta = CheckpointMeta(
            model_name=model_name,
            model_args=TINY_MODEL_ARGS.get(model_name, {}),
            objective=model_entry(model_name).objective,
            charset=Charset.from_spec("@digits"),
            max_length=6,
            preprocessing=preprocessing or Preprocessing(height=32, width=96),
            config={},
        )
        torch.manual_seed(0)
        model = build_model(meta)
        return save_checkpoint(folder, model, meta)

    return build


@pytest.fixture(scope="session")
def crnn_checkpoint_path(
    tmp_path_factory: pytest.TempPathFactory, make_checkpoint: CheckpointFactory
) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("checkpoint") / "crnn")


@pytest.fixture(scope="session")
def onnx_model_path(tmp_path_factory: pytest.TempPathFactory, crnn_checkpoint_path: Path) -> Path:
    """A tiny untrained ``crnn`` exported to ONNX with captchalab metadata (do not modify it:
    copy it first)."""
    from captchalab.training.export import export_onnx

    return export_onnx(crnn_checkpoint_path, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


TEST_DATABASE_URL_ENV = "CAPTCHALAB_TEST_DATABASE_URL"
_STORE_TABLES = ("answers", "challenges", "secrets", "alembic_version")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty challenge store: a SQLite file, then the PostgreSQL server that
    ``.ci/steps/postgres.sh`` starts (``$CAPTCHALAB_TEST_DATABASE_URL``; required when ``CI``
    is set)."""
    import os

    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url = os.environ.get(TEST_DATABASE_URL_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {TEST_DATABASE_URL_ENV} is not: run .ci/steps/postgres.sh")
        pytest.skip(f"no PostgreSQL: set {TEST_DATABASE_URL_ENV} (see .ci/steps/postgres.sh)")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        for table in _STORE_TABLES:
            connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()
    return url
