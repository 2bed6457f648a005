"""One SHA-256 for files and streams: the same digest whichever way the bytes come."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dance_analysis.digests import READ_BYTES, Sha256Stream, sha256_of_chunks, sha256_of_file
from dance_analysis.storage.base import sha256_of_object
from dance_analysis.storage.local import LocalStorage

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_a_file_across_several_reads_hashes_like_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * (READ_BYTES // 256 * 2 + 7)  # two full reads and a tail
    path = tmp_path / "clip.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_of_file(path) == expected
    assert sha256_of_chunks([data[:5], b"", data[5:]]) == expected
    storage = LocalStorage(tmp_path / "store")
    storage.put_file("uploads/x/clip.bin", path)
    assert sha256_of_object(storage, "uploads/x/clip.bin") == expected


def test_a_stream_is_hashed_on_its_way_and_passed_on_unchanged() -> None:
    stream = Sha256Stream()
    chunks = [b"abc", b"", b"def"]
    assert list(stream.tap(iter(chunks))) == chunks
    assert stream.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()
    assert sha256_of_chunks([]) == EMPTY
