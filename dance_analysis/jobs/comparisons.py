"""Comparison jobs: a student's finished analysis against a teacher's, as a job of its own.

A comparison job reuses both analyses (their result.json) and never runs the pose
model: the worker runs it on its own thread in moments (:func:`run_comparison`). Its
row names the two jobs (``student_job_id``, ``reference_job_id``) and plays the
student's clip: ``source_key`` is the student's upload, shared, never copied, and
never deleted with the comparison (a job's delete removes only the folders named by
its own id).

An analysis may be queued with a teacher to compare it with (``reference_job_id``).
Whichever of the two finishes last queues the comparison, in the same transaction that
ends it (:func:`follow_ups`), and the student's row records it (``comparison_job_id``):
a crash cannot finish the analysis and lose its comparison. When the teacher's job
fails, is canceled or is deleted first, the comparison is created failed, saying so,
so a client that follows ``comparison_job_id`` always reaches an answer.

Every way a job ends or goes calls :func:`follow_ups` in that same transaction, then
:func:`announce` after commit: the worker's own ending, the sweep (a lease that ran out
with no attempt left, or with a cancel asked), a cancel of a job that had not started,
a delete, and an unconfirmed or refused upload that is discarded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dance_analysis.db import Database, utcnow
from dance_analysis.errors import InvalidState, JobNotFound, ObjectMissing, Reason
from dance_analysis.jobs.queue import JobQueue
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import ENDED, JobStatus
from dance_analysis.jobs.transitions import enqueue_job, locked_job
from dance_analysis.jobs.views import ANALYSIS, COMPARISON, JobView
from dance_analysis.storage.base import Storage


def is_comparison(record: JobRecord) -> bool:
    return record.kind == COMPARISON


def check_comparable(record: JobRecord | None, job_id: str, who: str) -> JobRecord:
    """A finished analysis, or the error a client who asked to compare it should see."""
    if record is None:
        raise JobNotFound(job_id)
    if is_comparison(record):
        raise InvalidState(f"The {who} job {job_id} is a comparison; compare two analyses.")
    if record.status != JobStatus.FINISHED:
        raise InvalidState(
            f"The {who} job is {record.status}; it can be compared once it has finished."
        )
    return record


def check_reference(record: JobRecord | None, job_id: str) -> JobRecord:
    """A teacher's job an analysis may wait for: any analysis that is not gone or failed."""
    if record is None:
        raise JobNotFound(job_id)
    if is_comparison(record):
        raise InvalidState(f"The reference job {job_id} is a comparison; name an analysis.")
    if record.status in ENDED and record.status != JobStatus.FINISHED:
        raise InvalidState(f"The reference job has {record.status}; it cannot be compared.")
    return record


def new_comparison(student: JobRecord, reference_id: str, reference: JobRecord | None) -> JobRecord:
    """A comparison row for ``student`` against ``reference``: queued when the teacher's
    analysis is finished, else already failed with the reason (a client following the
    student's ``comparison_job_id`` then reads why)."""
    now = utcnow()
    record = JobRecord(
        id=str(uuid.uuid4()),
        status=JobStatus.QUEUED,
        progress=0,
        filename=student.filename,
        original_filename=student.original_filename,
        content_type=student.content_type,
        source_key=student.source_key,  # the student's clip, played, never copied
        size_bytes=student.size_bytes,
        sha256=student.sha256,
        attempts=0,
        cancel_requested=False,
        created_at=now,
        updated_at=now,
        artifacts={},
        style=student.style,
        student=student.student,  # a comparison is one of the student's lessons
        class_name=student.class_name,
        device_id=student.device_id,
        kind=COMPARISON,
        student_job_id=student.id,
        reference_job_id=reference_id,
    )
    why = _cannot_start(reference)
    if why is not None:
        record.status = JobStatus.FAILED
        record.reason, record.message = why
        record.ended_at = now
    return record


def _cannot_start(reference: JobRecord | None) -> tuple[str, str] | None:
    if reference is None:
        return Reason.OBJECT_MISSING.value, "The teacher's job was deleted before the comparison."
    if reference.status != JobStatus.FINISHED:
        return (
            Reason.INVALID_STATE.value,
            f"The teacher's clip could not be analysed (its job {reference.status}).",
        )
    return None


def follow_ups(session: Session, ended: JobRecord | None, ended_id: str) -> list[JobRecord]:
    """Comparisons that the end (or deletion: ``ended`` None) of ``ended_id`` decides.

    - a student that finished with a teacher named, whose teacher has ended (or is gone);
    - finished students that waited for this teacher.

    Called inside the transaction that ends (or deletes) the job; returns the new rows,
    added to the session (the caller enqueues the queued ones after commit).
    """
    made: list[JobRecord] = []
    if ended is not None and is_comparison(ended):
        return made
    if (
        ended is not None
        and ended.status == JobStatus.FINISHED
        and ended.reference_job_id is not None
        and ended.comparison_job_id is None
    ):
        # Locked: a teacher finishing at this moment commits first, then is read here.
        reference = locked_job(session, ended.reference_job_id)
        if reference is None or reference.status in ENDED:
            made.append(_attach(session, ended, ended.reference_job_id, reference))
    if ended is None or ended.status in ENDED:
        waiting = session.scalars(
            select(JobRecord.id).where(
                JobRecord.reference_job_id == ended_id,
                JobRecord.status == JobStatus.FINISHED,
                JobRecord.comparison_job_id.is_(None),
                JobRecord.id != ended_id,
            )
        ).all()
        for student_id in waiting:
            student = locked_job(session, student_id)
            if student is None or student.comparison_job_id is not None or is_comparison(student):
                continue
            made.append(_attach(session, student, ended_id, ended))
    return made


