"""Request bodies streamed into the job service, never held in memory.

The service's upload methods take a plain iterable of byte chunks and run in a
worker thread (they write files and rows). ``BodyReader.chunks()`` is that iterable:
each ``next`` hops back to the event loop for one ASGI message, with an idle
timeout so a stalled client cannot hold a thread forever. ``MultipartFile`` parses
the legacy multipart form with python-multipart's streaming parser, yields only the
``file`` part's bytes and bounds everything else (parts, headers, other fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import anyio
import anyio.from_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import Receive

from api.errors import TOO_LARGE, ApiError

UPLOAD_IDLE_TIMEOUT_S = 60.0
MAX_PARTS = 16
MAX_PART_HEADER_BYTES = 8 * 1024
MAX_FIELD_BYTES = 64 * 1024
MULTIPART_OVERHEAD_BYTES = 1024 * 1024  # what a form may add around the file


def incomplete_upload() -> ApiError:
    return ApiError(400, "upload_incomplete", "The upload ended before all of the file arrived.")


class BodyReader:
    """An ASGI request body, readable chunk by chunk from a worker thread."""

    def __init__(self, receive: Receive, idle_timeout_s: float = UPLOAD_IDLE_TIMEOUT_S) -> None:
        self._receive = receive
        self._idle_timeout_s = idle_timeout_s
        self._done = False
        self.received = 0

    async def next_chunk(self) -> bytes | None:
        if self._done:
            return None
        try:
            with anyio.fail_after(self._idle_timeout_s):
                message = await self._receive()
        except TimeoutError:
            raise ApiError(
                408, "request_timeout", "The upload stalled: no data arrived for a while."
            ) from None
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise incomplete_upload()
        self._done = not message.get("more_body", False)
        body: bytes = message.get("body", b"")
        self.received += len(body)
        return body

    def chunks(self) -> Iterator[bytes]:
        """Only from a thread started by ``anyio.to_thread.run_sync``."""
        while (chunk := anyio.from_thread.run(self.next_chunk)) is not None:
            if chunk:
                yield chunk


def multipart_boundary(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the clip as multipart/form-data with a field named 'file'.",
        )
    return boundary


def _part_filename(disposition: bytes) -> tuple[str, str | None]:
    """``(field name, filename or None)`` from a part's Content-Disposition."""
    _, params = parse_options_header(disposition)
    name = params.get(b"name", b"").decode("utf-8", "replace")
    encoded = params.get(b"filename*")
    if encoded is not None:  # RFC 5987: UTF-8''percent-encoded
        _, _, value = encoded.decode("latin-1").partition("''")
        return name, unquote(value, errors="replace")
    filename = params.get(b"filename")
    return name, None if filename is None else filename.decode("utf-8", "replace")


class MultipartFile:
    """The ``file`` field of a multipart body, as a filename and a stream of bytes."""

    def __init__(self, boundary: bytes, body: Iterator[bytes]) -> None:
        self._body = body
        self._pending: list[bytes] = []
        self._parts = 0
        self._header_bytes = 0
        self._field_bytes = 0
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self._file_done = False
        self.filename: str | None = None
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )

    # -- parser callbacks ---------------------------------------------------------------

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise ApiError(422, "invalid_multipart", f"A form may have at most {MAX_PARTS} parts.")
        self._headers = {}
        self._header_bytes = 0

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise ApiError(422, "invalid_multipart", "A form part has oversized headers.")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _on_headers_finished(self) -> None:
        name, filename = _part_filename(self._headers.get(b"content-disposition", b""))
        if name == "file" and filename is not None and self.filename is None:
            self.filename = filename or "upload"
            self._in_file = True

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(bytes(data[start:end]))
            return
        self._field_bytes += end - start
        if self._field_bytes > MAX_FIELD_BYTES:
            raise ApiError(413, TOO_LARGE, "Form fields other than 'file' are too large.")

    def _on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True

    # -- reading ------------------------------------------------------------------------

    def _feed(self) -> bool:
        chunk = next(self._body, None)
        if chunk is None:
            return False
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            raise ApiError(422, "invalid_multipart", f"The form is malformed ({error}).") from None
        return True

    def open(self) -> str:
        """Read up to the file part's headers; its (unsanitised) filename."""
        while self.filename is None:
            if not self._feed():
                raise ApiError(422, "missing_file", "The form has no field named 'file'.")
        return self.filename

    def data(self) -> Iterator[bytes]:
        """The file's bytes; raises if the body ends before the part does."""
        while True:
            pending, self._pending = self._pending, []
            yield from pending
            if self._file_done:
                return
            if not self._feed():
                raise incomplete_upload()
