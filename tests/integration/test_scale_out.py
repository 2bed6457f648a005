"""Scale-out without docker: the commands the containers run, on real services (issue 10 §2).

``python main.py serve`` with ``DANCE_API_RUNS_JOBS=false`` and two ``python main.py
worker`` processes, each with a data folder of its own (as separate containers have) and
configured only by environment variables, the names a compose ``.env`` sets: PostgreSQL,
Redis, S3 (moto's server on loopback, standing in for MinIO), the secret key.

Ten clients run the seed's flow at once (upload-url → PUT to the presigned S3 URL →
confirm → status → result). While one worker analyses the longest clip it is killed
with SIGKILL; its lease runs out, the sweep queues the job again and the other worker
runs it. Every job must finish, and the bucket must hold each job's clip and exactly
one set of results: each artifact once, nothing half-written, nothing for other ids.

Isolation: a database of its own, a Redis queue name of its own (its keys deleted at
the end), a moto server and bucket of its own; every process is stopped, even when the
test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import (
    LISTENING,
    Proc,
    create_token,
    fetch_result,
    server_env,
    start_process,
    upload_flow,
    wait_until_ended,
)
from tests.jobs.helpers import ARTIFACT_FILES, alive, children_of
from tests.jobs.services import REDIS_URL, scratch_database, wait_for
from tests.media import SQUATS, make_clip

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

CLIENTS = 10
VICTIM = "victim.mp4"  # the clip whose worker is killed mid-analysis
VICTIM_FRAMES = 65
# Short leases, so recovery takes seconds; long enough that a busy 2-core machine does
# not let a healthy worker's lease lapse by accident (heartbeats every second).
LEASES = {"DANCE_LEASE_S": "10", "DANCE_HEARTBEAT_S": "1", "DANCE_SWEEP_INTERVAL_S": "1"}
S3_KEYS = {"access": "scale-out-access", "secret": "scale-out-secret-123"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- the services: each test gets its own database, queue and bucket -------------------


@contextlib.contextmanager
def scratch_queue() -> Iterator[str]:
    """A queue name no other test uses on the shared Redis; its keys deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is needed at {REDIS_URL} (set DANCE_TEST_REDIS): {error}")
    name = f"scaleout{uuid.uuid4().hex[:12]}"  # lower-case letters and digits: Huey keeps it whole
    try:
        yield name
    finally:
        for key in client.scan_iter(match=f"*{name}*"):
            client.delete(key)
        client.close()


