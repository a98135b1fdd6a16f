"""The challenge API: issue, judge once, expire, store; the config file; the hardening hook."""

from __future__ import annotations

import base64
import io
import logging
import sys
import time
import types
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from captchalab.service import ServiceSettings, create_app
from captchalab.service.challenges import ChallengeConfigError, load_challenge_config
from captchalab.store import ChallengeStore, connect

from .challenge_helpers import challenge_file, label_of, labelled_folder

AppFactory = Callable[..., TestClient]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[bytes, str]]:
    path = tmp_path_factory.mktemp("served")
    return path, labelled_folder(path, count=12)


@pytest.fixture
def make_app(
    tmp_path: Path,
    service_settings: Callable[..., ServiceSettings],
    folder: tuple[Path, dict[bytes, str]],
) -> Iterator[AppFactory]:
    """``make_app(**settings)``: a started client serving challenges from ``folder``."""
    clients: list[TestClient] = []
    default_file = challenge_file(
        tmp_path / "challenges.yaml", scheme="hku", source="folder", folder=folder[0], pool_size=4
    )

    def build(challenges: Path = default_file, **overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "challenges": str(challenges),
            "database_url": f"sqlite:///{tmp_path / 'store.db'}",
            **overrides,
        }
        client = TestClient(create_app(service_settings(**values)), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def answer(client: TestClient, challenge_id: str, text: str) -> Any:
    return client.post(f"/v1/challenges/{challenge_id}/answer", json={"answer": text})


def test_a_challenge_is_a_png_with_an_id_and_an_expiry(make_app: AppFactory, folder) -> None:
    client = make_app()
    before = datetime.now(timezone.utc)
    response = client.post("/v1/challenges")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "image", "expires_at"}
    png = base64.b64decode(body["image"])
    assert png in folder[1]
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert 100 <= (expires - before).total_seconds() <= 125  # default ttl_s: 120
    assert folder[1][png] not in response.text  # the true text is never returned


def test_right_and_wrong_answers_single_use(make_app: AppFactory, folder) -> None:
    client = make_app()
    right = client.post("/v1/challenges").json()
    wrong = client.post("/v1/challenges").json()
    text = label_of(right, folder[1])
    assert answer(client, right["id"], f"  {text} ").json() == {"correct": True}
    assert answer(client, wrong["id"], label_of(wrong, folder[1]) + "x").json() == {
        "correct": False
    }
    again = answer(client, right["id"], text)
    assert again.status_code == 409
    assert again.json()["error"] == "challenge_used"
    assert answer(client, "A" * 22, text).status_code == 404
    assert answer(client, "../../etc", text).status_code == 404


def test_the_scheme_case_policy_applies(make_app: AppFactory, folder, tmp_path: Path) -> None:
    hku = load_challenge_config(
        challenge_file(tmp_path / "c.yaml", scheme="hku", source="folder", folder=folder[0])
    )
    assert hku.scheme == "hku"  # case-sensitive: a swapped case is wrong
    client = make_app()
    issued = client.post("/v1/challenges").json()
    assert answer(client, issued["id"], label_of(issued, folder[1]).swapcase()).json() == {
        "correct": False
    }
    scheme = tmp_path / "lower.yaml"
    scheme.write_text(
        "name: anycase\ncharset: '@alnum_upper'\ncase_sensitive: false\nlength: 4\nsize: [96, 32]\n"
    )
    served = tmp_path / "anycase"
    labels = labelled_folder(served, count=4, scheme=str(scheme))
    file = challenge_file(tmp_path / "any.yaml", scheme=scheme, source="folder", folder=served)
    client = make_app(file)
    issued = client.post("/v1/challenges").json()
    assert answer(client, issued["id"], label_of(issued, labels).upper()).json() == {
        "correct": True
    }


