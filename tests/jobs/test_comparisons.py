"""Comparison jobs through the real job service (SQLite, the SQLite queue, local files).

The documented mock pose backend analyses the clips (the pose does not matter here:
the comparison reuses whatever the analyses wrote); the comparison itself is the real
engine. Issue 9, point 1: a job of its own that never runs the pose model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import inspect, text

from dance_analysis.config import Settings
from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.views import JobView
from dance_analysis.stages import Stage
from tests.conftest import REPO
from tests.jobs.helpers import wait_status
from tests.jobs.services import make_settings
from tests.media import make_clip

ENDED = {"finished", "failed", "canceled"}
COMPARISON_NAMES = {
    "reference", "overall", "mirrored", "time_offset_ms", "tempo_ratio", "alignment",
    "parts", "segments", "formula_version",
}  # fmt: skip


@pytest.fixture(scope="module")
def dance_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four seconds of the squats clip, small: long enough for the DTW's 2 s overlap."""
    return make_clip(tmp_path_factory.mktemp("media") / "dance.mp4", seconds=4.0)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[JobService]:
    # No retried-upload de-duplication: the tests upload the same bytes twice on purpose.
    running = JobService(make_settings(tmp_path, dedupe_window_s=0))
    try:
        yield running
    finally:
        running.close(grace_s=5)


def _analysed(service: JobService, clip: Path, name: str, **kwargs: Any) -> JobView:
    view = service.submit(name, [clip.read_bytes()], **kwargs)
    done = wait_status(service, view.id, ENDED)
    assert done.status == "finished", done
    return done


def _result(service: JobService, view: JobView) -> dict[str, Any]:
    handle = service.open_artifact(view.id, "result")
    assert handle.local_path is not None
    data: dict[str, Any] = json.loads(handle.local_path.read_text(encoding="utf-8"))
    return data


