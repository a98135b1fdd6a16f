"""The fast multipart path reads what Starlette's parser reads, or declines the body."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from captchalab.service.multipart import FilePart, parse_form

LIMITS = {"max_files": 3, "max_fields": 2, "max_part_size": 64}
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BOUNDARIES = st.sampled_from(["b0undary", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "x", "a b"])
NAMES = st.sampled_from(["image", "images", "model", "Image", 'we"ird', "ünï", ""])
DISPOSITION = st.sampled_from(
    ["Content-Disposition", "content-disposition", "CONTENT-DISPOSITION", "X-Disposition"]
)
CHARSETS = st.sampled_from([None, "utf-8", "latin-1", "utf-16", "nonsense", ""])
DATA = st.binary(max_size=80) | st.sampled_from([b"\r\n--b0undary", b"--x--", b"\r\n--x "])


@st.composite
def parts(draw: Any, boundary: str) -> bytes:
    name = draw(NAMES)
    disposition = f'form-data; name="{name}"'
    if draw(st.booleans()):
        disposition += f'; filename="{draw(st.sampled_from(["c.png", "a;b", "x y", "ü"]))}"'
    headers = [(draw(DISPOSITION), disposition)]
    if draw(st.booleans()):
        headers.append(("Content-Type", draw(st.sampled_from(["image/png", "text/plain"]))))
    if draw(st.booleans()):
        headers.reverse()
    spaces = draw(st.sampled_from(["", " ", "  "]))
    block = b"".join(f"{k}:{spaces}{v}\r\n".encode() for k, v in headers)
    return block + b"\r\n" + draw(DATA)


@st.composite
def bodies(draw: Any) -> tuple[str, bytes]:
    boundary = draw(BOUNDARIES)
    delimiter = f"--{boundary}".encode()
    body = delimiter + b"\r\n"
    body += (b"\r\n" + delimiter + b"\r\n").join(
        draw(st.lists(parts(boundary), min_size=1, max_size=4))
    )
    body += b"\r\n" + delimiter + b"--" + draw(st.sampled_from([b"", b"\r\n", b"\r\nepilogue"]))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # damage it here and there
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(max_size=3)) + body[at + draw(st.integers(0, 3)) :]
    content_type = f'multipart/form-data; boundary="{boundary}"'
    charset = draw(CHARSETS)
    if charset is not None:
        content_type += f"; charset={charset}"
    return content_type, body


async def _starlette(content_type: str, body: bytes, chunk: int) -> list[Any]:
    async def stream() -> Any:
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    parser = MultiPartParser(Headers({"content-type": content_type}), stream(), **LIMITS)
    form = await parser.parse()
    items: list[Any] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            items.append((name, FilePart(value.filename or "", await value.read())))
        else:
            items.append((name, value))
    await form.close()
    return items


@FUZZ
@given(case=bodies(), chunk=st.sampled_from([1, 7, 64, 1 << 20]))
def test_fast_path_agrees_with_starlette(case: tuple[str, bytes], chunk: int) -> None:
    content_type, body = case
    fast = parse_form(content_type, body, **LIMITS)
    try:
        slow = asyncio.run(_starlette(content_type, body, chunk))
    except MultiPartException:
        assert fast is None  # what Starlette refuses always goes to Starlette
        return
    if fast is not None:
        assert fast == slow


def test_clients_bodies_take_the_fast_path() -> None:
    request = httpx.Request(
        "POST",
        "http://test/v1/solve",
        files={"image": ("c.png", b"\x89PNG\r\n\x1a\n...")},
        data={"model": "tiny"},
    )
    body = request.read()
    items = parse_form(request.headers["content-type"], body, **LIMITS)
    assert items == [("model", "tiny"), ("image", FilePart("c.png", b"\x89PNG\r\n\x1a\n..."))]


@pytest.mark.parametrize(
    "body",
    [
        b"preamble\r\n--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--\r\n",
        b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b  \r\n",
        b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--\r\nepilogue",
        b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--\r\n",
        b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n" + b"1" * 65 + b"\r\n--b--\r\n",
        b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1",
    ],
)
def test_unusual_bodies_are_left_to_starlette(body: bytes) -> None:
    assert parse_form("multipart/form-data; boundary=b", body, **LIMITS) is None
