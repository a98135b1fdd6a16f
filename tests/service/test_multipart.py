"""The in-memory multipart parser reads what Starlette's parser reads, and refuses what it
refuses, with the same limits."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from captchalab.service.multipart import FilePart, MultipartError, parse_form

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


def _ours(content_type: str, body: bytes) -> list[Any] | None:
    """``parse_form``'s items, or ``None`` when it refuses the body."""
    try:
        return parse_form(content_type, body, **LIMITS)
    except MultipartError:
        return None


@FUZZ
@given(case=bodies(), chunk=st.sampled_from([1, 7, 64, 1 << 20]))
def test_agrees_with_starlette(case: tuple[str, bytes], chunk: int) -> None:
    content_type, body = case
    ours = _ours(content_type, body)
    try:
        theirs = asyncio.run(_starlette(content_type, body, chunk))
    except MultiPartException:
        assert ours is None  # what Starlette refuses is refused
        return
    assert ours == theirs  # and what it reads is read the same


def test_a_clients_body() -> None:
    request = httpx.Request(
        "POST",
        "http://test/v1/solve",
        files={"image": ("c.png", b"\x89PNG\r\n\x1a\n...")},
        data={"model": "tiny"},
    )
    body = request.read()
    items = parse_form(request.headers["content-type"], body, **LIMITS)
    assert items == [("model", "tiny"), ("image", FilePart("c.png", b"\x89PNG\r\n\x1a\n..."))]


X_IS_1 = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1"
A_FILE = b"--b\r\ncontent-disposition:form-data; name=f; filename=a.png\r\n\r\n\x00\xff"


@pytest.mark.parametrize(
    ("body", "items"),
    [
        (X_IS_1 + b"\r\n--b--\r\nepilogue", [("x", "1")]),
        (A_FILE + b"\r\n--b--", [("f", FilePart("a.png", b"\x00\xff"))]),
        (X_IS_1, []),  # an unfinished part is not an item
    ],
)
def test_unusual_bodies_read_like_starlette(body: bytes, items: list[Any]) -> None:
    content_type = "multipart/form-data; boundary=b"
    assert parse_form(content_type, body, **LIMITS) == items
    assert asyncio.run(_starlette(content_type, body, 5)) == items


PART = b"--b\r\nContent-Disposition: form-data; name=%s\r\n\r\n%s\r\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--\r\n", '"name" must be'),
        (PART % (b"x", b"1" * 65) + b"--b--\r\n", "exceeds 64 bytes"),
        (PART % (b"x", b"1") * 3 + b"--b--\r\n", "too many fields"),
        (PART % (b"f; filename=a", b"") * 4 + b"--b--\r\n", "too many files"),
        (b"--b\r\nno header line\r\n\r\n1\r\n--b--\r\n", "invalid multipart data"),
        (b"--x\r\ngarbage", "invalid multipart data"),
        (b"preamble\r\n" + X_IS_1 + b"\r\n--b--\r\n", "invalid multipart data"),
    ],
)
def test_refused_bodies_and_limits(body: bytes, message: str) -> None:
    with pytest.raises(MultipartError, match=message):
        parse_form("multipart/form-data; boundary=b", body, **LIMITS)
    with pytest.raises(MultiPartException):
        asyncio.run(_starlette("multipart/form-data; boundary=b", body, 5))


def test_a_missing_boundary_is_refused() -> None:
    with pytest.raises(MultipartError, match="boundary"):
        parse_form("multipart/form-data", b"--b--\r\n", **LIMITS)


def test_the_service_answers_a_refused_body_with_400_json(client: Any) -> None:
    body = b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--\r\n"
    response = client.post(
        "/v1/solve", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request" and '"name"' in response.json()["detail"]


def test_one_file_over_the_batch_limit_is_reported_as_such(make_client: Any, png: bytes) -> None:
    client = make_client(max_batch_images=2)
    response = client.post("/v1/solve/batch", files=[("images", png)] * 3)
    assert response.status_code == 422 and "at most 2 images" in response.json()["detail"]
    many = client.post("/v1/solve/batch", files=[("images", png)] * 9)  # python-multipart's limit
    assert many.status_code == 400 and "too many files" in many.json()["detail"]
