"""Students and their progress through the real job service (issue 12, point 3).

SQLite, the SQLite queue, local files and the documented mock pose backend; the
music tracker, the timing and the comparison are the real engine. One module-wide
service analyses four clips once (the slow part), then each test reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dance_analysis.errors import InvalidRequest, InvalidState, JobNotFound
from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.students import MAX_NAME_CHARS, Whose, check_name
from dance_analysis.jobs.views import JobView
from tests.jobs.helpers import put_local, wait_status
from tests.jobs.services import make_settings

ENDED = {"finished", "failed", "canceled"}


@dataclass
class Lessons:
    service: JobService
    first: JobView  # Anna's first lesson, compared with the teacher
    second: JobView  # Anna's second lesson, named at confirm (another spelling)
    teacher: JobView  # nobody's, then named "Coach Kim" afterwards
    comparison: JobView


@pytest.fixture(scope="module")
def groove(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four seconds of the squats clip over a 124 BPM drum groove: music, so timing."""
    from tests.music.synth import groove_clip

    return groove_clip(tmp_path_factory.mktemp("students-media"), seconds=4.0)


@pytest.fixture(scope="module")
def lessons(tmp_path_factory: pytest.TempPathFactory, groove: Path) -> Iterator[Lessons]:
    folder = tmp_path_factory.mktemp("students")
    service = JobService(make_settings(folder, dedupe_window_s=0))
    try:
        service.start_consumer(workers=1)
        body = groove.read_bytes()
        first = service.submit(
            "monday.mp4", [body], whose=Whose("Anna Lee", "Tuesday juniors", "device-1")
        )
        ticket = service.create_upload("thursday.mp4", "video/mp4", whose=Whose("ignored"))
        put_local(service, ticket, body)
        second = service.confirm(ticket.job_id, ticket.key, whose=Whose("  anna   LEE "))
        teacher = service.submit("teacher.mp4", [body])
        first, second, teacher = (
            wait_status(service, view.id, ENDED) for view in (first, second, teacher)
        )
        assert {first.status, second.status, teacher.status} == {"finished"}
        comparison = wait_status(service, service.compare(first.id, teacher.id).id, ENDED)
        assert comparison.status == "finished", comparison
        yield Lessons(service, first, second, teacher, comparison)
    finally:
        service.close(grace_s=5)


def _result(service: JobService, view: JobView) -> dict[str, Any]:
    handle = service.open_artifact(view.id, "result")
    assert handle.local_path is not None
    data: dict[str, Any] = json.loads(handle.local_path.read_text(encoding="utf-8"))
    return data


def test_names_are_trimmed_capped_and_refused_with_a_reason() -> None:
    assert check_name("  Anna \t Lee ") == "Anna Lee"
    assert check_name("") is None and check_name("   ") is None and check_name(None) is None
    assert check_name("x" * MAX_NAME_CHARS) == "x" * MAX_NAME_CHARS
    for bad, words in (
        ("x" * (MAX_NAME_CHARS + 1), "at most 80"),
        ("Anna\x00Lee", "control"),
        ("Anna\u202eLee", "control"),  # a bidi override would reverse what a coach reads
    ):
        with pytest.raises(InvalidRequest, match=words) as caught:
            check_name(bad)
        assert caught.value.reason.value == "invalid_request"


def test_the_student_is_set_at_upload_and_confirm(lessons: Lessons) -> None:
    first, second = lessons.first, lessons.second
    assert (first.student, first.class_name, first.device_id) == (
        "Anna Lee", "Tuesday juniors", "device-1",
    )  # fmt: skip
    # Named at confirm: replaces the name given with the link; the class stays unset.
    assert (second.student, second.class_name, second.device_id) == ("anna LEE", None, None)
    # The comparison is the student's lesson too, and the phone that sent it sees it.
    comparison = lessons.comparison
    assert (comparison.student, comparison.class_name) == ("Anna Lee", "Tuesday juniors")
    assert comparison.device_id == "device-1"


