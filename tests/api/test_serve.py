"""``python main.py serve`` / ``worker`` / ``token create`` as real processes on loopback:
the original client flow with local storage, with S3 (moto's server), with Redis and
PostgreSQL and two extra workers, and once with the real pose model.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.api.conftest import (
    Server,
    fetch_result,
    server_env,
    serving,
    start_process,
    upload_flow,
    wait_until_ended,
)

pytestmark = pytest.mark.anyio

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"
REDIS = "redis://127.0.0.1:6379/0"
WORKER_READY = re.compile(r"worker ready")


async def test_the_documented_flow_against_a_real_server(server: Server, tiny_clip: Path) -> None:
    async with server.client() as client, httpx.AsyncClient(timeout=60) as bare:
        accepted = await upload_flow(client, tiny_clip, upload_client=bare)
        assert accepted["s3_key"].endswith("/dance.mp4")
        status = await wait_until_ended(client, accepted["job_id"])
        assert status["status"] == "finished", status
        result = (await client.get(f"/api/v1/analyze/{accepted['job_id']}/result")).json()
        for url in result["downloads"].values():  # built from the Host this client used
            assert url.startswith(server.url + "/api/v1/jobs/")
        files = await fetch_result(client, accepted["job_id"], downloader=bare)
        assert len(json.loads(files["coco17"])["pose_data"]) == 10

        legacy = await client.post(
            "/api/v1/analyze", files={"file": ("legacy.mp4", tiny_clip.read_bytes(), "video/mp4")}
        )
        assert legacy.status_code == 202, legacy.text
        done = await wait_until_ended(client, legacy.json()["job_id"])
        assert done["status"] == "finished"

        health = await bare.get(f"{server.url}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"

    # RELIABILITY §27: the access log saw every URL above, but no secret.
    logged = server.proc.output()
    assert "PUT /api/v1/uploads/" in logged and "sig=***" in logged
    secrets = [server.token, *re.findall(r"sig=([0-9a-f]{16,})", json.dumps(result))]
    for secret in secrets:
        assert secret not in logged


def test_serve_prints_how_to_connect_and_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = server_env(tmp_path / "data")
        import subprocess
        import sys

        from tests.conftest import REPO

        done = subprocess.run(
            [sys.executable, str(REPO / "main.py"), "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 5
    assert "port_in_use" in done.stderr and "Traceback" not in done.stderr


def test_serve_prints_a_pairing_link_that_pairs(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data")
    proc, link = start_process(
        ["serve", "--host", "127.0.0.1", "--port", "0"], env, re.compile(r"pairing link:\s+(\S+)")
    )
    try:
        base, _, query = link.partition("/?")
        code = dict(part.split("=", 1) for part in query.split("&"))["pair"]
        proc.wait_for(re.compile("█"))  # the same link as a terminal QR code, printed next
        paired = httpx.post(f"{base}/api/v1/pair", json={"code": code, "device_name": "phone"})
        assert paired.status_code == 200, paired.text
        token = paired.json()["token"]
        page = httpx.get(link)  # the link opens the phone page
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        jobs = httpx.get(f"{base}/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
        assert jobs.status_code == 200
    finally:
        assert proc.stop() == 0


@contextlib.contextmanager
def moto_s3() -> Iterator[str]:
    import boto3
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="test-access-key", aws_secret_access_key="test-secret-key-123",
        ).create_bucket(Bucket="dance-test")  # fmt: skip
        yield endpoint
    finally:
        moto.stop()


def moto_bucket_env(endpoint: str) -> dict[str, str]:
    """The settings that point a served app at a bucket on moto's server."""
    return {
        "DANCE_S3_ENDPOINT_URL": endpoint,
        "DANCE_S3_BUCKET": "dance-test",
        "DANCE_S3_ACCESS_KEY": "test-access-key",
        "DANCE_S3_SECRET_KEY": "test-secret-key-123",
        "DANCE_S3_REGION": "us-east-1",
    }


