"""The storage interface every backend implements, and the small types it returns.

Two backends sit behind it: :class:`~dance_analysis.storage.local.LocalStorage`
(files under the data folder) and :class:`~dance_analysis.storage.s3.S3Storage`
(S3 or MinIO). Keys are validated by :mod:`dance_analysis.storage.keys`.
Ranges follow HTTP: ``open_range(key, start, end)`` yields bytes ``start`` to
``end`` *inclusive*, to the object's end when ``end`` is None.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from dance_analysis.digests import sha256_of_chunks

CHUNK_BYTES = 1 << 20

_CONTENT_TYPES = {
    ".json": "application/json",
    ".mp4": "video/mp4",
    ".csv": "text/csv; charset=utf-8",
    # The exports (issue 12): text a browser saves as it is. A KVA is Kinovea's XML.
    ".trc": "text/plain; charset=utf-8",
    ".mot": "text/plain; charset=utf-8",
    ".bvh": "text/plain; charset=utf-8",
    ".kva": "application/xml",
}


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str | None  # hex; None when the backend does not know it without reading
    # Changes whenever the object is replaced (local: inode, mtime, size); None when
    # the backend cannot tell cheaply. Confirmation uses it to see a swap mid-check.
    version: str | None = None


#: Called by ``write_stream`` with the step that makes a fully written object visible.
#: It runs that step (inside a transaction that checks it may) or raises to abandon
#: the write; the partial data is then removed.
Commit = Callable[[Callable[[], None]], None]


@runtime_checkable
class Storage(Protocol):
    kind: str  # "local" | "s3"

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None: ...

    def write_stream(
        self, key: str, chunks: Iterable[bytes], *, max_bytes: int, commit: Commit | None = None
    ) -> int: ...

    def stat(self, key: str) -> ObjectInfo | None: ...

    def fetch(self, key: str, path: Path) -> None: ...

    def open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def presigned_put(self, key: str, content_type: str, expires_s: int) -> str | None: ...

    def presigned_get(self, key: str, expires_s: int, filename: str) -> str | None: ...

    def local_path(self, key: str) -> Path | None: ...

    def ping(self) -> bool: ...


def content_type_for(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def sha256_of_object(storage: Storage, key: str) -> str:
    """Hash an object by reading it through the backend (used when none is recorded)."""
    return sha256_of_chunks(storage.open_range(key, 0, None))
