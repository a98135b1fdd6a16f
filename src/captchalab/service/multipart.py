"""The usual shape of a multipart/form-data body, parsed in a few passes over the bytes.

Starlette's form parser (python-multipart's byte-level state machine, with callbacks, spooled
temporary files and ``UploadFile`` objects) is most of the CPU time a small upload costs.
``parse_form`` reads only the canonical shape that clients send::

    --B CRLF  Name: value CRLF ...  CRLF  data  ( CRLF --B CRLF  headers  CRLF  data )*
    CRLF --B--  [CRLF]

and returns what Starlette's parser returns for it: the ``(name, value)`` items in order, a file's
value being a ``FilePart``. For any other body (a preamble, padding or an epilogue around a
boundary, unusual header syntax, a part without a name, a limit reached, ...) it returns
``None``, and the caller hands the body to Starlette's parser, which takes or refuses it with its
own messages. So this path never accepts what that parser refuses, nor reads anything
differently; ``tests/service/test_multipart.py`` compares the two on generated bodies.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from python_multipart.multipart import parse_options_header

# python-multipart's own limits (MAX_BOUNDARY_LENGTH, DEFAULT_MAX_HEADER_COUNT) and a header line
# bound below its DEFAULT_MAX_HEADER_SIZE: longer or more goes to the full parser.
_MAX_BOUNDARY = 256
_MAX_HEADERS = 8
_MAX_HEADER_LINE = 4096
_TOKEN_CHARS = (  # RFC 7230 token characters: the only ones python-multipart allows in a name
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"
)


@dataclass(frozen=True)
class FilePart:
    """A part with a ``filename``: Starlette would make it an ``UploadFile``."""

    filename: str
    data: bytes


FormItem = tuple[str, "str | FilePart"]


def parse_form(
    content_type: str | None,
    body: bytes,
    *,
    max_files: int,
    max_fields: int,
    max_part_size: int,
) -> list[FormItem] | None:
    """The body's form items, or ``None`` when the body is not of the canonical shape.

    The limits are those given to Starlette's ``request.form``; a body over any of them is
    ``None`` too, so that Starlette refuses it with its usual message.
    """
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > _MAX_BOUNDARY:
        return None
    charset = _charset(params.get(b"charset"))
    delimiter = b"\r\n--" + boundary
    opening = delimiter[2:] + b"\r\n"
    if not body.startswith(opening):
        return None
    items: list[FormItem] = []
    files = fields = 0
    start = len(opening)
    while True:
        headers_end = body.find(b"\r\n\r\n", start)
        if headers_end < 0 or body.startswith(b"\r\n", start):  # no headers: no name
            return None
        disposition = _disposition(body[start:headers_end])
        if disposition is None:
            return None
        data_start = headers_end + 4
        data_end = body.find(delimiter, data_start)
        if data_end < 0:
            return None
        _, options = parse_options_header(disposition)
        if b"name" not in options:
            return None
        name = _decode(options[b"name"], charset)
        data = body[data_start:data_end]
        if b"filename" in options:
            files += 1
            if files > max_files:
                return None
            items.append((name, FilePart(_decode(options[b"filename"], charset), data)))
        else:
            fields += 1
            if fields > max_fields or len(data) > max_part_size:
                return None
            items.append((name, _decode(data, charset)))
        after = data_end + len(delimiter)
        if body.startswith(b"\r\n", after):
            start = after + 2
        elif body.startswith(b"--", after) and body[after + 2 :] in (b"", b"\r\n"):
            return items
        else:
            return None


def _disposition(block: bytes) -> bytes | None:
    """The (last) Content-Disposition value of a part's header lines, if they are plain."""
    lines = block.split(b"\r\n")
    if len(lines) > _MAX_HEADERS:
        return None
    disposition = None
    for line in lines:
        name, colon, value = line.partition(b":")
        if (
            not colon
            or not name
            or name.translate(None, _TOKEN_CHARS)
            or len(line) > _MAX_HEADER_LINE
            or b"\r" in value
            or b"\n" in value
        ):
            return None
        if name.lower() == b"content-disposition":
            disposition = value.lstrip(b" ")  # python-multipart skips spaces before a value
    return disposition


def _charset(declared: bytes | None) -> str:
    """The codec for names and text fields: the Content-Type's charset, as Starlette picks it."""
    try:
        return codecs.lookup("utf-8" if declared is None else declared.decode("latin-1")).name
    except LookupError:
        return "latin-1"


def _decode(raw: bytes, charset: str) -> str:
    try:
        return raw.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return raw.decode("latin-1")