def test_each_finished_job_keeps_its_lessons_numbers(lessons: Lessons) -> None:
    service, first = lessons.service, lessons.first
    result = _result(service, first)
    summary = first.summary
    assert summary is not None
    # The mock dancer lands no accents, so no offset here (numbers: tests/analysis).
    assert summary["timing_offset_ms"] == result["timing"]["mean_offset_ms"]
    assert result["music"]["present"] and summary["tempo_bpm"] == pytest.approx(124, abs=3)
    knee = result["angles"]["summary"]["left_knee"]
    assert summary["angles"]["left_knee"]["range"] == pytest.approx(knee["range"], abs=0.01)
    assert summary["coverage"] == pytest.approx(result["coverage"], abs=0.01)
    assert summary["overall_score"] is None  # an analysis has no score of its own
    compared = _result(service, lessons.comparison)
    assert lessons.comparison.summary is not None
    score = lessons.comparison.summary["overall_score"]
    assert score == pytest.approx(compared["comparison"]["overall"], abs=0.01)


def test_students_and_their_progress(lessons: Lessons) -> None:
    service = lessons.service
    assert service.students() == service.students()  # a read, nothing changes
    (anna,) = service.students()
    assert anna.name == "anna LEE"  # as the newest clip spells it
    assert (anna.class_name, anna.clips, anna.lessons) == ("Tuesday juniors", 2, 2)
    assert anna.last_lesson_at == lessons.second.created_at

    progress = service.progress("Anna Lee")
    assert [lesson.job_id for lesson in progress] == [lessons.first.id, lessons.second.id]
    first, second = progress
    compared = _result(service, lessons.comparison)
    assert first.overall_score == pytest.approx(compared["comparison"]["overall"], abs=0.01)
    assert first.comparison_job_id == lessons.comparison.id
    assert second.overall_score is None and second.comparison_job_id is None
    result = _result(service, lessons.second)
    assert second.timing_offset_ms == result["timing"]["mean_offset_ms"]
    assert second.angles["right_hip"]["range"] == pytest.approx(
        result["angles"]["summary"]["right_hip"]["range"], abs=0.01
    )
    assert (first.filename, first.created_at) == ("monday.mp4", lessons.first.created_at)
    assert service.progress("nobody") == [] and service.progress("  ") == []


def test_a_coach_names_the_student_afterwards(lessons: Lessons) -> None:
    service, teacher = lessons.service, lessons.teacher
    named = service.set_student(teacher.id, " Coach  Kim ", "Staff")
    assert (named.student, named.class_name) == ("Coach Kim", "Staff")
    assert [s.name for s in service.students()] == ["anna LEE", "Coach Kim"]
    assert [lesson.job_id for lesson in service.progress("coach kim")] == [teacher.id]
    assert [v.id for v in service.list(student="COACH KIM")] == [teacher.id]
    anna = {v.id for v in service.list(student="Anna Lee")}
    assert anna == {lessons.first.id, lessons.second.id, lessons.comparison.id}
    assert {v.id for v in service.list(device_id="device-1")} == {
        lessons.first.id, lessons.comparison.id,
    }  # fmt: skip

    with pytest.raises(InvalidRequest, match="at most") as caught:
        service.set_student(teacher.id, "y" * 200)
    assert caught.value.reason.value == "invalid_request"
    assert service.get(teacher.id).student == "Coach Kim"  # a refused name changes nothing
    with pytest.raises(InvalidState):
        service.set_student(lessons.comparison.id, "Somebody")
    with pytest.raises(JobNotFound):
        service.set_student("00000000-0000-4000-8000-000000000000", "Somebody")
    cleared = service.set_student(teacher.id, None)
    assert (cleared.student, cleared.class_name) == (None, None)
    assert [s.name for s in service.students()] == ["anna LEE"]


def test_renaming_a_lesson_takes_its_comparison_along(lessons: Lessons) -> None:
    service = lessons.service
    service.set_student(lessons.first.id, "Anna Lee", "Wednesday seniors")
    assert service.get(lessons.comparison.id).class_name == "Wednesday seniors"
    assert service.students()[0].class_name == "Wednesday seniors"
    service.set_student(lessons.first.id, "Anna Lee", "Tuesday juniors")  # as the others expect
