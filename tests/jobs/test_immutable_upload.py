"""A confirmed upload is immutable (issue 7 §2.1).

A PUT that lands while confirm is checking the object makes confirm refuse (the
object it checked is no longer the one in place); and if the bytes change after
confirm anyway (an S3 presigned PUT cannot be revoked), the worker notices and
fails the job ``object_mismatch`` instead of analysing other bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from dance_analysis.errors import InvalidState
from dance_analysis.jobs.service import JobService
from dance_analysis.storage.local import LocalStorage
from tests.jobs.helpers import put_local, wait_status
from tests.jobs.services import make_settings, s3_settings


class SwapOnFirstRead(LocalStorage):
    """The real local store, plus a hook that runs once, when confirm first reads."""

    swap: Callable[[], None] | None = None

    def open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        swap, self.swap = self.swap, None
        if swap is not None:
            swap()
        return super().open_range(key, start, end)


def _other_bytes(body: bytes) -> bytes:
    """As long as ``body`` and still starting like an MP4, but not the same clip."""
    return body[:64] + bytes(b ^ 0x55 for b in body[64:])


def test_a_put_landing_while_confirm_checks_makes_confirm_refuse(
    tmp_path: Path, tiny_clip: Path
) -> None:
    settings = make_settings(tmp_path / "data")
    storage = SwapOnFirstRead(Path(settings.data_dir) / "storage")
    service = JobService(settings, storage=storage)
    try:
        first = tiny_clip.read_bytes()
        second = _other_bytes(first)
        ticket = service.create_upload("a.mp4", "video/mp4")
        put_local(service, ticket, first)
        # While confirm reads the first bytes, a second PUT puts others in place.
        storage.swap = lambda: put_local(service, ticket, second)
        with pytest.raises(InvalidState) as refused:
            service.confirm(ticket.job_id, ticket.key)
        assert refused.value.http_status == 409
        assert service.get(ticket.job_id).status == "awaiting_upload"
        # Confirming again checks the bytes that are there now, and records those.
        view = service.confirm(ticket.job_id, ticket.key)
        assert view.status == "queued"
        assert view.sha256 == hashlib.sha256(second).hexdigest()
    finally:
        service.close()


def test_confirm_records_the_sha256_it_measured(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path / "data"))
    try:
        body = tiny_clip.read_bytes()
        ticket = service.create_upload("a.mp4", "video/mp4")  # no size, no hash declared
        put_local(service, ticket, body)
        view = service.confirm(ticket.job_id, ticket.key)
        assert view.size_bytes == len(body)
        assert view.sha256 == hashlib.sha256(body).hexdigest()
    finally:
        service.close()


def test_the_worker_refuses_bytes_replaced_after_confirm_on_s3(
    tmp_path: Path, tiny_clip: Path, s3_endpoint: str
) -> None:
    settings = make_settings(tmp_path, **s3_settings(s3_endpoint))
    service = JobService(settings)
    try:
        body = tiny_clip.read_bytes()
        ticket = service.create_upload("a.mp4", "video/mp4", size=len(body))
        put = httpx.put(ticket.upload_url, content=body, headers={"Content-Type": "video/mp4"})
        assert put.status_code == 200
        view = service.confirm(ticket.job_id, ticket.key)
        assert view.status == "queued"
        # The presigned link is still valid after confirm, and S3 cannot be told no.
        again = httpx.put(
            ticket.upload_url, content=_other_bytes(body), headers={"Content-Type": "video/mp4"}
        )
        assert again.status_code == 200
        consumer = service.start_consumer(workers=1)
        try:
            done = wait_status(service, view.id, {"finished", "failed"})
        finally:
            consumer.stop(grace_s=5)
        assert done.status == "failed", done
        assert done.reason == "object_mismatch"
        assert done.message and "replaced after the upload was confirmed" in done.message
    finally:
        service.close()
