"""SHA-256 of files and byte streams, computed one way everywhere.

A clip's hash is written into result.json (the pipeline), compared with what the
client declared at confirm (uploads), stored as S3 metadata and checked again after
a sync (storage, jobs.sync). Those must agree byte for byte, so every file or stream
is hashed here. (Device tokens and pairing codes are short strings, hashed where
they are stored: :mod:`dance_analysis.access`.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

READ_BYTES = 1 << 20  # large reads: hashing a 2 GB clip is bound by the disk, not calls


class Sha256Stream:
    """Hashes bytes on their way somewhere else: ``store(stream.tap(chunks))``, then
    :meth:`hexdigest` once the chunks are used up. One pass over the data, no copy."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def tap(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._digest.update(chunk)
            yield chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def sha256_of_chunks(chunks: Iterable[bytes]) -> str:
    """The lowercase hex SHA-256 of the concatenated chunks."""
    stream = Sha256Stream()
    for _ in stream.tap(chunks):
        pass
    return stream.hexdigest()


def sha256_of_file(path: Path) -> str:
    """The lowercase hex SHA-256 of a file's bytes."""
    return sha256_of_chunks(_read(path))


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(READ_BYTES):
            yield block