def test_expired_challenges_get_410(make_app: AppFactory, folder) -> None:
    client = make_app()
    service = client.app.state.service.challenges  # type: ignore[attr-defined]
    now = [1_000_000.0]
    service.clock = lambda: now[0]
    issued = client.post("/v1/challenges").json()
    now[0] += 119.0
    early = client.post("/v1/challenges").json()
    assert answer(client, early["id"], "x").status_code == 200
    now[0] += 1.5  # past the first one's 120 s
    late = answer(client, issued["id"], label_of(issued, folder[1]))
    assert late.status_code == 410 and late.json()["error"] == "challenge_expired"


def test_answers_are_stored_hashed_and_counted(make_app: AppFactory, folder, tmp_path) -> None:
    client = make_app()
    issued = [client.post("/v1/challenges").json() for _ in range(3)]
    answer(client, issued[0]["id"], label_of(issued[0], folder[1]))
    answer(client, issued[1]["id"], "zz")  # wrong length: an anomaly
    answer(client, issued[2]["id"], label_of(issued[2], folder[1])[:-1] + "#")
    engine = connect(f"sqlite:///{tmp_path / 'store.db'}")
    stored = {a.challenge_id: a for a in ChallengeStore(engine).answers()}
    engine.dispose()
    assert [stored[c["id"]].correct for c in issued] == [True, False, False]
    assert [stored[c["id"]].length_anomaly for c in issued] == [False, True, False]
    assert stored[issued[1]["id"]].answer == "zz"
    assert all(
        len(a.client_digest) == 64 and "testclient" not in a.client_digest for a in stored.values()
    )
    assert all(a.time_to_answer_ms >= 0 for a in stored.values())
    metrics = client.get("/metrics").text
    assert 'captchalab_challenge_answers_total{correct="true"} 1.0' in metrics
    assert 'captchalab_challenge_answers_total{correct="false"} 2.0' in metrics
    assert "captchalab_challenge_length_anomalies_total 1.0" in metrics


