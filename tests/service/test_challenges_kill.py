"""Kill the real server (SIGKILL, every process) during a burst of answers: every answer a
client was told about is stored with that verdict, nothing is half-stored, and after a restart
single use still holds while the challenges nobody answered can still be answered."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from captchalab.store import ChallengeStore, connect
from captchalab.store.tables import AnswerRow, ChallengeRow

from .challenge_helpers import challenge_file, label_of, labelled_folder
from .conftest import free_port

CHALLENGES = 120
CLIENTS = 8
KILL_AFTER = 30  # answers told to clients before the kill


class Server:
    def __init__(self, tmp_path: Path, onnx: Path, file: Path, url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CAPTCHALAB_RATE_LIMIT_PER_MINUTE": "0",
            "CAPTCHALAB_DATABASE_URL": url,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.pop("CAPTCHALAB_CHALLENGE_SECRET", None)  # the generated one must persist
        command = [
            sys.executable, "-m", "captchalab.cli", "serve", "--model", f"tiny={onnx}",
            "--port", str(self.port), "--workers", str(workers), "--challenges", str(file),
        ]  # fmt: skip
        self.log = (tmp_path / f"server-{self.port}.log").open("wb")
        # A session of its own, so that the kill reaches every worker process at once.
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_ready(Path(self.log.name))

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"server did not become ready:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()


def test_killed_mid_burst_the_store_matches_what_clients_were_told(
    tmp_path: Path, onnx_model_path: Path, database_url: str
) -> None:
    labels = labelled_folder(tmp_path / "served", count=40)
    file = challenge_file(
        tmp_path / "c.yaml", scheme="hku", source="folder", folder="served", ttl_s=600,
        pool_size=16,
    )  # fmt: skip
    server = Server(tmp_path, onnx_model_path, file, database_url, workers=2)
    try:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            issued = [client.post("/v1/challenges").json() for _ in range(CHALLENGES)]
        ids = [c["id"] for c in issued]
        truth = {c["id"]: label_of(c, labels) for c in issued}
        # Even-numbered challenges get the right answer, odd ones a wrong one.
        sent = {cid: (truth[cid] if i % 2 == 0 else "zzzz") for i, cid in enumerate(ids)}
        expected = {cid: i % 2 == 0 for i, cid in enumerate(ids)}
        burst = ids[: CHALLENGES - 20]  # the last 20 are never answered before the kill
        told, failed = _burst(server, burst, sent)
    finally:
        server.kill()

    assert len(told) >= KILL_AFTER, f"only {len(told)} answers before the kill"
    assert all(status == 200 for status, _ in told.values()), told
    stored, used = _read_store(database_url)
    # Every answer a client was told about is stored, with the verdict it was told.
    for cid, (_, body) in told.items():
        assert stored[cid] == body["correct"] == expected[cid]
    # Nothing half-done: a challenge is used exactly when its answer is stored.
    assert used == set(stored)
    # Stored without the client hearing back: only answers in flight at the kill.
    unheard = set(stored) - set(told)
    assert unheard <= failed
    assert len(unheard) <= CLIENTS
    assert all(stored[cid] == expected[cid] for cid in unheard)
    assert len(stored) < len(burst), "the kill came after the burst: nothing was tested"

    restarted = Server(tmp_path, onnx_model_path, file, database_url, workers=1)
    try:
        with httpx.Client(base_url=restarted.base, timeout=30) as client:
            for cid in [*list(told)[:5], *unheard]:
                again = client.post(f"/v1/challenges/{cid}/answer", json={"answer": truth[cid]})
                assert again.status_code == 409, again.text
            untouched = [cid for cid in ids[CHALLENGES - 20 :] if cid not in stored][:4]
            for cid in untouched:
                late = client.post(f"/v1/challenges/{cid}/answer", json={"answer": truth[cid]})
                assert late.json() == {"correct": True}, late.text
    finally:
        restarted.kill()


def _burst(
    server: Server, ids: list[str], sent: dict[str, str]
) -> tuple[dict[str, tuple[int, Any]], set[str]]:
    """Answer ``ids`` from ``CLIENTS`` threads; SIGKILL the server once ``KILL_AFTER`` are told.

    Returns {id: (status, body)} of the answers that got a response, and the ids whose request
    failed (sent, or perhaps sent, when the server died)."""
    work: queue.Queue[str] = queue.Queue()
    for cid in ids:
        work.put(cid)
    told: dict[str, tuple[int, Any]] = {}
    failed: set[str] = set()
    lock = threading.Lock()
    enough = threading.Event()

    def client_loop() -> None:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            while True:
                try:
                    cid = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    response = client.post(
                        f"/v1/challenges/{cid}/answer", json={"answer": sent[cid]}
                    )
                except httpx.HTTPError:
                    with lock:
                        failed.add(cid)
                    continue
                with lock:
                    told[cid] = (response.status_code, response.json())
                    if len(told) >= KILL_AFTER:
                        enough.set()

    threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    assert enough.wait(timeout=120), "the burst never got going"
    os.killpg(server.process.pid, signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=60)
    return told, failed


def _read_store(url: str) -> tuple[dict[str, bool], set[str]]:
    engine = connect(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(AnswerRow.challenge_id, AnswerRow.correct)).all()
            used = connection.execute(select(ChallengeRow.id).where(ChallengeRow.used)).scalars()
            used_ids = set(used)
        stored = {cid: bool(correct) for cid, correct in rows}
        assert len(stored) == len(rows)  # one answer per challenge
        ChallengeStore(engine)  # the store opens fine after the kill
        return stored, used_ids
    finally:
        engine.dispose()
