"""The sweep: make the job table and the world agree again after anything went wrong.

Run at every consumer start-up and then every ``sweep_interval_s`` by each consumer
(several sweepers at once are safe: every change re-checks its row under a lock).

1. ``started`` with an expired lease: its worker died or hung. Back to ``queued`` and
   re-enqueued, or ``failed``/``worker_lost`` once ``max_attempts`` attempts are used
   (``canceled`` if a cancel was asked). A job ended here settles the comparisons
   waiting for it in the same transaction, as a worker's ending does
   (:func:`~dance_analysis.jobs.comparisons.follow_ups`): a student waiting for a
   teacher lost here gets its comparison, failed, saying why.
2. ``queued`` but not in the queue: recorded and then the process died before
   enqueueing, the task was lost with a killed worker, or Redis restarted without
   its data. Enqueued again. A duplicate task is harmless: only one claim succeeds.
3. ``awaiting_upload`` long past its link's expiry: confirmed if the object is there
   and passes the checks, else deleted with the same follow-ups (see
   :meth:`Uploads.reconcile`).
4. A working folder under ``{data_dir}/work`` whose attempt no longer runs under a
   live lease (a killed worker's): removed (see :mod:`dance_analysis.jobs.workdirs`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dance_analysis.config import Settings
from dance_analysis.db import Database, utcnow
from dance_analysis.jobs.comparisons import announce, follow_ups
from dance_analysis.jobs.queue import JobQueue
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import ENDED, JobStatus
from dance_analysis.jobs.transitions import enqueue_job, locked_job, requeue_or_give_up
from dance_analysis.jobs.uploads import Uploads
from dance_analysis.jobs.views import JobView
from dance_analysis.jobs.workdirs import remove_orphans

log = logging.getLogger(__name__)

_FRESH_S = 2.0  # a queued row younger than this is still being enqueued by its creator
_BATCH = 500


def sweep(
    settings: Settings,
    db: Database,
    queue: JobQueue,
    uploads: Uploads,
    publish: Callable[[JobView], None],
) -> int:
    """One pass; returns how many jobs it changed or re-enqueued."""
    changed = _expire_leases(settings, db, queue, publish)
    changed += _ring_again(settings, db, queue)
    changed += uploads.reconcile()
    # After the leases: the folder of an attempt whose lease just expired goes too.
    remove_orphans(settings, db)
    return changed


def _expire_leases(
    settings: Settings, db: Database, queue: JobQueue, publish: Callable[[JobView], None]
) -> int:
    now = utcnow()
    expired = db.read(
        lambda session: list(
            session.scalars(
                select(JobRecord.id)
                .where(JobRecord.status == JobStatus.STARTED, JobRecord.lease_expires_at < now)
                .limit(_BATCH)
            )
        )
    )

    def release(session: Session, job_id: str) -> tuple[JobView, list[JobView]] | None:
        record = locked_job(session, job_id)
        # Re-checked under the lock: a heartbeat may have renewed it meanwhile.
        if record is None or record.status != JobStatus.STARTED:
            return None
        if record.lease_expires_at is None or record.lease_expires_at >= utcnow():
            return None
        log.warning(
            "job %s: worker %s stopped renewing its lease (attempt %d)",
            job_id, record.worker_id, record.attempts,
        )  # fmt: skip
        requeue_or_give_up(record, settings.max_attempts, "its worker stopped responding")
        made: list[JobView] = []
        if record.status in ENDED:  # given up (or canceled): students waiting learn so
            made = [JobView.of(new) for new in follow_ups(session, record, job_id)]
        return JobView.of(record), made

    for job_id in expired:
        released = db.write(lambda session, job_id=job_id: release(session, job_id))  # type: ignore[misc]
        if released is None:
            continue
        view, made = released
        publish(view)
        if view.status == JobStatus.QUEUED:
            enqueue_job(db, queue, job_id)
        announce(db, queue, publish, made)
    return len(expired)


def _ring_again(settings: Settings, db: Database, queue: JobQueue) -> int:
    now = utcnow()
    fresh = now - dt.timedelta(seconds=_FRESH_S)
    stale = now - dt.timedelta(seconds=settings.sweep_interval_s)
    waiting = db.read(
        lambda session: list(
            session.scalars(
                select(JobRecord.id)
                .where(JobRecord.status == JobStatus.QUEUED)
                .where(
                    or_(
                        (JobRecord.enqueued_at.is_(None)) & (JobRecord.updated_at < fresh),
                        JobRecord.enqueued_at < stale,
                    )
                )
                .order_by(JobRecord.created_at)
                .limit(_BATCH)
            )
        )
    )
    if not waiting:
        return 0
    pending = queue.pending_job_ids()
    lost = [job_id for job_id in waiting if job_id not in pending]
    for job_id in lost:
        log.info("job %s is queued but not in the queue; enqueueing it again", job_id)
        enqueue_job(db, queue, job_id)
    return len(lost)