def test_the_true_text_is_never_logged(
    make_app: AppFactory, folder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_app()
    issued = [client.post("/v1/challenges").json() for _ in range(4)]
    texts = [label_of(c, folder[1]) for c in issued]
    for challenge, text in zip(issued, texts, strict=True):
        answer(client, challenge["id"], text)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [text for text in texts if text in logged]


def test_state_survives_a_restart_and_is_shared_by_workers(make_app: AppFactory, folder) -> None:
    first = make_app()
    answered = first.post("/v1/challenges").json()
    pending = first.post("/v1/challenges").json()
    assert answer(first, answered["id"], "abcd").status_code == 200
    second = make_app()  # another worker, or the same server restarted, on the same store
    assert answer(second, answered["id"], "abcd").status_code == 409
    assert answer(second, pending["id"], label_of(pending, folder[1])).json() == {"correct": True}


@pytest.mark.parametrize(
    ("kwargs", "status", "kind"),
    [
        (
            {"content": b"{nope", "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
        ),
        (
            {"content": b"answer=1", "headers": {"content-type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ({"json": {"answer": "x" * 65}}, 422, "invalid_request"),
        ({"json": {"answer": 1234}}, 422, "invalid_request"),
        ({"json": {"answer": "ab", "extra": 1}}, 422, "invalid_request"),
        ({"json": {"answer": "ab\ncd"}}, 422, "invalid_request"),
        ({"json": ["answer"]}, 422, "invalid_request"),
        ({"json": {"answer": "a", "pad": "x" * 5000}}, 413, "payload_too_large"),
    ],
)
def test_bad_answer_bodies_are_4xx_json(
    make_app: AppFactory, kwargs: dict[str, Any], status: int, kind: str
) -> None:
    client = make_app()
    issued = client.post("/v1/challenges").json()
    response = client.post(f"/v1/challenges/{issued['id']}/answer", **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"] == kind
    assert answer(client, issued["id"], "abcd").status_code == 200  # nothing was consumed


def test_body_limit_and_rate_limit_apply(make_app: AppFactory) -> None:
    client = make_app(max_upload_bytes=1024, rate_limit_per_minute=1, rate_limit_burst=2)
    big = client.post("/v1/challenges", content=b"x" * 2048)
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"
    assert client.post("/v1/challenges").status_code == 200
    limited = client.post("/v1/challenges")
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_without_a_challenge_file_there_is_no_challenge_api(client: TestClient) -> None:
    assert client.post("/v1/challenges").status_code in (404, 405)


def test_the_empty_pool_answers_503_not_500(make_app: AppFactory, tmp_path: Path) -> None:
    file = challenge_file(tmp_path / "c.yaml", scheme="hku", pool_size=1, wait_s=0)
    client = make_app(file)
    pool = client.app.state.service.challenges.pool  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while len(pool) < 1 and time.monotonic() < deadline:  # full: the refill task waits
        time.sleep(0.01)
    pool.source.produce = lambda count: (_ for _ in ()).throw(OSError("disk on fire"))
    assert client.post("/v1/challenges").status_code == 200  # the last pooled one
    response = client.post("/v1/challenges")
    assert response.status_code == 503 and response.json()["error"] == "busy"


def test_rendered_challenges_come_from_the_scheme(make_app: AppFactory, tmp_path: Path) -> None:
    client = make_app(challenge_file(tmp_path / "c.yaml", scheme="digits5", pool_size=2))
    images = [base64.b64decode(client.post("/v1/challenges").json()["image"]) for _ in range(4)]
    assert len(set(images)) == 4  # secret seeds: no two alike
    for png in images:
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (160, 60)


# --- the challenge file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("scheme: hku\nttl: 3\n", "ttl: Extra inputs"),
        ("scheme: hku\nttl_s: 0\n", "ttl_s: Input should be greater than 0"),
        ("scheme: hku\npool_size: '8'\n", "pool_size: Input should be a valid integer"),
        ("scheme: nosuch\n", "scheme: unknown scheme 'nosuch'"),
        ("ttl_s: 5\n", "scheme: Field required"),
        ("scheme: hku\nsource: folder\n", "needs `folder:`"),
        (
            "scheme: hku\nsource: folder\nfolder: x\nhardening: {substitute: s}\n",
            "applies to rendered",
        ),
        ("scheme: hku\nhardening: {substitute: s, bogus: 1}\n", "hardening.bogus"),
        ("- scheme\n", "expected a mapping"),
        ("scheme: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_challenge_files_are_refused_with_the_reason(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(body)
    with pytest.raises(ChallengeConfigError, match=r"challenge file .*c\.yaml") as info:
        load_challenge_config(path)
    assert message in str(info.value)


def test_relative_paths_are_resolved_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = challenge_file(
        tmp_path / "conf" / "c.yaml",
        scheme="hku",
        hardening="{substitute: ../sub, ensemble: [m2, /abs/m3], settings: {linf: 0.1}}",
    )
    config = load_challenge_config(path)
    assert config.hardening is not None
    assert Path(config.hardening.substitute) == tmp_path / "conf" / "../sub"
    assert config.hardening.ensemble == [str(tmp_path / "conf" / "m2"), "/abs/m3"]
    assert config.hardening.settings == {"linf": 0.1}
    with pytest.raises(ChallengeConfigError, match="does not exist"):
        load_challenge_config(tmp_path / "missing.yaml")


def test_a_folder_without_labels_fails_at_startup(make_app: AppFactory, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    file = challenge_file(tmp_path / "c.yaml", scheme="hku", source="folder", folder="empty")
    with pytest.raises(ChallengeConfigError, match=r"no labels\.csv"):
        make_app(file)


# --- the hardening hook (captchalab.adversarial's interface, docs in the contract) ------------


def test_hardening_without_the_engine_fails_at_startup_clearly(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "captchalab.adversarial", None)  # as in a torch-free image
    file = challenge_file(tmp_path / "c.yaml", scheme="hku", hardening="{substitute: sub}")
    with pytest.raises(ChallengeConfigError, match=r"captchalab\.adversarial"):
        make_app(file)


def test_hardening_is_applied_through_the_engine_interface(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: dict[str, Any] = {}

    class HardeningSettings:
        @classmethod
        def from_dict(cls, data: dict[str, Any]) -> HardeningSettings:
            calls["settings"] = data
            return cls()

    class Hardener:
        @classmethod
        def load(cls, substitute: Any, settings: Any, device: str = "cpu") -> Hardener:
            calls["load"] = ([str(path) for path in substitute], device)
            return cls()

        def harden(self, images: Any, texts: Any, seed: int) -> list[Image.Image]:
            calls.setdefault("texts", []).extend(texts)
            return [Image.new("RGB", image.size, (255, 0, 0)) for image in images]

    fake = types.ModuleType("captchalab.adversarial")
    fake.Hardener = Hardener  # type: ignore[attr-defined]
    fake.HardeningSettings = HardeningSettings  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "captchalab.adversarial", fake)
    file = challenge_file(
        tmp_path / "c.yaml",
        scheme="hku",
        pool_size=2,
        hardening="{substitute: sub, ensemble: [sub2], batch_size: 2, "
        "settings: {method: linf, linf: 0.2}}",
    )
    client = make_app(file)
    png = base64.b64decode(client.post("/v1/challenges").json()["image"])
    with Image.open(io.BytesIO(png)) as image:
        assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
        assert image.size == (128, 48)
    assert calls["settings"] == {"method": "linf", "linf": 0.2}
    assert calls["load"] == ([str(tmp_path / "sub"), str(tmp_path / "sub2")], "cpu")
    assert all(4 <= len(text) <= 6 for text in calls["texts"])


def test_serving_plain_challenges_imports_no_torch(
    tmp_path: Path, onnx_model_path: Path, folder
) -> None:
    import subprocess

    file = challenge_file(tmp_path / "c.yaml", scheme="hku", pool_size=2)
    code = f"""
import sys
from fastapi.testclient import TestClient
from captchalab.service import ServiceSettings, create_app
settings = ServiceSettings(models={{"tiny": {str(onnx_model_path)!r}}}, challenges={str(file)!r},
                           database_url={f"sqlite:///{tmp_path / 's.db'}"!r})
with TestClient(create_app(settings)) as client:
    issued = client.post("/v1/challenges").json()
    assert client.post(f"/v1/challenges/{{issued['id']}}/answer", json={{"answer": "ab"}}).json()
    import captchalab.store.export, captchalab.cli.challenges
sys.exit(3 if "torch" in sys.modules else 0)
"""
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()[-2000:]


def test_the_challenge_routes_are_documented(make_app: AppFactory) -> None:
    client = make_app()
    paths = client.get("/openapi.json").json()["paths"]
    answer_route = paths["/v1/challenges/{challenge_id}/answer"]["post"]
    assert {"409", "410", "429"} <= set(answer_route["responses"])
    assert "/v1/challenges" in paths
    assert "/v1/challenges" in client.get("/docs").text


@pytest.mark.parametrize("name", ["plain", "hardened", "folder"])
def test_the_example_challenge_files_are_valid(name: str) -> None:
    repo = Path(__file__).resolve().parents[2]
    config = load_challenge_config(repo / "configs" / "challenges" / f"{name}.yaml")
    assert config.scheme == ("merged4" if name == "hardened" else "hku")
    assert (config.hardening is not None) == (name == "hardened")
    assert (config.source == "folder") == (name == "folder")


def test_an_unreachable_store_is_503_and_loses_nothing(
    make_app: AppFactory, folder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    client = make_app()
    service = client.app.state.service.challenges  # type: ignore[attr-defined]
    issued = client.post("/v1/challenges").json()
    real_answer = service.store.answer

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("UPDATE challenges ...", {}, ConnectionError("server closed"))

    monkeypatch.setattr(service.store, "answer", down)
    response = answer(client, issued["id"], label_of(issued, folder[1]))
    assert response.status_code == 503 and response.json()["error"] == "busy"
    assert "Retry-After" in response.headers
    monkeypatch.setattr(service.store, "answer", real_answer)
    assert answer(client, issued["id"], label_of(issued, folder[1])).json() == {"correct": True}
