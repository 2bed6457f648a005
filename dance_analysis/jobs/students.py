"""Students and their progress: whose lesson a clip is, and their lessons over time.

A clip's job names its student and class (``JobRecord.student``, ``class_name``), set
when it is uploaded or later by a coach. There is no table of students: a student is
the name their clips carry, matched without regard to case or repeated spaces, so
"anna  lee" and "Anna Lee" are one person, shown as their newest clip spells it.

A lesson is one finished analysis of the student's clip; its numbers come from the
summary its job kept at finish (:mod:`dance_analysis.analysis.progress`), and its
overall score from the newest finished comparison of that analysis with a teacher.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dance_analysis.errors import InvalidRequest
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import JobStatus
from dance_analysis.jobs.views import COMPARISON

MAX_NAME_CHARS = 80


def check_name(name: str | None, what: str = "student") -> str | None:
    """A student's or class's name from a client: trimmed, inner spaces collapsed.

    None or blank: no name. Raises InvalidRequest (``invalid_request``) for what is not
    text, longer than :data:`MAX_NAME_CHARS`, or holds control or formatting characters.
    """
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidRequest(f"The {what}'s name must be text.")
    cleaned = " ".join(name.split())
    if not cleaned:
        return None
    if len(cleaned) > MAX_NAME_CHARS:
        raise InvalidRequest(
            f"The {what}'s name is {len(cleaned)} characters long; at most "
            f"{MAX_NAME_CHARS} are allowed."
        )
    if any(unicodedata.category(char).startswith("C") for char in cleaned):
        raise InvalidRequest(
            f"The {what}'s name holds a control or invisible character; type it again."
        )
    return cleaned


def name_key(name: str) -> str:
    """Two spellings of one student's name give the same key."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Student:
    """One student as the library lists them."""

    name: str  # as their newest clip spells it
    class_name: str | None  # their newest clip's class
    clips: int  # every clip of theirs (analyses, not comparisons)
    lessons: int  # finished analyses
    last_lesson_at: dt.datetime | None  # the newest finished analysis's upload time


@dataclass(frozen=True)
class Lesson:
    """One point on a student's progress plots."""

    job_id: str
    created_at: dt.datetime  # when the clip came in: the lesson's date
    filename: str
    class_name: str | None
    overall_score: float | None  # the newest finished comparison's, 0–100
    comparison_job_id: str | None  # that comparison
    timing_offset_ms: float | None  # mean offset to the beat (negative: ahead)
    tempo_bpm: float | None
    coverage: float | None
    angles: dict[str, dict[str, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Whose:
    """Whose lesson an upload is: the student and class a client named (None: not
    named, so an earlier name stays) and the paired device that sent it."""

    student: str | None = None
    class_name: str | None = None
    device_id: str | None = None

    def checked(self) -> Whose:
        """The names trimmed, or InvalidRequest saying what is wrong with them."""
        return Whose(check_name(self.student), check_name(self.class_name, "class"), self.device_id)

    def apply(self, record: JobRecord) -> None:
        if self.student is not None:
            record.student = self.student
        if self.class_name is not None:
            record.class_name = self.class_name
        if self.device_id is not None and record.device_id is None:
            record.device_id = self.device_id  # who first sent it keeps it in their history


UNNAMED = Whose()


def _is_analysis(record: JobRecord) -> bool:
    return record.kind != COMPARISON


def list_students(session: Session) -> list[Student]:
    """Every student with at least one clip, by name."""
    records = session.scalars(
        select(JobRecord)
        .where(JobRecord.student.is_not(None))
        .where(JobRecord.status != JobStatus.AWAITING_UPLOAD)
        .order_by(JobRecord.created_at)
    )
    groups: dict[str, list[JobRecord]] = {}
    for record in records:
        if _is_analysis(record) and record.student:
            groups.setdefault(name_key(record.student), []).append(record)
    students = [_student(clips) for clips in groups.values()]
    return sorted(students, key=lambda student: name_key(student.name))


def _student(clips: list[JobRecord]) -> Student:
    newest = clips[-1]
    finished = [record for record in clips if record.status == JobStatus.FINISHED]
    class_name = next((r.class_name for r in reversed(clips) if r.class_name), None)
    return Student(
        name=newest.student or "",
        class_name=class_name,
        clips=len(clips),
        lessons=len(finished),
        last_lesson_at=finished[-1].created_at if finished else None,
    )


def student_progress(session: Session, name: str) -> list[Lesson]:
    """The student's finished analyses in time order, each with its numbers; [] when
    nobody has that name."""
    key = name_key(name)
    # Matched here, not by SQL's lower(), which SQLite applies to ASCII letters only.
    rows = session.scalars(
        select(JobRecord)
        .where(JobRecord.student.is_not(None))
        .order_by(JobRecord.created_at, JobRecord.id)
    )
    records = [r for r in rows if r.student and name_key(r.student) == key]
    analyses = [r for r in records if _is_analysis(r) and r.status == JobStatus.FINISHED]
    scores = _newest_scores(session, [r.id for r in analyses])
    return [_lesson(record, scores.get(record.id)) for record in analyses]


def _newest_scores(session: Session, job_ids: Iterable[str]) -> dict[str, JobRecord]:
    """Analysis id → its newest finished comparison that has an overall score."""
    ids = list(job_ids)
    if not ids:
        return {}
    comparisons = session.scalars(
        select(JobRecord)
        .where(JobRecord.kind == COMPARISON, JobRecord.status == JobStatus.FINISHED)
        .where(JobRecord.student_job_id.in_(ids))
        .order_by(JobRecord.created_at)
    )
    newest: dict[str, JobRecord] = {}
    for comparison in comparisons:
        if comparison.student_job_id and _score(comparison) is not None:
            newest[comparison.student_job_id] = comparison
    return newest


def _score(record: JobRecord) -> float | None:
    value = (record.summary or {}).get("overall_score")
    return float(value) if isinstance(value, int | float) else None


def _lesson(record: JobRecord, comparison: JobRecord | None) -> Lesson:
    summary: dict[str, Any] = dict(record.summary or {})
    return Lesson(
        job_id=record.id,
        created_at=record.created_at,
        filename=record.filename,
        class_name=record.class_name,
        overall_score=None if comparison is None else _score(comparison),
        comparison_job_id=None if comparison is None else comparison.id,
        timing_offset_ms=summary.get("timing_offset_ms"),
        tempo_bpm=summary.get("tempo_bpm"),
        coverage=summary.get("coverage"),
        angles=dict(summary.get("angles") or {}),
    )
