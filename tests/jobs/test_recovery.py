"""The sweep on its own: leases, lost tasks, abandoned uploads, a busy SQLite."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

from dance_analysis.db import utcnow
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.workdirs import work_dir
from tests.jobs.services import make_settings


def _age(service: JobService, job_id: str, **fields: object) -> None:
    def update(session):  # type: ignore[no-untyped-def]
        record = session.get(JobRecord, job_id)
        for name, value in fields.items():
            setattr(record, name, value)

    service.database.write(update)


def test_expired_lease_requeues_then_fails_worker_lost(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path, max_attempts=2))
    try:
        job_id = service.submit("a.mp4", [tiny_clip.read_bytes()]).id
        past = utcnow() - dt.timedelta(seconds=10)
        _age(service, job_id, status="started", attempts=1, worker_id="gone", lease_expires_at=past)
        assert service.recover() >= 1
        view = service.get(job_id)
        assert (view.status, view.attempts) == ("queued", 1)
        assert job_id in service.queue.pending_job_ids()

        _age(service, job_id, status="started", attempts=2, worker_id="gone", lease_expires_at=past)
        service.recover()
        view = service.get(job_id)
        assert (view.status, view.reason) == ("failed", "worker_lost")
        assert "2 times" in (view.message or "")
    finally:
        service.close()


def test_a_live_lease_is_left_alone(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))
    try:
        job_id = service.submit("a.mp4", [tiny_clip.read_bytes()]).id
        future = utcnow() + dt.timedelta(seconds=30)
        _age(service, job_id, status="started", attempts=1, worker_id="w", lease_expires_at=future)
        service.recover()
        assert service.get(job_id).status == "started"
    finally:
        service.close()


def test_the_sweep_removes_working_folders_of_attempts_that_stopped(
    tmp_path: Path, tiny_clip: Path
) -> None:
    """A killed worker's work/ folder goes at the next sweep, not at the next restart."""
    service = JobService(make_settings(tmp_path))
    try:
        body = tiny_clip.read_bytes()
        lapsed = service.submit("a.mp4", [body]).id
        running = service.submit("b.mp4", [body]).id
        past = utcnow() - dt.timedelta(seconds=10)
        future = utcnow() + dt.timedelta(seconds=30)
        _age(service, lapsed, status="started", attempts=1, worker_id="gone", lease_expires_at=past)
        _age(service, running, status="started", attempts=2, worker_id="w", lease_expires_at=future)
        # Named by this (live) process: only the job rows can tell these apart.
        dead = work_dir(service.settings, lapsed, 1)
        earlier = work_dir(service.settings, running, 1)  # its first attempt's worker died
        live = work_dir(service.settings, running, 2)
        for folder in (dead, earlier, live):
            (folder / "out").mkdir(parents=True)
            (folder / "source.mp4").write_bytes(body)

        service.recover()
        assert not dead.exists() and not earlier.exists()
        assert (live / "source.mp4").read_bytes() == body
        assert service.get(running).status == "started"
    finally:
        service.close()


def test_redis_losing_its_queue_is_repaired(
    tmp_path: Path, tiny_clip: Path, postgres_url: str, redis_url: str
) -> None:
    service = JobService(make_settings(tmp_path, database_url=postgres_url, redis_url=redis_url))
    try:
        body = tiny_clip.read_bytes()
        ids = {service.submit(f"{i}.mp4", [body]).id for i in range(3)}
        assert service.queue.pending_job_ids() == ids
        service.queue.flush()  # what a Redis restart without persistence does
        for job_id in ids:
            _age(service, job_id, enqueued_at=utcnow() - dt.timedelta(seconds=60))
        assert service.recover() == 3
        assert service.queue.pending_job_ids() == ids
        assert service.recover() == 0  # no duplicates while they wait in the queue
        assert service.queue.size() == 3
    finally:
        service.queue.flush()
        service.close()


def test_unconfirmed_uploads_are_reconciled(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path, upload_reconcile_after_s=0))
    try:
        good = service.create_upload("good.mp4", "video/mp4")
        service.receive_upload(good.job_id, "good.mp4", [tiny_clip.read_bytes()])
        never = service.create_upload("never.mp4", "video/mp4")
        past = utcnow() - dt.timedelta(seconds=1)
        for job_id in (good.job_id, never.job_id):
            _age(service, job_id, upload_expires_at=past)
        service.recover()
        assert service.get(good.job_id).status == "queued"
        assert [v.id for v in service.list()] == [good.job_id]
    finally:
        service.close()


def test_a_busy_sqlite_makes_writers_wait_not_fail(tmp_path: Path) -> None:
    service = JobService(make_settings(tmp_path))
    try:
        holder = sqlite3.connect(
            tmp_path / "jobs.db", isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock for a while
        released = threading.Event()

        def release() -> None:
            time.sleep(1.5)
            holder.execute("COMMIT")
            released.set()

        threading.Thread(target=release).start()
        ticket = service.create_upload("a.mp4", "video/mp4")  # must wait, then succeed
        assert released.is_set()
        assert service.get(ticket.job_id).status == "awaiting_upload"
        holder.close()
    finally:
        service.close()