@contextlib.contextmanager
def scratch_bucket() -> Iterator[tuple[str, str, Any]]:
    """moto's S3 server on a free loopback port with a private bucket made at start, as
    the compose stack's MinIO has: (endpoint, bucket, a boto3 client to inspect it)."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        bucket = f"scale-{uuid.uuid4().hex[:10]}"
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=S3_KEYS["access"], aws_secret_access_key=S3_KEYS["secret"],
        )  # fmt: skip
        client.create_bucket(Bucket=bucket, ACL="private")
        yield endpoint, bucket, client
    finally:
        server.stop()


# --- the processes ---------------------------------------------------------------------


@dataclass
class Stack:
    """``serve`` and its workers, started from ``main.py`` with environment variables only."""

    shared: dict[str, str]
    root: Path
    bucket: str
    s3: Any
    database_url: str
    api: Proc | None = None
    api_url: str = ""
    token: str = ""
    workers: list[Proc] = field(default_factory=list)
    data_dirs: dict[int, Path] = field(default_factory=dict)  # worker pid → its data folder
    analysis_pids: set[int] = field(default_factory=set)  # seen running under a worker

    def env(self, role: str, **extra: str) -> dict[str, str]:
        env = server_env(self.root / role, **self.shared, **extra)
        # The seed's name for mock mode, as its .env spells it.
        del env["DANCE_USE_MOCK_ANALYSIS"]
        return {**env, "USE_MOCK_ANALYSIS": "true"}

    def start(self, workers: int) -> None:
        for index in range(workers):
            role = f"worker-{index}"
            proc, _ = start_process(["worker"], self.env(role), re.compile(r"worker ready"))
            self.workers.append(proc)
            self.data_dirs[proc.process.pid] = self.root / role
        env = self.env("api", DANCE_API_RUNS_JOBS="false")
        self.api, self.api_url = start_process(
            ["serve", "--host", "127.0.0.1", "--port", "0"], env, LISTENING
        )
        self.token = create_token(env)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.api_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )

    def stop(self) -> None:
        """SIGTERM to each process still running, SIGKILL to one that will not stop."""
        for proc in (self.api, *self.workers):
            if proc is not None:
                with contextlib.suppress(AssertionError):  # Proc.stop killed it, and said so
                    proc.stop()
        for pid in self.analysis_pids:  # never leave an analysis behind
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with (
        scratch_database("dance_scale") as database_url,
        scratch_queue() as queue,
        scratch_bucket() as s3,
    ):
        endpoint, bucket, client = s3
        shared = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "DANCE_QUEUE_NAME": queue,
            "DANCE_S3_ENDPOINT_URL": endpoint,
            "DANCE_S3_BUCKET": bucket,
            "DANCE_S3_ACCESS_KEY": S3_KEYS["access"],
            "DANCE_S3_SECRET_KEY": S3_KEYS["secret"],
            "DANCE_S3_REGION": "us-east-1",
            "DANCE_SECRET_KEY": uuid.uuid4().hex,
            **LEASES,
        }
        running = Stack(shared, tmp_path, bucket, client, database_url)
        try:
            yield running
        finally:
            running.stop()


# --- the clips -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Nine short clips, each two seconds from another point of the squats (distinct
    bytes, ten frames), and the victim: the whole clip at 720x1280, the longest job
    (seconds in mock mode too: decoding and drawing the overlay at full size)."""
    folder = tmp_path_factory.mktemp("scale-out-clips")
    short = [
        make_clip(folder / f"clip{index}.mp4", start_s=0.5 * index) for index in range(CLIENTS - 1)
    ]
    victim = folder / VICTIM
    shutil.copyfile(SQUATS, victim)
    return [*short, victim]


# --- the test --------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRow:
    id: str
    status: str
    stage: str | None
    attempts: int
    worker_id: str | None

    @property
    def worker_pid(self) -> int | None:
        """The process that holds the job: worker ids are ``host:pid:random``."""
        return None if self.worker_id is None else int(self.worker_id.split(":")[-2])


def job_row(database_url: str, filename: str) -> JobRow | None:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as db:
        row = db.execute(
            "SELECT id, status, stage, attempts, worker_id FROM jobs WHERE filename = %s",
            (filename,),
        ).fetchone()
    return None if row is None else JobRow(*row)


