"""The commands the containers run, beyond `serve`: a worker's health check, the
API without a consumer, and the bucket made at start.

Real processes: `main.py worker --health-file F` over SQLite in a temporary data
folder, `main.py worker --check` against what it writes, `main.py storage init`
against moto's S3 server on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from dance_analysis.config import Settings
from tests.deploy.tools import REPO, run
from tests.jobs.services import wait_for

MAIN = REPO / "main.py"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCE_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return {**env, "DANCE_SECRET_KEY": "k" * 32, **extra}


def check(health: Path) -> tuple[int, str]:
    answer = run(sys.executable, MAIN, "worker", "--check", "--health-file", health, env=_env())
    return answer.returncode, answer.stdout + answer.stderr


def test_a_worker_is_healthy_while_it_runs_and_not_after(tmp_path: Path) -> None:
    health = tmp_path / "worker.health"
    worker = subprocess.Popen(
        [sys.executable, str(MAIN), "worker", "--data-dir", str(tmp_path / "data"),
         "--health-file", str(health)],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert check(health)[0] == 1  # nothing written yet
        wait_for(health.exists, timeout=60, what="the worker's health file")
        code, out = check(health)
        assert code == 0, out
        assert f"worker pid {worker.pid}" in out
        state = json.loads(health.read_text())
        assert state["consuming"] is True
        assert state["database"] is True and state["queue"] is True and state["storage"] is True
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    assert "SIGINT received, stopping" in output
    assert not health.exists()
    code, out = check(health)
    assert code == 1 and "[no_heartbeat]" in out


def _write(path: Path, **state: Any) -> Path:
    path.write_text(json.dumps({"time": time.time(), "pid": 7, "consuming": True, **state}))
    return path


def test_check_refuses_a_stale_stopped_or_cut_off_worker(tmp_path: Path) -> None:
    health = tmp_path / "w.health"
    assert check(_write(health, database=True, queue=True, storage=True))[0] == 0

    code, out = check(_write(health, time=time.time() - 3600))
    assert code == 1 and "[stale_heartbeat]" in out

    code, out = check(_write(health, consuming=False))
    assert code == 1 and "[not_consuming]" in out

    code, out = check(_write(health, database=True, queue=False, storage=False))
    assert code == 1 and "queue, storage" in out and "[dependency_down]" in out

    health.write_text("not json")
    code, out = check(health)
    assert code == 1 and "[bad_health_file]" in out


def test_check_needs_the_file_named() -> None:
    answer = run(sys.executable, MAIN, "worker", "--check", env=_env())
    assert answer.returncode == 2
    assert "--health-file" in answer.stderr


def test_serve_no_worker_runs_no_consumer(tmp_path: Path) -> None:
    """The compose API (`serve --no-worker`): jobs wait for the worker containers."""
    import main

    settings = Settings(data_dir=tmp_path, api_host="127.0.0.1", api_port=0, secret_key="k" * 32)
    backend = main.Backend(settings, server_required=True, run_jobs=False)
    try:
        assert backend.consumer is None
        assert backend.port
        assert backend.service.health() == {"database": True, "queue": True, "storage": True}
    finally:
        backend.stop(1.0)
    with_consumer = main.Backend(settings, server_required=True)
    try:
        assert with_consumer.consumer is not None and with_consumer.consumer.running
    finally:
        with_consumer.stop(1.0)


def test_storage_init_makes_the_private_bucket_once(s3_endpoint: str) -> None:
    bucket = f"b{uuid.uuid4().hex[:12]}"
    env = _env(
        DANCE_S3_ENDPOINT_URL=s3_endpoint, DANCE_S3_BUCKET=bucket,
        DANCE_S3_ACCESS_KEY="testing", DANCE_S3_SECRET_KEY="testing-secret",
    )  # fmt: skip
    for _ in range(2):  # a restart of the stack runs it again: still fine
        answer = run(sys.executable, MAIN, "storage", "init", env=env)
        assert answer.returncode == 0, answer.stderr
        assert f"bucket {bucket} is ready" in answer.stdout
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing-secret",
    )  # fmt: skip
    client.head_bucket(Bucket=bucket)
    grants = client.get_bucket_acl(Bucket=bucket)["Grants"]
    assert all("AllUsers" not in str(grant.get("Grantee")) for grant in grants)
    block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_storage_init_says_why_it_cannot(tmp_path: Path) -> None:
    answer = run(sys.executable, MAIN, "storage", "init", env=_env())
    assert answer.returncode == 2 and "[no_bucket]" in answer.stderr

    env = _env(
        DANCE_S3_ENDPOINT_URL="http://127.0.0.1:9", DANCE_S3_BUCKET="b",
        DANCE_S3_ACCESS_KEY="testing", DANCE_S3_SECRET_KEY="testing-secret",
        DANCE_S3_MAX_ATTEMPTS="1", DANCE_S3_CONNECT_TIMEOUT_S="1",
    )  # fmt: skip
    answer = run(sys.executable, MAIN, "storage", "init", env=env)
    assert answer.returncode == 1
    assert "cannot create the bucket b at http://127.0.0.1:9" in answer.stderr
    assert "[storage_unavailable]" in answer.stderr
