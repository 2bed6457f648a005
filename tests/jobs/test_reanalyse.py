"""JobService.reanalyse and source_path: the clip is never lost, the path comes from the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from dance_analysis.errors import ChecksumMismatch, InvalidState, JobNotFound
from dance_analysis.jobs.service import JobService
from dance_analysis.marks import Mark
from tests.jobs.helpers import ARTIFACT_FILES, result_files, wait_status
from tests.jobs.services import make_settings


def analysed(service: JobService, clip: Path) -> str:
    view = service.submit("tiny.mp4", [clip.read_bytes()])
    assert wait_status(service, view.id, {"finished", "failed"}).status == "finished"
    return view.id


def test_reanalyse_makes_a_new_job_then_drops_the_old(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))
    consumer = service.start_consumer()
    try:
        old_id = analysed(service, tiny_clip)

        new = service.reanalyse(old_id)

        assert new.id != old_id and new.filename == "tiny.mp4"
        assert new.sha256 == service.get(new.id).sha256 is not None
        with pytest.raises(JobNotFound):
            service.get(old_id)
        assert result_files(service, old_id) == []
        done = wait_status(service, new.id, {"finished", "failed"})
        assert done.status == "finished"
        assert result_files(service, new.id) == ARTIFACT_FILES
        path = service.source_path(new.id)
        assert path is not None and path.read_bytes() == tiny_clip.read_bytes()
    finally:
        consumer.stop(5)
        service.close()


def test_the_coachs_marks_go_with_a_clip_analysed_again(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))
    consumer = service.start_consumer()
    try:
        old_id = analysed(service, tiny_clip)
        marks = service.save_marks(
            old_id,
            [Mark("n1", "note", 400.0, ((0.4, 0.3),), "Lift the chest"),
             Mark("a1", "angle", 800.0, ((0.2, 0.2), (0.5, 0.5), (0.8, 0.2)))],
        )  # fmt: skip

        new = service.reanalyse(old_id)

        assert wait_status(service, new.id, {"finished", "failed"}).status == "finished"
        assert service.marks(new.id) == marks
        assert result_files(service, new.id) == sorted([*ARTIFACT_FILES, "marks.json"])
        for name in ("kva", "report"):  # drawn in from the start, not after a save
            path = service.open_artifact(new.id, name).local_path
            assert path is not None and "Lift the chest" in path.read_text(encoding="utf-8")
        # Another dancer is another analysis: the marks were about the first one.
        other = service.analyse_dancer(new.id, 1)
        assert wait_status(service, other.id, {"finished", "failed"}).status == "finished"
        assert service.marks(other.id) == []
    finally:
        consumer.stop(5)
        service.close()


def test_reanalyse_that_fails_keeps_the_old_job_and_its_clip(
    tmp_path: Path, tiny_clip: Path
) -> None:
    service = JobService(make_settings(tmp_path))
    consumer = service.start_consumer()
    try:
        old_id = analysed(service, tiny_clip)
        stored = service.source_path(old_id)
        assert stored is not None
        # The stored clip no longer matches its record (a failing disk, a stray edit):
        # the new job's confirm refuses it, so the new job cannot be made.
        damaged = bytearray(stored.read_bytes())
        damaged[-100] ^= 0xFF
        stored.write_bytes(bytes(damaged))

        with pytest.raises(ChecksumMismatch):
            service.reanalyse(old_id)

        assert [job.id for job in service.list()] == [old_id]
        assert service.get(old_id).status == "finished"
        assert result_files(service, old_id) == ARTIFACT_FILES
        assert service.source_path(old_id) == stored and stored.read_bytes() == bytes(damaged)
    finally:
        consumer.stop(5)
        service.close()


def test_reanalyse_waits_for_the_job_to_end_and_source_path_knows_missing_files(
    tmp_path: Path, tiny_clip: Path
) -> None:
    service = JobService(make_settings(tmp_path))  # no consumer: the job stays queued
    try:
        view = service.submit("tiny.mp4", [tiny_clip.read_bytes()])
        with pytest.raises(InvalidState):
            service.reanalyse(view.id)
        assert [job.id for job in service.list()] == [view.id]

        path = service.source_path(view.id)
        assert path is not None and path.is_relative_to(tmp_path)
        path.unlink()
        assert service.source_path(view.id) is None
        with pytest.raises(JobNotFound):
            service.source_path("0" * 8 + "-0000-4000-8000-" + "0" * 12)
    finally:
        service.close()
