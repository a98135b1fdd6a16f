"""Checkers: a command's exit status, an HTTP checker's JSON verdict, a labelled oracle."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from captchalab.adapt import (
    CheckerError,
    CommandChecker,
    HttpChecker,
    OracleChecker,
    make_checker,
)

ANSWERS = {"a.png": "12", "b.png": "34"}


def test_command_checker_accepts_on_exit_zero(tmp_path: Path) -> None:
    script = tmp_path / "check.py"
    script.write_text(
        "import sys, pathlib\n"
        f"answers = {ANSWERS!r}\n"
        "sys.exit(0 if answers.get(pathlib.Path(sys.argv[1]).name) == sys.argv[2] else 1)\n"
    )
    checker = make_checker(f"{sys.executable} {script}")
    assert isinstance(checker, CommandChecker)
    assert checker.check(tmp_path / "a.png", "12")
    assert not checker.check(tmp_path / "a.png", "13")
    assert not checker.check(tmp_path / "c.png", "12")
    with pytest.raises(CheckerError, match="not found"):
        CommandChecker("no-such-checker-command").check(tmp_path / "a.png", "12")
    with pytest.raises(ValueError, match="empty"):
        CommandChecker("")


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if body["id"] == "broken.png":
            self.send_response(500)
            self.end_headers()
            return
        reply = json.dumps({"accepted": ANSWERS.get(body["id"]) == body["answer"]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def checker_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/check"
    server.shutdown()
    server.server_close()


def test_http_checker_reads_the_verdict(checker_url: str, tmp_path: Path) -> None:
    checker = make_checker(checker_url)
    assert isinstance(checker, HttpChecker)
    assert checker.check(tmp_path / "b.png", "34")
    assert not checker.check(tmp_path / "b.png", "43")
    with pytest.raises(CheckerError, match="HTTP 500"):
        checker.check(tmp_path / "broken.png", "1")
    with pytest.raises(ValueError, match="http"):
        HttpChecker("ftp://example.org")


def test_oracle_counts_queries_and_folds_case_on_request(tmp_path: Path) -> None:
    oracle = OracleChecker({"x.png": "aB3"})
    assert oracle.check(tmp_path / "x.png", "aB3")
    assert not oracle.check(tmp_path / "x.png", "ab3")
    assert OracleChecker({"x.png": "aB3"}, case_sensitive=False).check(tmp_path / "x.png", "ab3")
    assert oracle.queries == 2
    with pytest.raises(CheckerError, match="no label"):
        oracle.check(tmp_path / "y.png", "1")