def announce(
    db: Database, queue: JobQueue, publish: Callable[[JobView], None], made: Iterable[JobView]
) -> None:
    """After the commit that made them: tell subscribers of the comparisons a job's end
    (or deletion) made, and queue those that can run (the others were made failed)."""
    for view in made:
        publish(view)
        if view.status == JobStatus.QUEUED:
            enqueue_job(db, queue, view.id)


def _attach(
    session: Session, student: JobRecord, reference_id: str, reference: JobRecord | None
) -> JobRecord:
    record = new_comparison(student, reference_id, reference)
    session.add(record)
    student.comparison_job_id = record.id
    student.updated_at = utcnow()
    return record


# --- running one -----------------------------------------------------------------------


@dataclass(frozen=True)
class Compared:
    artifacts: dict[str, Path]  # artifact name → file to publish
    num_frames: int | None
    music: dict[str, Any] | None  # the student's music summary
    summary: dict[str, Any] | None = None  # the lesson's numbers with the overall score


@dataclass(frozen=True)
class Analysed:
    """What a comparison needs of one finished analysis, read under the database."""

    job_id: str
    result_key: str
    source_key: str
    filename: str
    num_frames: int | None
    music: dict[str, Any] | None


def inputs(session: Session, view: JobView) -> tuple[Analysed, Analysed]:
    """The comparison's two analyses, finished; else ObjectMissing/InvalidState."""
    pair = []
    for who, job_id in (("student's", view.student_job_id), ("teacher's", view.reference_job_id)):
        record = None if job_id is None else session.get(JobRecord, job_id)
        if record is None:
            raise ObjectMissing(f"The {who} job was deleted; there is nothing to compare.")
        key = (record.artifacts or {}).get("result")
        if record.status != JobStatus.FINISHED or key is None:
            raise InvalidState(f"The {who} job is {record.status}; it has no result to compare.")
        music = dict(record.music) if record.music else None
        pair.append(
            Analysed(record.id, key, record.source_key, record.filename, record.num_frames, music)
        )
    return pair[0], pair[1]


def read_result(storage: Storage, key: str, whose: str) -> dict[str, Any]:
    if storage.stat(key) is None:
        raise ObjectMissing(f"The {whose} result.json is missing from storage.")
    try:
        data: dict[str, Any] = json.loads(b"".join(storage.open_range(key, 0, None)))
    except FileNotFoundError:  # deleted between stat and read
        raise ObjectMissing(f"The {whose} result.json is missing from storage.") from None
    return data


def local_clip(storage: Storage, key: str, workdir: Path, name: str) -> Path | None:
    """A clip as a file here (the local store's own, or fetched from S3), or None if gone."""
    path = storage.local_path(key)
    if path is not None:
        return path if path.is_file() else None
    target = workdir / name
    try:
        storage.fetch(key, target)
    except ObjectMissing:
        return None
    return target


def run_comparison(
    storage: Storage,
    student: Analysed,
    teacher: Analysed,
    workdir: Path,
    *,
    fetch_clips: bool = False,
    progress: Callable[[float], None] | None = None,
) -> Compared:
    """Compare two finished analyses into ``workdir/out``: no child process, no model.

    ``fetch_clips``: bring both clips here too (for the comparison's videos).
    ``progress``: the share of the videos written, after every picture; what it raises
    (the worker's stop) goes through, and the videos written so far are removed.
    Raises CannotCompare (no dancer), ObjectMissing (a result or clip is gone).
    """
    from dance_analysis.comparing import write_comparison

    student_result = read_result(storage, student.result_key, "student's")
    teacher_result = read_result(storage, teacher.result_key, "teacher's")
    student_clip = teacher_clip = None
    if fetch_clips:
        student_clip = local_clip(storage, student.source_key, workdir, "student" + _ext(student))
        teacher_clip = local_clip(storage, teacher.source_key, workdir, "teacher" + _ext(teacher))
        if student_clip is None or teacher_clip is None:
            raise ObjectMissing("A clip of the comparison is gone from storage.")
    artifacts = write_comparison(
        student_result,
        teacher_result,
        workdir / "out",
        teacher_job_id=teacher.job_id,
        student_clip=student_clip,
        teacher_clip=teacher_clip,
        progress=progress,
    )
    from dance_analysis.analysis.progress import lesson_summary

    compared = json.loads(artifacts["result"].read_text(encoding="utf-8"))
    return Compared(
        artifacts=artifacts,
        num_frames=student.num_frames,
        music=student.music,
        summary=lesson_summary(compared),
    )


def _ext(analysed: Analysed) -> str:
    return Path(analysed.filename).suffix


__all__ = [
    "ANALYSIS", "COMPARISON", "Analysed", "Compared", "announce", "check_comparable",
    "check_reference", "follow_ups", "inputs", "new_comparison", "run_comparison",
]  # fmt: skip
