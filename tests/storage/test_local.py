"""The local store: atomic writes, capped streams that leave nothing behind, ranges."""

from __future__ import annotations

import errno
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dance_analysis.errors import ObjectMissing, OutputError, Reason, UploadTooLarge
from dance_analysis.storage.keys import job_prefixes, result_key, upload_key
from dance_analysis.storage.local import LocalStorage


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_stream_over_the_cap_is_cut_and_removed(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = upload_key(str(uuid.uuid4()), "big.mp4")
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b"x" * 1000

    with pytest.raises(UploadTooLarge) as error:
        storage.write_stream(key, chunks(), max_bytes=10_500)
    assert error.value.http_status == 413 and error.value.reason is Reason.UPLOAD_TOO_LARGE
    assert len(sent) == 11  # reading stopped at the cap, not at the end of the body
    assert _files(tmp_path) == []


def test_disk_full_is_insufficient_storage_and_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    def chunks() -> Iterator[bytes]:
        yield b"x" * 100
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError) as error:
        storage.write_stream(upload_key(str(uuid.uuid4()), "a.mp4"), chunks(), max_bytes=1000)
    assert error.value.reason is Reason.INSUFFICIENT_STORAGE and error.value.http_status == 507
    assert _files(tmp_path) == []


def test_a_client_that_vanishes_leaves_no_partial_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    def chunks() -> Iterator[bytes]:
        yield b"x" * 100
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        storage.write_stream(upload_key(str(uuid.uuid4()), "a.mp4"), chunks(), max_bytes=1000)
    assert _files(tmp_path) == []


def test_put_stat_fetch_range_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    job_id = str(uuid.uuid4())
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(range(256)) * 10)
    key = result_key(job_id, "result.json")
    storage.put_file(key, source)
    info = storage.stat(key)
    assert info is not None and info.size == 2560
    assert b"".join(storage.open_range(key, 10, 19)) == bytes(range(10, 20))  # inclusive
    assert b"".join(storage.open_range(key, 2550, None)) == bytes(range(246, 256))
    copy = tmp_path / "copy.bin"
    storage.fetch(key, copy)
    assert copy.read_bytes() == source.read_bytes()
    assert storage.delete_prefix(job_prefixes(job_id)[1]) == 1
    assert storage.stat(key) is None
    with pytest.raises(ObjectMissing):
        storage.open_range(key, 0, None)
    with pytest.raises(ObjectMissing):
        storage.fetch(key, copy)