def analysis_processes(worker_pid: int) -> list[int]:
    """The worker's analysis child (multiprocessing's spawn), not its resource tracker."""
    found = []
    for pid in children_of(worker_pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def kill_the_worker_analysing(stack: Stack, filename: str) -> tuple[JobRow, Proc]:
    """Wait until a worker analyses ``filename`` (its row started by that worker in
    the pose stage, an analysis process alive under it), SIGKILL that worker, wait for
    its orphans to go, and return the job's row as the kill left it."""
    workers = {proc.process.pid: proc for proc in stack.workers}

    def analysing() -> tuple[JobRow, list[int]] | None:
        row = job_row(stack.database_url, filename)
        if row is None or (row.status, row.stage) != ("started", "pose"):
            return None
        children = analysis_processes(row.worker_pid) if row.worker_pid in workers else []
        return (row, children) if children else None

    row, _ = wait_for(analysing, timeout=240, what=f"a worker to analyse {filename}")
    victim = workers[row.worker_pid]
    analysis = children_of(victim.process.pid)  # the analysis and multiprocessing's tracker
    stack.analysis_pids.update(analysis)
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(30)
    after = job_row(stack.database_url, filename)
    # The orphaned analysis notices its worker is gone and exits with its process group.
    wait_for(lambda: not any(alive(pid) for pid in analysis), timeout=30, what="orphans to exit")
    assert after is not None
    return after, victim


async def run_client(stack: Stack, clip: Path) -> tuple[str, dict[str, Any], dict[str, bytes]]:
    """One client of its own: the seed's flow for one clip; (job id, status, files)."""
    async with stack.client() as client, httpx.AsyncClient(timeout=60) as bare:
        accepted = await upload_flow(client, clip, filename=clip.name, upload_client=bare)
        job_id = accepted["job_id"]
        status = await wait_until_ended(client, job_id, timeout_s=300)
        assert status["status"] == "finished", status
        files = await fetch_result(client, job_id, downloader=bare)
        return job_id, status, files


def bucket_keys(s3: Any, bucket: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return sorted(keys)


async def test_serve_and_two_workers_survive_a_kill_9_under_ten_clients(
    stack: Stack, clips: list[Path]
) -> None:
    began = time.monotonic()
    stack.start(workers=2)
    tasks = [asyncio.create_task(run_client(stack, clip)) for clip in clips]
    try:
        killed_row, killed = await asyncio.to_thread(kill_the_worker_analysing, stack, VICTIM)
        outcomes = await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.monotonic() - began

    # The kill came mid-job: the row was still the killed worker's, not finished.
    assert killed.process.returncode == -signal.SIGKILL
    assert (killed_row.status, killed_row.worker_pid) == ("started", killed.process.pid)
    (survivor,) = [proc for proc in stack.workers if proc is not killed]

    # Every job finished, the victim's on a second attempt by the surviving worker.
    job_ids = {clip.name: job_id for clip, (job_id, _, _) in zip(clips, outcomes, strict=True)}
    assert len(set(job_ids.values())) == CLIENTS
    rows = {name: job_row(stack.database_url, name) for name in job_ids}
    for name, row in rows.items():
        assert row is not None and row.status == "finished", (name, row)
        if name == VICTIM:
            assert row.attempts == 2, row
            assert f"job {row.id}: attempt 2 by " in survivor.output(), survivor.output()[-4000:]
        else:
            assert row.attempts == 1, (name, row)
    for clip, (_, _, files) in zip(clips, outcomes, strict=True):  # downloaded from S3
        frames = json.loads(files["result"])["video"]["frame_count"]
        assert frames == (VICTIM_FRAMES if clip.name == VICTIM else 10), clip.name

    # The bucket: each clip once, one set of results per job, nothing else.
    expected = sorted(
        [f"uploads/{job_id}/{name}" for name, job_id in job_ids.items()]
        + [f"results/{job_id}/{artifact}" for job_id in job_ids.values()
           for artifact in ARTIFACT_FILES]
    )  # fmt: skip
    assert bucket_keys(stack.s3, stack.bucket) == expected
    assert not stack.s3.list_multipart_uploads(Bucket=stack.bucket).get("Uploads")

    # Nothing left in the survivor's working folder; the API kept no clip or result.
    work = stack.data_dirs[survivor.process.pid] / "work"
    wait_for(lambda: not list(work.glob("*")), timeout=30, what="the survivor's work folder")
    assert not [p for p in (stack.root / "api").rglob("*") if p.suffix in (".mp4", ".json")]

    # The API ran no job: with DANCE_API_RUNS_JOBS=false it only records and enqueues.
    assert stack.api is not None
    assert "jobs:            run by `main.py worker`" in stack.api.output()
    assert ": attempt " not in stack.api.output()
    for proc in (stack.api, survivor):  # SIGTERM: a clean stop, and no error on the way
        assert proc.stop() == 0, proc.output()[-4000:]
        assert " ERROR " not in proc.output(), proc.output()[-4000:]
    print(f"\nscale-out: {CLIENTS} clips, serve + 2 workers, one kill -9: {elapsed:.1f} s")