def test_a_comparison_is_a_job_that_reuses_both_analyses(
    service: JobService, dance_clip: Path
) -> None:
    events: list[JobView] = []
    service.subscribe(events.append)
    service.start_consumer(workers=1)
    student = _analysed(service, dance_clip, "student.mp4")
    teacher = _analysed(service, dance_clip, "teacher.mp4")
    student_before = _result(service, student)

    queued = service.compare(student.id, teacher.id)
    assert queued.status == "queued" and queued.kind == "comparison"
    assert queued.source_key == student.source_key  # plays the student's clip
    done = wait_status(service, queued.id, ENDED)
    assert done.status == "finished", done
    assert (done.student_job_id, done.reference_job_id) == (student.id, teacher.id)
    assert {"result", "ghost"} <= set(done.artifacts) <= {"result", "ghost", "practice"}
    ghost = service.open_artifact(done.id, "ghost")
    assert ghost.content_type == "video/mp4" and ghost.size > 0
    assert done.num_frames == student.num_frames and done.attempts == 1

    result = _result(service, done)
    assert set(result["comparison"]) == COMPARISON_NAMES
    schema = json.loads((REPO / "docs" / "result.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(result)
    assert result["comparison"]["overall"] >= 95  # the same clip against itself
    assert result["comparison"]["reference"]["job_id"] == teacher.id
    assert result["comparison"]["reference"]["sha256"] == teacher.sha256
    topics = [item["topic"] for item in result["feedback"]]
    assert "comparison" in topics
    times = [item["time_ms"] for item in result["feedback"]]
    assert times == sorted(times) and all("count" in item for item in result["feedback"])
    assert result["frames"] == student_before["frames"]  # the student's analysis, reused

    # The model never ran for it: no pose stage, and the analyses were not run again.
    stages = {e.stage for e in events if e.id == done.id}
    assert Stage.POSE not in stages and Stage.MEASURE in stages
    for job in (student, teacher):
        again = service.get(job.id)
        assert again.attempts == 1 and again.ended_at == job.ended_at
    assert _result(service, student) == student_before  # the student's own result untouched


def test_deleting_a_comparison_keeps_the_students_clip(
    service: JobService, dance_clip: Path
) -> None:
    service.start_consumer(workers=1)
    student = _analysed(service, dance_clip, "student.mp4")
    teacher = _analysed(service, dance_clip, "teacher.mp4")
    comparison = wait_status(service, service.compare(student.id, teacher.id).id, ENDED)
    assert comparison.status == "finished"
    assert service.source_path(comparison.id) == service.source_path(student.id)

    service.delete(comparison.id)
    assert service.storage.stat(student.source_key) is not None
    assert service.source_path(student.id) is not None
    assert _result(service, student)["frames"]


def test_deleting_the_student_while_the_comparison_waits_fails_it_cleanly(
    tmp_path: Path, service: JobService, dance_clip: Path
) -> None:
    consumer = service.start_consumer(workers=1)
    student = _analysed(service, dance_clip, "student.mp4")
    teacher = _analysed(service, dance_clip, "teacher.mp4")
    consumer.stop(grace_s=5)

    waiting = service.compare(student.id, teacher.id)
    service.delete(student.id)
    assert service.get(waiting.id).status == "queued"
    service.start_consumer(workers=1)
    done = wait_status(service, waiting.id, ENDED)
    assert (done.status, done.reason) == ("failed", "object_missing"), done
    assert done.message and "student" in done.message


def test_comparing_needs_two_finished_analyses(service: JobService, dance_clip: Path) -> None:
    from dance_analysis.errors import InvalidState, JobNotFound

    service.start_consumer(workers=1)
    student = _analysed(service, dance_clip, "student.mp4")
    awaiting = service.create_upload("later.mp4", "video/mp4")
    with pytest.raises(InvalidState):
        service.compare(student.id, awaiting.job_id)
    with pytest.raises(JobNotFound):
        service.compare(student.id, "00000000-0000-4000-8000-000000000000")
    comparison = wait_status(service, service.compare(student.id, student.id).id, ENDED)
    with pytest.raises(InvalidState):  # a comparison is not an analysis to compare
        service.compare(comparison.id, student.id)
    with pytest.raises(InvalidState):  # nor to analyse again, or to recount
        service.reanalyse(comparison.id)
    with pytest.raises(InvalidState):
        service.move_one(comparison.id, shift_beats=1)


def test_a_clip_without_a_dancer_fails_with_cannot_compare(
    service: JobService, dance_clip: Path
) -> None:
    service.start_consumer(workers=1)
    student = _analysed(service, dance_clip, "student.mp4")
    teacher = _analysed(service, dance_clip, "teacher.mp4")
    # The teacher's stored result as a clip where the dancer is never seen.
    empty = _result(service, teacher)
    for frame in empty["frames"]:
        frame["world_landmarks"] = frame["landmarks"] = None
    path = service.open_artifact(teacher.id, "result").local_path
    assert path is not None
    path.write_text(json.dumps(empty), encoding="utf-8")

    done = wait_status(service, service.compare(student.id, teacher.id).id, ENDED)
    assert (done.status, done.reason) == ("failed", "cannot_compare"), done
    assert done.message and "no dancer" in done.message and "teacher" in done.message


def test_a_reference_named_at_upload_queues_the_comparison_when_both_have_finished(
    service: JobService, dance_clip: Path
) -> None:
    # The student is queued before the teacher's clip has even arrived, so the student
    # finishes first and waits; the teacher's end queues the comparison.
    body = dance_clip.read_bytes()
    ticket = service.create_upload("teacher.mp4", "video/mp4", size=len(body))
    student = service.submit("student.mp4", [body], reference_job_id=ticket.job_id)
    assert service.get(student.id).reference_job_id == ticket.job_id
    service.start_consumer(workers=1)
    finished = wait_status(service, student.id, ENDED)
    assert finished.status == "finished" and finished.comparison_job_id is None
    service.receive_upload(ticket.job_id, "teacher.mp4", [body])
    service.confirm(ticket.job_id, ticket.key)
    assert wait_status(service, ticket.job_id, ENDED).status == "finished"

    linked = service.get(student.id)
    assert linked.comparison_job_id is not None
    done = wait_status(service, linked.comparison_job_id, ENDED)
    assert done.status == "finished", done
    assert (done.student_job_id, done.reference_job_id) == (student.id, ticket.job_id)
    assert _result(service, done)["comparison"]["overall"] >= 95


def test_a_teacher_finished_first_queues_it_when_the_student_finishes(
    service: JobService, dance_clip: Path
) -> None:
    service.start_consumer(workers=1)
    teacher = _analysed(service, dance_clip, "teacher.mp4")
    student = _analysed(service, dance_clip, "student.mp4", reference_job_id=teacher.id)
    assert student.comparison_job_id is not None
    done = wait_status(service, student.comparison_job_id, ENDED)
    assert done.status == "finished" and done.reference_job_id == teacher.id


def test_a_teacher_canceled_before_it_ran_fails_the_waiting_comparison(
    service: JobService, dance_clip: Path
) -> None:
    ticket = service.create_upload("teacher.mp4", "video/mp4")
    service.start_consumer(workers=1)
    student = _analysed(service, dance_clip, "student.mp4", reference_job_id=ticket.job_id)
    service.cancel(ticket.job_id)
    comparison_id = service.get(student.id).comparison_job_id
    assert comparison_id is not None
    failed = service.get(comparison_id)
    assert failed.status == "failed" and failed.reason == "invalid_state"
    assert failed.message and "teacher" in failed.message


NEW_COLUMNS = ("kind", "student_job_id", "reference_job_id", "comparison_job_id")


def _reopened_without_the_new_columns(settings: Settings) -> tuple[JobService, str]:
    """A jobs table from before comparisons, with one row in it, opened by a new service."""
    service = JobService(settings)
    ticket = service.create_upload("old.mp4", "video/mp4")
    with service.database.engine.begin() as connection:
        connection.execute(text("DROP INDEX IF EXISTS ix_jobs_reference_job_id"))
        for name in NEW_COLUMNS:
            connection.execute(text(f"ALTER TABLE jobs DROP COLUMN {name}"))
    service.close()
    return JobService(settings), ticket.job_id


def test_a_jobs_table_from_before_comparisons_gets_its_columns(tmp_path: Path) -> None:
    again, job_id = _reopened_without_the_new_columns(make_settings(tmp_path))
    try:
        columns = {c["name"] for c in inspect(again.database.engine).get_columns("jobs")}
        assert {"kind", "student_job_id", "reference_job_id", "comparison_job_id"} <= columns
        old = again.get(job_id)  # a row from before reads as an analysis
        assert old.kind == "analysis" and old.comparison_job_id is None
    finally:
        again.close()


def test_a_postgres_jobs_table_from_before_comparisons_gets_its_columns(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = make_settings(tmp_path, database_url=postgres_url)
    again, job_id = _reopened_without_the_new_columns(settings)
    try:
        columns = {c["name"] for c in inspect(again.database.engine).get_columns("jobs")}
        assert {"kind", "student_job_id", "reference_job_id", "comparison_job_id"} <= columns
        old = again.get(job_id)
        assert old.kind == "analysis" and old.reference_job_id is None
    finally:
        again.delete(job_id)
        again.close()


def test_the_studio_stack_compares_from_s3_with_postgres_and_redis(
    tmp_path: Path, dance_clip: Path, postgres_url: str, redis_url: str, s3_endpoint: str
) -> None:
    from tests.jobs.services import s3_settings

    settings = make_settings(
        tmp_path, database_url=postgres_url, redis_url=redis_url, dedupe_window_s=0,
        **s3_settings(s3_endpoint),
    )  # fmt: skip
    service = JobService(settings)
    consumer = service.start_consumer()
    try:
        teacher = service.submit("teacher.mp4", [dance_clip.read_bytes()])
        student = service.submit(
            "student.mp4", [dance_clip.read_bytes()], reference_job_id=teacher.id
        )
        finished = wait_status(service, student.id, ENDED)
        assert finished.status == "finished", finished
        linked = wait_status(service, teacher.id, ENDED)
        assert linked.status == "finished"
        comparison_id = service.get(student.id).comparison_job_id
        assert comparison_id is not None
        done = wait_status(service, comparison_id, ENDED)
        assert done.status == "finished", done
        handle = service.open_artifact(done.id, "result")
        assert handle.local_path is None and handle.url is not None  # in the bucket
        data = json.loads(b"".join(service.storage.open_range(handle.key, 0, None)))
        assert data["comparison"]["overall"] >= 95
    finally:
        consumer.stop(grace_s=5)
        service.close()
