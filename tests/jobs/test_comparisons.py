"""Comparison jobs through the real job service (SQLite, the SQLite queue, local files).

The documented mock pose backend analyses the clips (the pose does not matter here:
the comparison reuses whatever the analyses wrote); the comparison itself is the real
engine. Issue 9, point 1: a job of its own that never runs the pose model.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import inspect, text

from dance_analysis.artifacts import ARTIFACT_NAMES
from dance_analysis.config import Settings
from dance_analysis.db import utcnow
from dance_analysis.errors import InvalidState, JobNotFound
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.views import JobView
from dance_analysis.jobs.workdirs import work_dirs_root
from dance_analysis.stages import Stage
from dance_analysis.storage.keys import result_key
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


def _analysed_pair(service: JobService, clip: Path) -> tuple[JobView, JobView]:
    """A consumer started, then the clip analysed twice: (student, teacher)."""
    service.start_consumer(workers=1)
    return _analysed(service, clip, "student.mp4"), _analysed(service, clip, "teacher.mp4")


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
    student, teacher = _analysed_pair(service, dance_clip)
    student_before = _result(service, student)

    queued = service.compare(student.id, teacher.id)
    assert queued.status == "queued" and queued.kind == "comparison"
    assert queued.source_key == student.source_key  # plays the student's clip
    done = wait_status(service, queued.id, ENDED)
    assert done.status == "finished", done
    assert (done.student_job_id, done.reference_job_id) == (student.id, teacher.id)
    made = {"result", "ghost", "analysis", "report", "kva"}
    assert made <= set(done.artifacts) <= made | {"practice"}
    ghost = service.open_artifact(done.id, "ghost")
    assert ghost.content_type == "video/mp4" and ghost.size > 0
    for name in done.artifacts:  # by file name too, as for an analysis's overlay.mp4
        by_file = service.open_artifact(done.id, ARTIFACT_NAMES[name])
        assert (by_file.name, by_file.key) == (name, done.artifacts[name])
    assert service.open_artifact(done.id, "ghost.mp4").content_type == "video/mp4"
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
    # Its videos are the work: the write stage, between comparing and publishing, and
    # the progress a phone polls only ever goes up.
    running = [(e.stage, e.progress) for e in events if e.id == done.id and e.status == "started"]
    assert [p for _, p in running] == sorted(p for _, p in running)
    order = list(dict.fromkeys(stage for stage, _ in running))
    assert order == [Stage.FETCH, Stage.MEASURE, Stage.WRITE, Stage.PUBLISH], running
    measured = max(p for stage, p in running if stage == Stage.MEASURE)
    published = max(p for stage, p in running if stage == Stage.PUBLISH)
    assert measured < min(p for stage, p in running if stage == Stage.WRITE) < published < 100
    for job in (student, teacher):
        again = service.get(job.id)
        assert again.attempts == 1 and again.ended_at == job.ended_at
    assert _result(service, student) == student_before  # the student's own result untouched


def test_deleting_a_comparison_keeps_the_students_clip(
    service: JobService, dance_clip: Path
) -> None:
    student, teacher = _analysed_pair(service, dance_clip)
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
    student, teacher = _analysed_pair(service, dance_clip)
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


# --- stopping a comparison in its videos (issue 9: time limit and cancel) -------------


def _at_first_picture(service: JobService, act: Callable[[str], None]) -> list[JobView]:
    """Record the service's events; at a comparison's first write-stage event, call
    ``act(job_id)`` right there.

    That event is sent from the videos' progress callback, inside the encoding on the
    worker's thread, so whatever ``act`` does is in place before the next picture is
    checked: the moment is fixed without a sleep.
    """
    events: list[JobView] = []

    def on_event(view: JobView) -> None:
        first = view.stage == Stage.WRITE and not any(e.stage == Stage.WRITE for e in events)
        events.append(view)
        if view.is_comparison and view.status == "started" and first:
            act(view.id)

    service.subscribe(on_event)
    return events


def _assert_stopped_in_its_videos(
    service: JobService, done: JobView, events: list[JobView]
) -> None:
    stages = [e.stage for e in events if e.id == done.id]
    assert Stage.WRITE in stages and Stage.PUBLISH not in stages  # stopped before publishing
    assert done.artifacts == {}
    for name in ("ghost.mp4", "practice.mp4", "result.json"):
        assert service.storage.stat(result_key(done.id, name)) is None
    with pytest.raises(InvalidState):
        service.open_artifact(done.id, "ghost")
    work = work_dirs_root(service.settings)  # no part-written video left behind
    assert not work.exists() or not any(work.iterdir())


def test_a_cancel_while_its_videos_are_encoded_stops_the_comparison(
    service: JobService, dance_clip: Path
) -> None:
    student, teacher = _analysed_pair(service, dance_clip)
    asked: list[JobView] = []
    events = _at_first_picture(service, lambda job_id: asked.append(service.cancel(job_id)))

    done = wait_status(service, service.compare(student.id, teacher.id).id, ENDED)
    assert (done.status, done.reason) == ("canceled", "canceled"), done
    assert done.message == "The comparison was canceled."  # not "The analysis …"
    assert [view.status for view in asked] == ["started"]  # flagged while encoding
    _assert_stopped_in_its_videos(service, done, events)


def test_the_job_time_limit_stops_a_comparison_in_its_videos(
    service: JobService, dance_clip: Path
) -> None:
    student, teacher = _analysed_pair(service, dance_clip)

    def run_out_of_time(job_id: str) -> None:
        # The limit is read at every check (as for an analysis): lowered at the first
        # picture, it has passed by the next check.
        service.settings.job_time_limit_s = 1e-6

    events = _at_first_picture(service, run_out_of_time)
    done = wait_status(service, service.compare(student.id, teacher.id).id, ENDED)
    assert (done.status, done.reason) == ("failed", "timeout"), done
    assert done.message == "The comparison took longer than the limit of 1e-06 s."
    _assert_stopped_in_its_videos(service, done, events)


def test_the_comparisons_videos_report_progress_and_leave_nothing_when_stopped(
    tmp_path: Path, service: JobService, dance_clip: Path
) -> None:
    """The engine's side: the share written, after every picture, and a stop raised
    from it removes every file of the comparison, a finished ghost.mp4 included."""
    from dance_analysis.comparing import write_comparison

    student, teacher = _analysed_pair(service, dance_clip)
    student_result, teacher_result = _result(service, student), _result(service, teacher)
    student_clip, teacher_clip = service.source_path(student.id), service.source_path(teacher.id)
    assert student_clip is not None and teacher_clip is not None

    def compare_into(out_dir: Path, progress: Callable[[float], None]) -> dict[str, Path]:
        return write_comparison(
            student_result, teacher_result, out_dir, student_clip=student_clip,
            teacher_clip=teacher_clip, progress=progress,
        )  # fmt: skip

    shares: list[float] = []
    written = compare_into(tmp_path / "whole", shares.append)
    assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)
    assert len(shares) > len(student_result["frames"])  # one report per picture at least

    class Stop(Exception):
        pass

    past = 0.5 if "practice" in written else 0.25  # in practice.mp4, once ghost.mp4 is done

    def stop(share: float) -> None:
        if share > past:
            raise Stop

    stopped = tmp_path / "stopped"
    with pytest.raises(Stop):
        compare_into(stopped, stop)
    assert list(stopped.iterdir()) == []


# --- a teacher that ends outside the worker -----------------------------------------------


def _age(service: JobService, job_id: str, **fields: object) -> None:
    def update(session: Any) -> None:
        record = session.get(JobRecord, job_id)
        for name, value in fields.items():
            setattr(record, name, value)

    service.database.write(update)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_teachers_the_sweep_gives_up_or_discards_fail_the_waiting_comparisons(
    tmp_path: Path, tiny_clip: Path, database: str, request: pytest.FixtureRequest
) -> None:
    overrides: dict[str, Any] = {"max_attempts": 1, "upload_reconcile_after_s": 0}
    if database == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    service = JobService(make_settings(tmp_path, dedupe_window_s=0, **overrides))
    try:
        lost = service.create_upload("lost.mp4", "video/mp4")  # its worker will die
        unsent = service.create_upload("unsent.mp4", "video/mp4")  # its clip never comes
        consumer = service.start_consumer(workers=1)
        students = {
            teacher.job_id: _analysed(
                service, tiny_clip, f"student-{k}.mp4", reference_job_id=teacher.job_id
            )
            for k, teacher in enumerate((lost, unsent))
        }
        consumer.stop(grace_s=5)
        assert all(s.comparison_job_id is None for s in students.values())  # they wait

        service.receive_upload(lost.job_id, "lost.mp4", [tiny_clip.read_bytes()])
        service.confirm(lost.job_id, lost.key)
        past = utcnow() - dt.timedelta(seconds=10)
        # Its only attempt's worker died (the lease ran out); the other link expired.
        _age(service, lost.job_id, status="started", attempts=1, worker_id="gone",
             lease_expires_at=past)  # fmt: skip
        _age(service, unsent.job_id, upload_expires_at=past)
        events: list[JobView] = []
        service.subscribe(events.append)
        service.recover()

        assert (service.get(lost.job_id).status, service.get(lost.job_id).reason) == (
            "failed", "worker_lost",
        )  # fmt: skip
        with pytest.raises(JobNotFound):
            service.get(unsent.job_id)
        for teacher, reason in ((lost, "invalid_state"), (unsent, "object_missing")):
            comparison_id = service.get(students[teacher.job_id].id).comparison_job_id
            assert comparison_id is not None, teacher
            comparison = service.get(comparison_id)
            assert (comparison.status, comparison.reason) == ("failed", reason)
            assert comparison.reference_job_id == teacher.job_id
            assert comparison.message and "teacher" in comparison.message
            assert comparison_id in {e.id for e in events}  # told, as a worker's end tells
    finally:
        service.close()


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
