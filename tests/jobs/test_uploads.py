"""Getting a clip in: links, PUT, confirm, multipart; what is refused leaves nothing."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dance_analysis.errors import (
    ChecksumMismatch,
    DanceAnalysisError,
    InvalidState,
    JobNotFound,
    MediaError,
    ObjectMismatch,
    ObjectMissing,
    Reason,
    UploadTooLarge,
)
from dance_analysis.jobs.service import JobService
from tests.jobs.helpers import put_local
from tests.jobs.services import make_settings


@pytest.fixture
def service(tmp_path: Path) -> Iterator[JobService]:
    svc = JobService(make_settings(tmp_path / "data", max_upload_bytes=5_000_000))
    yield svc
    svc.close()


def _stored_files(service: JobService) -> list[Path]:
    root = Path(service.settings.data_dir) / "storage"
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_three_step_upload_queues_one_job(service: JobService, tiny_clip: Path) -> None:
    body = tiny_clip.read_bytes()
    ticket = service.create_upload(
        "../My clip.mp4", "video/mp4", size=len(body), sha256=hashlib.sha256(body).hexdigest()
    )
    assert ticket.key == f"uploads/{ticket.job_id}/My_clip.mp4"
    # The local store: no URL from the engine (routes are the API's), a signed link.
    assert ticket.upload_url is None and ticket.filename == "My_clip.mp4"
    assert ticket.signature is not None and ticket.expires_at > time.time()
    assert service.get(ticket.job_id).status == "awaiting_upload"
    with pytest.raises(ObjectMissing):
        service.confirm(ticket.job_id, ticket.key)  # not uploaded yet

    assert put_local(service, ticket, body) == len(body)
    view = service.confirm(ticket.job_id, ticket.key)
    assert view.status == "queued" and view.size_bytes == len(body)
    again = service.confirm(ticket.job_id, ticket.key)  # a retried confirm
    assert again.id == view.id and again.status == "queued"
    assert [v.id for v in service.list()] == [view.id]
    assert service.queue.pending_job_ids() == {view.id}
    with pytest.raises(InvalidState):
        service.receive_upload(ticket.job_id, "My_clip.mp4", [b"again"])


def test_concurrent_confirms_make_one_job(service: JobService, tiny_clip: Path) -> None:
    ticket = service.create_upload("a.mp4", "video/mp4")
    put_local(service, ticket, tiny_clip.read_bytes())
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(service.confirm(ticket.job_id, ticket.key)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {v.id for v in results} == {ticket.job_id}
    assert service.queue.size() == 1


def test_asking_again_renews_the_same_upload(service: JobService) -> None:
    first = service.create_upload("a.mp4", "video/mp4", size=10, sha256="ab" * 32)
    by_content = service.create_upload("a.mp4", "video/mp4", size=10, sha256="AB" * 32)
    by_id = service.create_upload("a.mp4", "video/mp4", job_id=first.job_id)
    assert first.job_id == by_content.job_id == by_id.job_id
    assert len(service.list()) == 1


@pytest.mark.parametrize(
    ("declared", "error", "reason"),
    [
        ({"size": 123}, ObjectMismatch, Reason.OBJECT_MISMATCH),
        ({"sha256": "0" * 64}, ChecksumMismatch, Reason.CHECKSUM_MISMATCH),
    ],
)
def test_mismatch_leaves_no_job_and_no_file(
    service: JobService,
    tiny_clip: Path,
    declared: dict[str, Any],
    error: type[DanceAnalysisError],
    reason: Reason,
) -> None:
    ticket = service.create_upload("a.mp4", "video/mp4", **declared)
    put_local(service, ticket, tiny_clip.read_bytes())
    with pytest.raises(error) as raised:
        service.confirm(ticket.job_id, ticket.key)
    assert raised.value.reason is reason and raised.value.http_status == 422
    assert service.list() == [] and _stored_files(service) == []
    assert service.queue.size() == 0


@pytest.mark.parametrize(
    ("body", "reason"), [(b"", Reason.EMPTY_FILE), (b"%PDF-1.7\n" * 50, Reason.NOT_A_VIDEO)]
)
def test_empty_or_not_a_video_is_refused(service: JobService, body: bytes, reason: Reason) -> None:
    with pytest.raises(MediaError) as raised:
        service.submit("clip.mp4", [body])
    assert raised.value.reason is reason
    assert service.list() == [] and _stored_files(service) == []


def test_too_large_multipart_removes_the_partial_file(service: JobService) -> None:
    def body():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"\0" * 1_000_000

    with pytest.raises(UploadTooLarge):
        service.submit("big.mp4", body())
    assert service.list() == [] and _stored_files(service) == []
    with pytest.raises(UploadTooLarge):
        service.create_upload("big.mp4", "video/mp4", size=6_000_000)


def test_multipart_retry_answers_with_the_first_job(service: JobService, tiny_clip: Path) -> None:
    first = service.submit("clip.mp4", [tiny_clip.read_bytes()])
    second = service.submit("clip.mp4", [tiny_clip.read_bytes()])
    assert second.id == first.id and len(service.list()) == 1
    assert len(_stored_files(service)) == 1


def test_confirm_with_another_key_or_job(service: JobService) -> None:
    ticket = service.create_upload("a.mp4", "video/mp4")
    with pytest.raises(ObjectMismatch):
        service.confirm(ticket.job_id, f"uploads/{ticket.job_id}/../../secret")
    with pytest.raises(JobNotFound):
        service.confirm(str(uuid.uuid4()), ticket.key)
    with pytest.raises(JobNotFound):
        service.get("../../etc/passwd")


def test_cancel_and_delete(service: JobService, tiny_clip: Path) -> None:
    view = service.submit("clip.mp4", [tiny_clip.read_bytes()])
    canceled = service.cancel(view.id)
    assert canceled.status == "canceled" and canceled.reason == "canceled"
    assert service.cancel(view.id).status == "canceled"  # idempotent
    service.delete(view.id)
    with pytest.raises(JobNotFound):
        service.get(view.id)
    assert _stored_files(service) == []
    with pytest.raises(JobNotFound):
        service.delete(view.id)