async def test_the_documented_flow_with_s3(tmp_path: Path, tiny_clip: Path) -> None:
    with (
        moto_s3() as endpoint,
        serving(
            tmp_path / "data",
            **moto_bucket_env(endpoint),
        ) as server,
    ):
        async with server.client() as client, httpx.AsyncClient(timeout=60) as bare:
            ticket = (
                await client.post("/api/v1/analyze/upload-url", params={"filename": "s3.mp4"})
            ).json()
            assert ticket["upload_url"].startswith(endpoint)  # straight to the bucket
            accepted = await upload_flow(client, tiny_clip, filename="s3.mp4", upload_client=bare)
            status = await wait_until_ended(client, accepted["job_id"])
            assert status["status"] == "finished", status
            result = (await client.get(f"/api/v1/analyze/{accepted['job_id']}/result")).json()
            assert all(url.startswith(endpoint) for url in result["downloads"].values())
            await fetch_result(client, accepted["job_id"], downloader=bare)
            # Through the API too: the artifact route redirects to a presigned link.
            overlay = await client.get(
                f"/api/v1/jobs/{accepted['job_id']}/artifacts/overlay", follow_redirects=True
            )
            assert overlay.status_code == 200 and overlay.content[4:8] == b"ftyp"
        # No clip or result was written to the local data folder.
        assert not list((tmp_path / "data").rglob("*.mp4"))


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    import psycopg

    name = f"dance_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.format(name)
    finally:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_redis_postgres_and_two_workers_run_every_job_once(
    tmp_path: Path, tiny_clip: Path
) -> None:
    with scratch_postgres() as database_url:
        shared = {
            "DANCE_DATABASE_URL": database_url,
            "DANCE_REDIS_URL": REDIS,
            "DANCE_QUEUE_NAME": f"test-{uuid.uuid4().hex[:10]}",
        }
        env = server_env(tmp_path / "data", **shared)  # one box: the workers share its files
        workers = [start_process(["worker"], env, re.compile(r"worker ready"))[0] for _ in range(2)]
        try:
            with serving(tmp_path / "data", **shared) as server:
                async with server.client() as client:
                    job_ids = []
                    for index in range(6):
                        response = await client.post(
                            "/api/v1/analyze",
                            files={
                                "file": (f"clip{index}.mp4", tiny_clip.read_bytes(), "video/mp4")
                            },
                        )
                        assert response.status_code == 202, response.text
                        job_ids.append(response.json()["job_id"])
                    assert len(set(job_ids)) == 6
                    with anyio.fail_after(120):
                        for job_id in job_ids:
                            status = await wait_until_ended(client, job_id, timeout_s=120)
                            assert status["status"] == "finished", status
                    jobs = (await client.get("/api/v1/jobs")).json()["data"]
                    assert sorted(job["id"] for job in jobs) == sorted(job_ids)
                    assert all(job["attempts"] == 1 for job in jobs), jobs
        finally:
            codes = [worker.stop() for worker in workers]
        assert codes == [0, 0], [worker.output()[-2000:] for worker in workers]
        # The queue is shared: the extra workers took jobs, and none failed a job.
        outputs = "".join(worker.output() for worker in workers)
        assert outputs.count(": attempt 1 by ") >= 1, outputs[-4000:]
        assert " ERROR " not in outputs, outputs[-4000:]


@pytest.mark.slow
async def test_the_contract_with_the_real_model(tmp_path: Path, squats_clip: Path) -> None:
    with serving(tmp_path / "data", DANCE_USE_MOCK_ANALYSIS="false") as server:
        async with server.client() as client, httpx.AsyncClient(timeout=60) as bare:
            accepted = await upload_flow(client, squats_clip, filename="squats.mp4")
            status = await wait_until_ended(client, accepted["job_id"], timeout_s=240)
            assert status["status"] == "finished", status
            files = await fetch_result(client, accepted["job_id"], downloader=bare)
    result = json.loads(files["result"])
    assert result["video"]["frame_count"] == 65
    assert result["model"]["backend"] == "litert"  # auto on a machine without a GPU
    coco = json.loads(files["coco17"])["pose_data"]
    assert len(coco) == 65
    assert {k["name"] for k in coco[30]["keypoints"]} >= {"nose", "left_knee", "right_ankle"}
    assert len(coco[30]["keypoints"]) == 17


async def test_serve_with_its_consumer_off_leaves_every_job_to_workers(
    tmp_path: Path, tiny_clip: Path
) -> None:
    # One data folder: the SQLite job table and queue are shared, as on one studio box.
    with serving(tmp_path / "data", DANCE_API_RUNS_JOBS="false") as server:
        assert "run by `main.py worker` processes" in server.proc.output()
        async with server.client() as client:
            response = await client.post(
                "/api/v1/analyze", files={"file": ("a.mp4", tiny_clip.read_bytes(), "video/mp4")}
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["job_id"]
            worker, _ = start_process(["worker"], server_env(tmp_path / "data"), WORKER_READY)
            try:
                status = await wait_until_ended(client, job_id, timeout_s=120)
            finally:
                assert worker.stop() == 0, worker.output()[-4000:]
            assert status["status"] == "finished", status
        assert f"job {job_id}: attempt 1 by " in worker.output()
    assert ": attempt " not in server.proc.output()  # serve ran nothing
