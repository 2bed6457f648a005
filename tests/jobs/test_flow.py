"""Jobs end to end with a real consumer: desktop stack, studio stack, the real model."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from multiprocessing.process import BaseProcess
from pathlib import Path

import httpx
import pytest

from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.views import JobView
from tests.jobs.helpers import ARTIFACT_FILES, result_files, wait_stage, wait_status
from tests.jobs.services import make_settings, s3_settings, wait_for


def _analysis_children() -> list[BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("analysis-")]


def test_desktop_stack_sqlite_and_sqlite_huey(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))
    events: list[JobView] = []
    service.subscribe(events.append)
    consumer = service.start_consumer()
    try:
        view = service.submit("tiny.mp4", [tiny_clip.read_bytes()])
        done = wait_status(service, view.id, {"finished", "failed"})
        assert done.status == "finished", done
        assert done.progress == 100 and done.num_frames == 10 and done.attempts == 1
        assert sorted(k.rsplit("/", 1)[1] for k in done.artifacts.values()) == ARTIFACT_FILES
        assert result_files(service, view.id) == ARTIFACT_FILES
        handle = service.open_artifact(view.id, "result")
        assert handle.local_path is not None and handle.content_type == "application/json"
        assert json.loads(handle.local_path.read_text())["video"]["frame_count"] == 10
        statuses = [e.status for e in events if e.id == view.id]
        assert statuses[0] == "queued" and statuses[-1] == "finished" and "started" in statuses
        progress = [e.progress for e in events if e.id == view.id]
        assert progress == sorted(progress)
        assert service.health() == {"database": True, "queue": True, "storage": True}
    finally:
        consumer.stop(grace_s=5)
        service.close()


def test_the_worker_keeps_the_device_its_first_child_detected(
    tmp_path: Path, tiny_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The analysis child reports what device detection found; the worker keeps it in its
    environment, so the children it spawns next do not import torch again."""
    from dance_analysis.pose.devices import ENV_CACHE

    monkeypatch.setenv(ENV_CACHE, "")  # unknown (and restored afterwards)
    service = JobService(make_settings(tmp_path))
    consumer = service.start_consumer()
    try:
        view = service.submit("tiny.mp4", [tiny_clip.read_bytes()])
        done = wait_status(service, view.id, {"finished", "failed"})
        assert done.status == "finished", done
        handle = service.open_artifact(view.id, "result")
        assert handle.local_path is not None
        detected = json.loads(handle.local_path.read_text())["model"]["accelerator"]
        assert json.loads(os.environ[ENV_CACHE]) == detected
    finally:
        consumer.stop(grace_s=5)
        service.close()


def test_studio_stack_postgres_redis_s3(
    tmp_path: Path, tiny_clip: Path, postgres_url: str, redis_url: str, s3_endpoint: str
) -> None:
    settings = make_settings(
        tmp_path, database_url=postgres_url, redis_url=redis_url, **s3_settings(s3_endpoint)
    )
    service = JobService(settings)
    consumer = service.start_consumer()
    try:
        body = tiny_clip.read_bytes()
        ticket = service.create_upload("tiny.mp4", "video/mp4", size=len(body))
        assert ticket.upload_url.startswith(s3_endpoint)
        put = httpx.put(ticket.upload_url, content=body, headers={"Content-Type": "video/mp4"})
        assert put.status_code == 200
        view = service.confirm(ticket.job_id, ticket.key)
        done = wait_status(service, view.id, {"finished", "failed"})
        assert done.status == "finished", done
        handle = service.open_artifact(done.id, "overlay.mp4")
        assert handle.local_path is None and handle.url is not None
        video = httpx.get(handle.url)
        assert video.status_code == 200 and len(video.content) == handle.size > 0
        assert service.health() == {"database": True, "queue": True, "storage": True}
    finally:
        consumer.stop(grace_s=5)
        service.close()


