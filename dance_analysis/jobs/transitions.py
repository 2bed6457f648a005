"""Every change of a job's state, in one place: the rules of the job row.

The job row is the truth about a job, so how it may move between states is written
down once, here, and every caller (uploads, the worker, the sweep, the service)
goes through these functions:

    awaiting_upload → queued            accept_upload: its object was verified
    queued → started                    claim: a worker, a lease, one more attempt
    started → finished | failed         finish, fail
    started → queued                    requeue_or_give_up: the attempt was lost (or
                                        failed/worker_lost once out of attempts);
                                        interrupt: a clean stop, not counted
    awaiting_upload | queued → canceled cancel (a started job is flagged; its worker
                                        ends it with end_canceled)

The functions change a record the caller has locked (:func:`locked_job`) inside its
own transaction, so a transition and whatever else that transaction writes (the
sync outbox, a measured size) commit together. Only :func:`enqueue_job` runs its own
transactions, because it rings the queue between them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from dance_analysis.db import Database, utcnow
from dance_analysis.errors import InvalidState, Reason
from dance_analysis.jobs.queue import JobQueue
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import JobStatus
from dance_analysis.jobs.views import COMPARISON
from dance_analysis.stages import Stage

log = logging.getLogger(__name__)

CANCELED_REASON = Reason.CANCELED.value
CANCELED_MESSAGE = "The analysis was canceled."
CANCELED_COMPARISON_MESSAGE = "The comparison was canceled."


def locked_job(session: Session, job_id: str) -> JobRecord | None:
    """The row, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    return session.get(JobRecord, job_id, with_for_update=True, populate_existing=True)


def enqueue_job(db: Database, queue: JobQueue, job_id: str) -> bool:
    """Ring the queue for a queued job and note when. A failure is left to the sweep."""
    try:
        queue.enqueue(job_id)
    except Exception:
        log.warning("could not enqueue job %s; the sweep will retry", job_id, exc_info=True)
        return False

    def mark(session: Session) -> None:
        record = locked_job(session, job_id)
        if record is not None and record.status == JobStatus.QUEUED:
            record.enqueued_at = utcnow()

    db.write(mark)
    return True


# --- an upload becomes a job ---------------------------------------------------------


def accept_upload(record: JobRecord, size: int, sha256: str | None) -> bool:
    """``awaiting_upload`` → ``queued`` with the verified object's facts.

    False when the upload was accepted before (a concurrent or repeated confirm).
    """
    if record.status != JobStatus.AWAITING_UPLOAD:
        return False
    record.status = JobStatus.QUEUED
    record.size_bytes = size
    record.sha256 = sha256 or record.sha256
    record.upload_expires_at = None
    record.updated_at = utcnow()
    return True


# --- a worker's attempt ----------------------------------------------------------------


def holds(record: JobRecord, worker_id: str, attempt: int) -> bool:
    """Whether ``worker_id`` still runs this job's ``attempt``: the fence on worker writes."""
    return (
        record.status == JobStatus.STARTED
        and record.worker_id == worker_id
        and record.attempts == attempt
    )


def claim(record: JobRecord, worker_id: str, lease_s: float) -> bool:
    """``queued`` → ``started`` by ``worker_id``, with a lease; the attempt counts."""
    if record.status != JobStatus.QUEUED:
        return False
    now = utcnow()
    record.status = JobStatus.STARTED
    record.attempts += 1
    record.worker_id = worker_id
    record.lease_expires_at = now + dt.timedelta(seconds=lease_s)
    record.started_at = record.started_at or now
    record.updated_at = now
    record.stage = Stage.FETCH
    record.progress = 0
    record.reason = record.message = None
    return True


def finish(
    record: JobRecord,
    artifacts: dict[str, str],
    num_frames: int | None,
    music: dict[str, Any] | None = None,
    people: dict[str, Any] | None = None,
    *,
    summary: dict[str, Any] | None = None,
) -> None:
    """``started`` → ``finished`` with the published artifacts (and the music and people
    summaries, and the lesson's numbers a student's progress plots)."""
    _end(record, JobStatus.FINISHED, None, None)
    record.artifacts = dict(artifacts)
    record.num_frames = num_frames
    record.music = music
    record.summary = summary
    if people is not None:  # a comparison keeps what its row was given
        record.people = people


def fail(record: JobRecord, reason: str | None, message: str | None) -> None:
    """→ ``failed``, saying why."""
    _end(record, JobStatus.FAILED, reason, message)


def end_canceled(record: JobRecord) -> None:
    """→ ``canceled`` (a queued job at once, a running one once its worker stopped)."""
    message = CANCELED_COMPARISON_MESSAGE if record.kind == COMPARISON else CANCELED_MESSAGE
    _end(record, JobStatus.CANCELED, CANCELED_REASON, message)


def requeue_or_give_up(record: JobRecord, max_attempts: int, why: str) -> None:
    """A lost attempt: queue it again, or fail it as worker_lost when out of attempts
    (the lost worker's id stays on the failed job, to say which one it was)."""
    record.lease_expires_at = None
    record.updated_at = utcnow()
    if record.cancel_requested:
        end_canceled(record)
    elif record.attempts >= max_attempts:
        fail(
            record,
            Reason.WORKER_LOST.value,
            f"The analysis stopped unexpectedly {record.attempts} times (last: {why}).",
        )
    else:
        _back_to_queue(record)


def interrupt(record: JobRecord) -> None:
    """A clean shutdown stopped the attempt: ``queued`` again, and the attempt does not
    count toward ``worker_lost``."""
    record.attempts -= 1
    _back_to_queue(record)


# --- a client's request ----------------------------------------------------------------


def cancel(record: JobRecord) -> None:
    """Cancel as a client asks: a job that has not started ends at once; a running one is
    flagged, and its worker stops it within moments; an ended one cannot be canceled."""
    if record.status in (JobStatus.AWAITING_UPLOAD, JobStatus.QUEUED):
        end_canceled(record)
    elif record.status == JobStatus.STARTED:
        record.cancel_requested = True
        record.updated_at = utcnow()
    elif record.status != JobStatus.CANCELED:
        raise InvalidState(f"The job has already {record.status}; it cannot be canceled.")


# --- shared ----------------------------------------------------------------------------


def _back_to_queue(record: JobRecord) -> None:
    record.status = JobStatus.QUEUED
    record.worker_id = None
    record.lease_expires_at = None
    record.stage = None
    record.progress = 0
    record.enqueued_at = None  # the sweep rings again if the caller cannot
    record.updated_at = utcnow()


def _end(record: JobRecord, status: JobStatus, reason: str | None, message: str | None) -> None:
    now = utcnow()
    record.status = status
    record.reason = reason
    record.message = message
    record.ended_at = now
    record.updated_at = now
    # worker_id stays: who ran the last attempt (the jobs page shows it). ``holds``
    # checks the status first, so an ended job fences every worker all the same.
    record.lease_expires_at = None
    record.stage = None
    if status == JobStatus.FINISHED:
        record.progress = 100
