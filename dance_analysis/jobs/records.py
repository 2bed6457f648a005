"""Job records in SQL: the job table and the sync outbox.

The job row is the truth about a job; the queue only wakes workers. The tables are
declared on the engine's one :class:`~dance_analysis.db.Base`; transactions run
through :class:`~dance_analysis.db.Database`.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, inspect, text
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import Mapped, mapped_column

from dance_analysis.db import Base, Database, UtcDateTime
from dance_analysis.jobs.states import JobStatus
from dance_analysis.stages import Stage


def _as_text(enum: type[Enum]) -> SqlEnum:
    """An enum stored as its values in a VARCHAR(20), as the column always was: no
    database enum type, no constraint, so adding a member needs no migration."""
    return SqlEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class JobRecord(Base):
    """One clip's analysis. ``attempts`` and ``worker_id`` fence every worker write."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[JobStatus] = mapped_column(_as_text(JobStatus), index=True)
    stage: Mapped[Stage | None] = mapped_column(_as_text(Stage))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(120))  # safe_filename of the original
    original_filename: Mapped[str] = mapped_column(Text)  # escaped, for display only
    content_type: Mapped[str] = mapped_column(String(120))
    source_key: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int | None] = mapped_column(Integer)  # declared, then measured
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # declared or measured
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    upload_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    num_frames: Mapped[int | None] = mapped_column(Integer)
    artifacts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    style: Mapped[str | None] = mapped_column(String(40))  # the dance style asked for
    # The music summary of a finished job: {present, tempo_bpm, beats_per_bar, style, counts}.
    music: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where a coach put the "1" (ms on the clip's clock); analysing again keeps it.
    one_ms: Mapped[float | None] = mapped_column(Float)
    # Comparisons (issue 9). ``kind``: "analysis" (None in rows from before) or
    # "comparison": a job that compares two finished analyses and never runs the model.
    kind: Mapped[str | None] = mapped_column(String(20))
    # A comparison: the two analyses it compares. An analysis: the teacher's job to
    # compare it with once it finishes (reference_job_id), and the comparison queued
    # for it then (comparison_job_id).
    student_job_id: Mapped[str | None] = mapped_column(String(36))
    reference_job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    comparison_job_id: Mapped[str | None] = mapped_column(String(36))
    # Everyone in the frame (issue 11): the dancer the user asked for (None: by the
    # rule), and once finished, who was found: {dancer_id, people_seen, ids}.
    dancer_id: Mapped[int | None] = mapped_column(Integer)
    people: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Students (issue 12): whose lesson the clip is, their class, and the paired device
    # that uploaded it (None: the desktop, a script with auth off). ``summary``: once
    # finished, the numbers a student's progress plots (analysis.progress).
    student: Mapped[str | None] = mapped_column(String(80), index=True)
    class_name: Mapped[str | None] = mapped_column(String(80))
    device_id: Mapped[str | None] = mapped_column(String(36), index=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_jobs_status_lease", "status", "lease_expires_at"),)


class OutboxRecord(Base):
    """One file (or one deleted job folder) still to mirror to S3 in desktop sync mode."""

    __tablename__ = "sync_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op: Mapped[str] = mapped_column(String(10))  # "put" | "delete"
    key: Mapped[str] = mapped_column(String(512))  # object key, or a folder prefix for delete
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


# Columns added after the first release: a jobs table made before them gets them at
# start-up (create_all does not alter tables). All nullable: old rows read as "unknown".
_ADDED_JOB_COLUMNS = {
    "style": "VARCHAR(40)",
    "music": "JSON",
    "one_ms": "DOUBLE PRECISION",
    "kind": "VARCHAR(20)",
    "student_job_id": "VARCHAR(36)",
    "reference_job_id": "VARCHAR(36)",
    "comparison_job_id": "VARCHAR(36)",
    "dancer_id": "INTEGER",
    "people": "JSON",
    "student": "VARCHAR(80)",
    "class_name": "VARCHAR(80)",
    "device_id": "VARCHAR(36)",
    "summary": "JSON",
}


def add_job_columns(database: Database) -> None:
    """Give a jobs table from before issues 8, 9, 11 and 12 the columns added since (style,
    music, one_ms; kind, student_job_id, reference_job_id, comparison_job_id; dancer_id,
    people; student, class_name, device_id, summary)."""

    def missing() -> list[str]:
        have = {c["name"] for c in inspect(database.engine).get_columns("jobs")}
        return [name for name in _ADDED_JOB_COLUMNS if name not in have]

    for name in missing():
        try:
            with database.engine.begin() as connection:
                connection.execute(
                    text(f"ALTER TABLE jobs ADD COLUMN {name} {_ADDED_JOB_COLUMNS[name]}")
                )
        except Exception:
            # Another process starting at the same moment may have added it first.
            if name in missing():
                raise