def test_desktop_results_are_synced_to_s3(
    tmp_path: Path, tiny_clip: Path, s3_endpoint: str
) -> None:
    settings = make_settings(
        tmp_path, s3_mode="sync", sync_interval_s=0.2, **s3_settings(s3_endpoint)
    )
    service = JobService(settings)
    consumer = service.start_consumer()
    try:
        view = service.submit("tiny.mp4", [tiny_clip.read_bytes()])
        done = wait_status(service, view.id, {"finished", "failed"})
        assert done.status == "finished"
        assert service.open_artifact(done.id, "result").local_path is not None  # local is primary
        sync = service.sync_loop()
        assert sync is not None
        wait_for(lambda: sync.backlog() == 0, timeout=30, what="the sync backlog to drain")
        remote = sync._remote
        for key in done.artifacts.values():
            info = remote.stat(key)
            assert info is not None and info.sha256 is not None
    finally:
        consumer.stop(grace_s=5)
        service.close()


@pytest.mark.slow
def test_real_model_on_the_squats(tmp_path: Path, squats_clip: Path) -> None:
    service = JobService(make_settings(tmp_path, use_mock_analysis=False, overlay=False))
    consumer = service.start_consumer()
    try:
        view = service.submit("squats.mp4", [squats_clip.read_bytes()])
        done = wait_status(service, view.id, {"finished", "failed"}, timeout=300)
        assert done.status == "finished", done
        result = json.loads(service.open_artifact(done.id, "result").local_path.read_text())  # type: ignore[union-attr]
        assert result["model"]["backend"] == "litert"  # auto on a machine without a GPU
        assert result["coverage"] > 0.9 and done.num_frames == 65
    finally:
        consumer.stop(grace_s=5)
        service.close()


def test_time_limit_fails_timeout_and_the_next_job_runs(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path, job_time_limit_s=0.3))
    consumer = service.start_consumer()
    try:
        slow = service.submit("a.mp4", [tiny_clip.read_bytes()])
        failed = wait_status(service, slow.id, {"finished", "failed"})
        assert (failed.status, failed.reason) == ("failed", "timeout")
        assert _analysis_children() == []
        service.settings.job_time_limit_s = 120
        fine = service.submit("b.mp4", [tiny_clip.read_bytes()])
        assert wait_status(service, fine.id, {"finished", "failed"}).status == "finished"
    finally:
        consumer.stop(grace_s=5)
        service.close()


def test_cancel_a_running_job(tmp_path: Path, squats_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))
    consumer = service.start_consumer()
    try:
        view = service.submit("squats.mp4", [squats_clip.read_bytes()])
        wait_stage(service, view.id, "pose")
        assert service.cancel(view.id).status == "started"  # flagged; the worker stops it
        canceled = wait_status(service, view.id, {"canceled", "finished", "failed"}, timeout=15)
        assert (canceled.status, canceled.reason) == ("canceled", "canceled")
        wait_for(lambda: _analysis_children() == [], timeout=10, what="the child to go")
        assert result_files(service, view.id) == []
    finally:
        consumer.stop(grace_s=5)
        service.close()


def test_a_crashing_child_is_retried_then_worker_lost(tmp_path: Path, squats_clip: Path) -> None:
    service = JobService(make_settings(tmp_path, max_attempts=2))
    consumer = service.start_consumer()
    try:
        view = service.submit("squats.mp4", [squats_clip.read_bytes()])
        for attempt in (1, 2):

            def analysing(attempt: int = attempt) -> bool:
                current = service.get(view.id)
                return current.attempts == attempt and current.stage == "pose"

            wait_for(analysing, timeout=60, what=f"attempt {attempt} to be analysing")
            (child,) = _analysis_children()
            os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        lost = wait_status(service, view.id, {"failed", "finished"})
        assert (lost.status, lost.reason, lost.attempts) == ("failed", "worker_lost", 2)
    finally:
        consumer.stop(grace_s=5)
        service.close()


def test_stop_puts_a_running_job_back_to_queued(tmp_path: Path, squats_clip: Path) -> None:
    service = JobService(make_settings(tmp_path))
    consumer = service.start_consumer()
    view = service.submit("squats.mp4", [squats_clip.read_bytes()])
    wait_stage(service, view.id, "pose")
    consumer.stop(grace_s=0.2)
    back = service.get(view.id)
    assert (back.status, back.attempts) == ("queued", 0)
    assert _analysis_children() == []
    consumer = service.start_consumer()
    try:
        done = wait_status(service, view.id, {"finished", "failed"})
        assert (done.status, done.attempts) == ("finished", 1)
    finally:
        consumer.stop(grace_s=5)
        service.close()
