"""multipart/form-data bodies, parsed in memory by python-multipart's ``MultipartParser``.

The parser is the one Starlette's ``request.form()`` drives; ``parse_form`` gives it callbacks
that collect each part in memory instead of spooling files to ``UploadFile`` objects (the body is
already in memory, and capped by ``max_upload_bytes``). It reads what Starlette reads, applies the
same limits and refuses what Starlette refuses (``MultipartError``, a 400 for the client);
``tests/service/test_multipart.py`` compares the two on generated bodies.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header


class MultipartError(ValueError):
    """The body is not valid multipart/form-data, or is over one of the limits."""


@dataclass(frozen=True)
class FilePart:
    """A part with a ``filename``: Starlette would make it an ``UploadFile``."""

    filename: str
    data: bytes


FormItem = tuple[str, "str | FilePart"]


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    disposition: bytes = b""
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


class _Collector:
    """``MultipartParser`` callbacks that build the form items in order, checking the limits."""

    def __init__(self, charset: str, max_files: int, max_fields: int, max_part_size: int) -> None:
        self.charset = charset
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self.items: list[FormItem] = []
        self.files = 0
        self.fields = 0
        self.part = _Part()
        self.header_name = bytearray()
        self.header_value = bytearray()

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self.header_name).lower() == b"content-disposition":
            self.part.disposition = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.disposition)
        if b"name" not in options:
            raise MultipartError('the Content-Disposition header field "name" must be provided')
        self.part.name = _decode(options[b"name"], self.charset)
        if b"filename" in options:
            self.files += 1
            if self.files > self.max_files:
                raise MultipartError(f"too many files; at most {self.max_files}")
            self.part.filename = _decode(options[b"filename"], self.charset)
        else:
            self.fields += 1
            if self.fields > self.max_fields:
                raise MultipartError(f"too many fields; at most {self.max_fields}")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        part.size += end - start
        if part.filename is None and part.size > self.max_part_size:
            raise MultipartError(f"a form field exceeds {self.max_part_size} bytes")
        part.chunks.append(data[start:end])

    def on_part_end(self) -> None:
        part = self.part
        data = b"".join(part.chunks)  # usually one chunk: no copy
        if part.filename is None:
            self.items.append((part.name, _decode(data, self.charset)))
        else:
            self.items.append((part.name, FilePart(part.filename, data)))


def parse_form(
    content_type: str | None,
    body: bytes,
    *,
    max_files: int,
    max_fields: int,
    max_part_size: int,
) -> list[FormItem]:
    """The body's ``(name, value)`` items in order; a file's value is a ``FilePart``.

    The limits are those of Starlette's ``request.form``: files, text fields, and bytes per
    text field. Raises ``MultipartError`` for a body Starlette's parser refuses.
    """
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise MultipartError("missing boundary in multipart/form-data")
    collector = _Collector(_charset(params.get(b"charset")), max_files, max_fields, max_part_size)
    callbacks = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        raise MultipartError(f"invalid multipart data: {exc}") from None
    return collector.items


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
