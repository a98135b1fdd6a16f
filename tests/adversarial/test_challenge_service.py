"""The challenge service serving captchas hardened by the real engine against a substitute."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from captchalab.schemes import get_scheme
from captchalab.service.app import create_app
from captchalab.service.settings import ServiceSettings


def _border_tones(image: Image.Image) -> int:
    grey = np.asarray(image.convert("L"))
    ring = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return int(np.unique(ring).size)


def test_challenges_are_hardened_by_the_engine(
    tmp_path: Path, memorised_checkpoint: Path, onnx_model_path: Path
) -> None:
    plain, _ = get_scheme("merged4").sample_at(3, 0)
    assert _border_tones(plain) == 1  # merged4 has a flat background: any change is the attack
    challenges = tmp_path / "challenges.yaml"
    challenges.write_text(
        "scheme: merged4\npool_size: 2\nwait_s: 60\nhardening:\n"
        f"  substitute: {memorised_checkpoint}\n  batch_size: 2\n"
        "  settings: {method: linf, iterative: false, linf: 0.1, mask: background}\n",
        encoding="utf-8",
    )
    settings = ServiceSettings(
        models={"tiny": str(onnx_model_path)},
        rate_limit_per_minute=0,
        threads=1,
        challenges=str(challenges),
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
    )
    with TestClient(create_app(settings)) as client:
        issued = client.post("/v1/challenges")
        assert issued.status_code == 200, issued.text
        body = issued.json()
        with Image.open(io.BytesIO(base64.b64decode(body["image"]))) as image:
            assert image.size == plain.size
            assert _border_tones(image) > 1  # the background carries the perturbation
        verdict = client.post(f"/v1/challenges/{body['id']}/answer", json={"answer": "????"})
        assert verdict.status_code == 200 and verdict.json() == {"correct": False}
