"""Request bodies streamed into the job service, never held in memory.

The service's upload methods take a plain iterable of byte chunks and run in a
worker thread (they hash, write files and rows: nothing of that on the event loop).
``BodyReader.chunks()`` is that iterable: each ``next`` hops back to the event loop
for up to ``BATCH_BYTES`` of ASGI messages (one hop per batch, not per 64 KB
message: with twenty uploads the hops and the GIL hand-overs they cost were what
kept the loop from answering ``/health``), with an idle timeout so a stalled client
cannot hold a thread forever.

Upload threads come from their own pool (``run_upload``), never from the shared one
that sync routes and dependencies use: a hundred slow or stalled uploads must not
leave ``/health`` and job status waiting for a thread.

``MultipartFile`` parses the legacy multipart form with python-multipart's streaming
parser, yields only the ``file`` part's bytes and bounds everything else (parts,
headers, other fields).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import unquote

import anyio
import anyio.from_thread
import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.types import Receive

from api.errors import TOO_LARGE, ApiError

T = TypeVar("T")

UPLOAD_IDLE_TIMEOUT_S = 60.0
BATCH_BYTES = 1 << 20  # what one hop from the upload thread to the event loop brings back
UPLOAD_THREADS = 64  # uploads streaming at once; more wait (unread) for a free thread
MAX_PARTS = 16
MAX_PART_HEADER_BYTES = 8 * 1024
MAX_FIELD_BYTES = 64 * 1024
# The clip's field: ours, and the original backend's clients' name; the first one counts.
FILE_FIELDS = frozenset({"file", "video"})
MULTIPART_OVERHEAD_BYTES = 1024 * 1024  # what a form may add around the file


def incomplete_upload() -> ApiError:
    return ApiError(400, "upload_incomplete", "The upload ended before all of the file arrived.")


class BodyReader:
    """An ASGI request body, readable batch by batch from a worker thread."""

    def __init__(
        self,
        receive: Receive,
        idle_timeout_s: float = UPLOAD_IDLE_TIMEOUT_S,
        batch_bytes: int = BATCH_BYTES,
    ) -> None:
        self._receive = receive
        self._idle_timeout_s = idle_timeout_s
        self._batch_bytes = batch_bytes
        self._done = False
        self.received = 0

    async def next_chunk(self) -> bytes | None:
        """One ASGI message's body; None once the body is complete."""
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

    async def next_batch(self) -> list[bytes] | None:
        """Message bodies up to ``batch_bytes`` in all (less at the end); None when done.

        Handed over as they came, not joined: no copy on the event loop.
        """
        if self._done:
            return None
        parts: list[bytes] = []
        size = 0
        while size < self._batch_bytes and (body := await self.next_chunk()) is not None:
            if body:
                parts.append(body)
                size += len(body)
        return parts

    def chunks(self) -> Iterator[bytes]:
        """Only from a thread started by ``anyio.to_thread.run_sync`` (``run_upload``)."""
        while (batch := anyio.from_thread.run(self.next_batch)) is not None:
            yield from batch


async def run_upload(request: Request, fn: Callable[[], T]) -> T:
    """Run ``fn`` (which reads a ``BodyReader``) on a thread of the uploads' own pool.

    The pool's limiter is made by the app's lifespan (``AppState.upload_threads``).
    """
    limiter: anyio.CapacityLimiter = request.state.upload_threads
    return await anyio.to_thread.run_sync(fn, limiter=limiter)


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


# One ``; name=value`` parameter of a Content-Disposition: a token or a quoted string.
_DISPOSITION_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_EXT_VALUE = re.compile(r"^([A-Za-z0-9!#$&+^`{}~-]+)'[^']*'(.*)$")  # charset'lang'pct-encoded


def _disposition_params(disposition: bytes) -> dict[str, str]:
    """A part's Content-Disposition parameters, names lowercased, quotes removed.

    python-multipart's ``parse_options_header`` drops RFC 5987 ``filename*``, so a
    client that names its file only that way (as curl and browsers may for non-ASCII
    names) would look as if it sent no file at all.
    """
    text = disposition.decode("latin-1")
    params: dict[str, str] = {}
    for match in _DISPOSITION_PARAM.finditer(text):
        name, value = match.group(1).lower(), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name, value)
    return params


def _decode_ext_value(value: str) -> str | None:
    """RFC 5987 ``charset'lang'percent-encoded`` → text; None when it is not one."""
    match = _EXT_VALUE.match(value)
    if match is None:
        return None
    charset = match.group(1).lower()
    if charset not in ("utf-8", "iso-8859-1"):
        return None
    return unquote(match.group(2), encoding=charset, errors="replace")


def _part_filename(disposition: bytes) -> tuple[str, str | None]:
    """``(field name, filename or None)`` from a part's Content-Disposition.

    ``filename*`` wins over ``filename`` (RFC 6266 §4.3); the name is sanitised later,
    like any other.
    """
    params = _disposition_params(disposition)

    def utf8(value: str) -> str:  # header bytes were read as Latin-1; clients send UTF-8
        return value.encode("latin-1").decode("utf-8", "replace")

    name = utf8(params.get("name", ""))
    encoded = params.get("filename*")
    if encoded is not None:
        decoded = _decode_ext_value(encoded)
        if decoded is not None:
            return name, decoded
    filename = params.get("filename")
    return name, None if filename is None else utf8(filename)


class MultipartFile:
    """The ``file`` (or ``video``) field of a multipart body: a filename and its bytes."""

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
        # Small text fields (e.g. ``style``), before or after the file: those after it
        # are known once :meth:`data` has run to its end.
        self.fields: dict[str, str] = {}
        self._field_name: str | None = None
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
        self._field_name = None
        if name in FILE_FIELDS and filename is not None and self.filename is None:
            self.filename = filename or "upload"
            self._in_file = True
        elif filename is None:
            self._field_name = name
            self.fields[name] = ""

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(bytes(data[start:end]))
            return
        self._field_bytes += end - start
        if self._field_bytes > MAX_FIELD_BYTES:
            raise ApiError(413, TOO_LARGE, "Form fields other than 'file' are too large.")
        if self._field_name is not None:
            self.fields[self._field_name] += bytes(data[start:end]).decode("utf-8", "replace")

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
                raise ApiError(
                    422, "missing_file", "The form has no file field named 'file' (or 'video')."
                )
        return self.filename

    def data(self) -> Iterator[bytes]:
        """The file's bytes; raises if the body ends before the part does."""
        while True:
            pending, self._pending = self._pending, []
            yield from pending
            if self._file_done:
                # Read the rest of the form (bounded: MAX_PARTS, MAX_FIELD_BYTES), so
                # fields sent after the file count too.
                while self._feed():
                    pass
                return
            if not self._feed():
                raise incomplete_upload()
