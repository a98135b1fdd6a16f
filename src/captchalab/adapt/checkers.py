"""Checkers: the site owner's way of telling whether an answer to one of their captchas is right.

``adapt`` only ever learns from answers a checker accepted. Use a checker you own or are
authorised to use (your own challenge service, a labelled oracle); never a third party's.

* ``CommandChecker``: runs ``CMD IMAGE ANSWER`` per answer; exit status 0 means accepted.
* ``HttpChecker``: POSTs ``{"id": file name, "answer": text}`` as JSON to the owner's checker
  URL, which answers ``{"accepted": true|false}``.
* ``OracleChecker``: known labels (tests and benchmarks).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


class CheckerError(RuntimeError):
    """The checker could not give a verdict (not a rejection): adapting stops."""


class Checker(Protocol):
    def check(self, image: Path, answer: str) -> bool:
        """True when ``answer`` is accepted for ``image``; CheckerError when unsure."""
        ...


class CommandChecker:
    """``command`` (a shell-style string or argument list) run as ``command IMAGE ANSWER``."""

    def __init__(self, command: str | list[str], timeout_s: float = 30.0) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise ValueError("the check command is empty")
        self.timeout_s = timeout_s

    def check(self, image: Path, answer: str) -> bool:
        try:
            done = subprocess.run(
                [*self.argv, str(image), answer],
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise CheckerError(f"check command not found: {self.argv[0]}") from exc
        except subprocess.TimeoutExpired as exc:
            raise CheckerError(f"check command took over {self.timeout_s:g} s on {image}") from exc
        return done.returncode == 0


class HttpChecker:
    """POST ``{"id", "answer"}`` to ``url``; the reply's JSON ``accepted`` is the verdict."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a check URL starts with http:// or https://, got {url!r}")
        self.url = url
        self.timeout_s = timeout_s

    def check(self, image: Path, answer: str) -> bool:
        body = json.dumps({"id": Path(image).name, "answer": answer}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"content-type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise CheckerError(f"{self.url} answered HTTP {exc.code} for {image}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CheckerError(f"cannot reach {self.url}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise CheckerError(f"{self.url} did not answer JSON") from exc
        if not isinstance(reply, dict) or not isinstance(reply.get("accepted"), bool):
            raise CheckerError(f'{self.url} must answer {{"accepted": true|false}}, got {reply!r}')
        return reply["accepted"]


class OracleChecker:
    """Accepts the exact label (case folded when ``case_sensitive`` is False); keyed by file
    name. An image it has no label for is a CheckerError."""

    def __init__(self, labels: Mapping[str, str], case_sensitive: bool = True) -> None:
        self.labels = dict(labels)
        self.case_sensitive = case_sensitive
        self.queries = 0

    def check(self, image: Path, answer: str) -> bool:
        label = self.labels.get(Path(image).name)
        if label is None:
            raise CheckerError(f"the oracle has no label for {Path(image).name}")
        self.queries += 1
        if self.case_sensitive:
            return answer == label
        return answer.lower() == label.lower()


def make_checker(spec: str) -> Checker:
    """``--check`` value -> a checker: an http(s) URL, else a command."""
    if spec.startswith(("http://", "https://")):
        return HttpChecker(spec)
    return CommandChecker(spec)
