"""Crash consistency with real worker processes (RELIABILITY §28, §31, §33)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dance_analysis.jobs.service import JobService
from tests.jobs.helpers import (
    ARTIFACT_FILES,
    REPO,
    alive,
    children_of,
    result_files,
    settings_json,
    start_worker,
    wait_stage,
    wait_status,
)
from tests.jobs.services import FAST, make_settings, wait_for


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        assert proc.wait(30) == 0


def test_kill_9_of_a_worker_mid_job(tmp_path: Path, squats_clip: Path) -> None:
    settings = make_settings(tmp_path)
    service = JobService(settings)  # the "API" side: records and enqueues, runs nothing
    worker = start_worker(settings)
    try:
        view = service.submit("squats.mp4", [squats_clip.read_bytes()])
        wait_stage(service, view.id, "pose")
        analysis = children_of(worker.pid)
        assert analysis, "the worker runs its analysis in a child process"
        worker.kill()
        worker.wait()
        # The orphaned analysis notices and takes its process group with it.
        wait_for(
            lambda: not any(alive(pid) for pid in analysis), timeout=10, what="orphans to exit"
        )
        assert service.get(view.id).status == "started"  # until the lease runs out

        worker = start_worker(settings)
        budget = FAST["lease_s"] + FAST["sweep_interval_s"] + 60
        done = wait_status(service, view.id, {"finished", "failed"}, timeout=budget)
        assert (done.status, done.attempts) == ("finished", 2)
        assert result_files(service, view.id) == ARTIFACT_FILES  # one result, no partials
        work = Path(settings.data_dir) / "work"
        wait_for(lambda: not any(work.iterdir()), timeout=10, what="temp folders removed")
    finally:
        _stop(worker)
        service.close()


def test_crash_between_recording_and_enqueueing(tmp_path: Path, tiny_clip: Path) -> None:
    settings = make_settings(tmp_path)
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.jobs.worker_proc", settings_json(settings),
         "crash-before-enqueue", str(tiny_clip)],
        cwd=REPO, timeout=60, check=False,
    )  # fmt: skip
    assert crashed.returncode == 137
    service = JobService(settings)
    try:
        (view,) = service.list()
        assert view.status == "queued" and service.queue.size() == 0  # recorded, never enqueued
        consumer = service.start_consumer()
        try:
            done = wait_status(service, view.id, {"finished", "failed"})
            assert (done.status, done.attempts) == ("finished", 1)
        finally:
            consumer.stop(grace_s=5)
    finally:
        service.close()


def test_two_workers_on_postgres_and_redis_run_each_job_once(
    tmp_path: Path, tiny_clip: Path, postgres_url: str, redis_url: str
) -> None:
    # Nothing is killed here, so a lease as long as a real one: with the crash tests' 3 s
    # lease a heartbeat held up on a loaded machine (load 11 on 2 cores, seen once) let
    # the other worker's sweep take the job over: a second attempt, by design.
    settings = make_settings(
        tmp_path, database_url=postgres_url, redis_url=redis_url, lease_s=60.0
    )
    service = JobService(settings)
    workers = [start_worker(settings), start_worker(settings)]
    try:
        body = tiny_clip.read_bytes()
        ids = [service.submit(f"clip{i}.mp4", [body]).id for i in range(4)]
        for job_id in ids:
            done = wait_status(service, job_id, {"finished", "failed"}, timeout=120)
            assert (done.status, done.attempts) == ("finished", 1), done
            assert result_files(service, job_id) == ARTIFACT_FILES
        assert service.queue.size() == 0
    finally:
        for worker in workers:
            _stop(worker)
        service.close()


def test_sigterm_mid_job_leaves_nothing_started(tmp_path: Path, squats_clip: Path) -> None:
    settings = make_settings(tmp_path)
    service = JobService(settings)
    worker = start_worker(settings)  # stops with a 5 s grace: too short for this job
    try:
        view = service.submit("squats.mp4", [squats_clip.read_bytes()])
        wait_stage(service, view.id, "pose")
        worker.terminate()
        assert worker.wait(30) == 0
        status = service.get(view.id).status
        assert status in ("queued", "finished")
        assert [v for v in service.list() if v.status == "started"] == []
    finally:
        _stop(worker)
        service.close()
