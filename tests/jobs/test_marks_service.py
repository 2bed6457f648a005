"""The coach's marks through the job service (issue 12): saved beside result.json, read
back, recorded as the job's ``marks`` artifact; refused before the job has finished."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dance_analysis.errors import InvalidMarks, InvalidState, JobNotFound
from dance_analysis.jobs.service import JobService
from dance_analysis.marks import Mark, parse_marks
from tests.jobs.helpers import wait_status
from tests.jobs.services import make_settings

ANGLE = Mark("", "angle", 400.0, ((0.5, 0.2), (0.5, 0.5), (0.8, 0.5)))
NOTE = Mark("n1", "note", 200.0, ((0.3, 0.4),), "Knees over toes")


def _artifact_text(service: JobService, job_id: str, name: str) -> str:
    path = service.open_artifact(job_id, name).local_path
    assert path is not None
    return path.read_text(encoding="utf-8")


def test_marks_are_saved_beside_the_result_and_read_back(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))
    consumer = service.start_consumer()
    events: list[str] = []
    try:
        view = service.submit("tiny.mp4", [tiny_clip.read_bytes()])
        done = wait_status(service, view.id, {"finished", "failed"})
        assert done.status == "finished"
        assert service.marks(view.id) == []
        unsubscribe = service.subscribe(lambda changed: events.append(changed.id))

        saved = service.save_marks(view.id, [ANGLE, NOTE])

        unsubscribe()
        assert [mark.kind for mark in saved] == ["note", "angle"]  # by time
        assert saved[0] == NOTE and saved[1].id  # the angle got an id
        assert service.marks(view.id) == saved
        finished = service.get(view.id)
        key = finished.artifacts["marks"]
        assert key == finished.artifacts["result"].replace("result.json", "marks.json")
        # Nothing ran again: the same finished job, its other files as they were.
        assert (finished.status, finished.ended_at, finished.attempts) == (
            "finished",
            done.ended_at,
            done.attempts,
        )
        assert {**finished.artifacts, "marks": None} == {**done.artifacts, "marks": None}
        stored = service.storage.local_path(key)
        assert stored is not None
        document = json.loads(stored.read_text(encoding="utf-8"))
        assert document == {
            "version": 1,
            "marks": [
                {"id": "n1", "kind": "note", "t_ms": 200.0, "points": [[0.3, 0.4]],
                 "text": "Knees over toes"},
                {"id": saved[1].id, "kind": "angle", "t_ms": 400.0,
                 "points": [[0.5, 0.2], [0.5, 0.5], [0.8, 0.5]], "text": ""},
            ],
        }  # fmt: skip
        assert events == [view.id]  # the GUI hears of it
        # The exports that carry marks were written again with them.
        assert {"kva", "report"} <= set(finished.artifacts)
        assert "Knees over toes" in _artifact_text(service, view.id, "kva")
        assert "Knees over toes" in _artifact_text(service, view.id, "report")
        handle = service.open_artifact(view.id, "marks.json")  # a download like any other
        assert handle.local_path == stored

        # The whole set is replaced: fewer marks, then none.
        assert service.save_marks(view.id, saved[1:]) == saved[1:]
        assert parse_marks(json.loads(stored.read_text(encoding="utf-8"))) == saved[1:]
        assert service.save_marks(view.id, []) == []
        assert service.marks(view.id) == []
        assert "Knees over toes" not in _artifact_text(service, view.id, "kva")
        assert "Knees over toes" not in _artifact_text(service, view.id, "report")
        # A mark off the picture is refused, and what was saved stays.
        off = Mark("x", "line", 0.0, ((0.1, 0.1), (1.5, 0.5)))
        with pytest.raises(InvalidMarks):
            service.save_marks(view.id, [NOTE, off])
        assert service.marks(view.id) == []
    finally:
        consumer.stop(5)
        service.close()


def test_marks_wait_for_the_job_to_finish(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))  # no consumer: the job stays queued
    try:
        view = service.submit("tiny.mp4", [tiny_clip.read_bytes()])
        assert service.get(view.id).status == "queued"
        with pytest.raises(InvalidState) as refused:
            service.save_marks(view.id, [NOTE])
        assert "once it has finished" in refused.value.message
        with pytest.raises(InvalidState):
            service.marks(view.id)
        with pytest.raises(JobNotFound):
            service.save_marks("0" * 32, [NOTE])
    finally:
        service.close()
