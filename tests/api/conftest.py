"""API fixtures: the app through its lifespan (httpx over ASGI), and real servers.

In-process tests use the real job service on a temp data folder, in the documented
mock pose mode so a job takes a fraction of a second; nothing is mocked. Server
tests start ``python main.py serve`` (and ``worker``) as subprocesses on loopback.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from dance_analysis.access import AccessService
from dance_analysis.config import Settings
from dance_analysis.jobs.service import JobService
from tests.conftest import REPO
from tests.media import make_clip
from tests.settings import make_settings

PY = sys.executable
BASE = "http://127.0.0.1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of the squats clip at 90x160: ten frames, a few KB."""
    return make_clip(tmp_path_factory.mktemp("media") / "tiny.mp4")


@pytest.fixture(scope="session")
def music_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight seconds of the squats clip, small, over a 124 BPM drum groove (AAC)."""
    from tests.music.synth import groove_clip

    return groove_clip(tmp_path_factory.mktemp("music"), seconds=8.0)


@dataclass
class Api:
    """One app with its service, through its lifespan, and a client with a token."""

    settings: Settings
    service: JobService
    access: AccessService
    client: httpx.AsyncClient
    token: str
    anonymous: httpx.AsyncClient = field(repr=False)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.asynccontextmanager
async def running_api(settings: Settings, *, consumer: bool = True) -> AsyncIterator[Api]:
    service = JobService(settings)
    access = AccessService(settings)
    app = create_app(settings, service, access)
    running = service.start_consumer(workers=1) if consumer else None
    try:
        async with app.router.lifespan_context(app) as state:
            # What a server does: every request gets the lifespan's state in its scope.
            async def with_state(scope: Any, receive: Any, send: Any) -> None:
                scope["state"] = dict(state)
                await app(scope, receive, send)

            transport = httpx.ASGITransport(app=with_state, raise_app_exceptions=False)
            token = access.create_token("tests")
            async with (
                httpx.AsyncClient(
                    transport=transport,
                    base_url=BASE,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                ) as client,
                httpx.AsyncClient(transport=transport, base_url=BASE, timeout=30) as anonymous,
            ):
                yield Api(settings, service, access, client, token, anonymous)
    finally:
        if running is not None:
            running.stop(5)
        service.close()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(make_settings(tmp_path / "data")) as running:
        yield running


# -- the documented client flow, shared by in-process and real-server tests ----------


async def wait_until_ended(
    client: httpx.AsyncClient, job_id: str, timeout_s: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = await client.get(f"/api/v1/analyze/{job_id}/status")
        assert response.status_code == 200, response.text
        body = response.json()
        assert 0 <= body["progress"] <= 100
        if body["status"] in ("finished", "failed", "canceled"):
            return body
        assert time.monotonic() < deadline, f"job {job_id} still {body['status']}"
        await _sleep(0.2)


async def _sleep(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


async def upload_flow(
    client: httpx.AsyncClient,
    clip: Path,
    *,
    filename: str = "dance.mp4",
    content_type: str = "video/mp4",
    upload_client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """upload-url → PUT → confirm, exactly as docs/direct-upload.md says; the 202 body."""
    response = await client.post(
        "/api/v1/analyze/upload-url", params={"filename": filename, "content_type": content_type}
    )
    assert response.status_code == 200, response.text
    ticket = response.json()
    assert set(ticket) >= {"job_id", "upload_url", "s3_key", "expires_in", "instructions"}
    assert ticket["expires_in"] == 900
    assert ticket["s3_key"].startswith(f"uploads/{ticket['job_id']}/")
    # The upload URL is used as given, with no token: its signature is its authority.
    putter = upload_client or client
    put = await putter.put(
        ticket["upload_url"],
        content=clip.read_bytes(),
        headers={"Content-Type": content_type, "Authorization": ""},
    )
    assert put.status_code in (200, 204), put.text
    confirm = await client.post(
        "/api/v1/analyze/confirm", params={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]}
    )
    assert confirm.status_code == 202, confirm.text
    accepted = confirm.json()
    assert accepted["job_id"] == ticket["job_id"]
    assert accepted["s3_key"] == ticket["s3_key"]
    assert accepted["status"] in ("queued", "started", "finished")
    return accepted


async def fetch_result(
    client: httpx.AsyncClient, job_id: str, *, downloader: httpx.AsyncClient | None = None
) -> dict[str, bytes]:
    """GET result, then every download link with no credentials; name → bytes."""
    response = await client.get(f"/api/v1/analyze/{job_id}/result")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "complete" and result["job_id"] == job_id
    assert result["num_frames"] and result["num_frames"] > 0
    assert {"result", "overlay", "coco17"} <= set(result["downloads"])
    files = {}
    getter = downloader or client
    for name, url in result["downloads"].items():
        got = await getter.get(url, headers={"Authorization": ""}, follow_redirects=True)
        assert got.status_code == 200, f"{name}: {got.status_code} {got.text[:200]}"
        assert got.content, name
        files[name] = got.content
    return files


def upload_sync(http: httpx.Client, clip: Path, filename: str, **fields: Any) -> str:
    """upload-url → PUT → confirm with a blocking client (a real server and a browser
    share the test's thread); the job's id. ``fields`` go in upload-url's JSON body
    beside the filename and size (``student``, ``class_name``, ``style``)."""
    ticket = http.post(
        "/api/v1/analyze/upload-url",
        json={"filename": filename, "size": clip.stat().st_size, **fields},
    ).json()
    put = http.put(
        ticket["upload_url"], content=clip.read_bytes(),
        headers={"Content-Type": "video/mp4", "Authorization": ""},
    )  # fmt: skip
    assert put.status_code in (200, 204), put.text
    confirmed = http.post(
        "/api/v1/analyze/confirm", json={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]}
    )
    assert confirmed.status_code == 202, confirmed.text
    return str(ticket["job_id"])


def finished_sync(http: httpx.Client, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    """The job's status once it has ended, which must be ``finished`` (blocking client).

    ``timeout_s`` only stops a job that never ends from hanging the suite.
    """
    from tests.jobs.services import wait_for

    def ended() -> dict[str, Any] | None:
        status: dict[str, Any] = http.get(f"/api/v1/analyze/{job_id}/status").json()
        return status if status["status"] in ("finished", "failed", "canceled") else None

    status = wait_for(ended, timeout=timeout_s, what=f"job {job_id} to end")
    assert status["status"] == "finished", status
    return dict(status)


# -- real processes -----------------------------------------------------------------


@dataclass
class Proc:
    process: subprocess.Popen[str]
    lines: list[str]
    errors: list[str]

    def output(self) -> str:
        return "".join(self.lines) + "".join(self.errors)

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float = 60) -> str:
        """The first stdout line matching ``pattern`` (its first group, if it has one).

        ``timeout_s`` only stops a process that never prints it from hanging the suite.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = pattern.search(line)
                if match:
                    return match.group(1) if match.groups() else line
            if self.process.poll() is not None and not self._draining():
                break
            time.sleep(0.05)
        raise AssertionError(f"never printed {pattern.pattern!r}:\n{self.output()[-4000:]}")

    def _draining(self) -> bool:
        return self.process.stdout is not None and not self.process.stdout.closed

    def stop(self, timeout_s: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"process did not stop:\n{self.output()[-4000:]}") from None


def _drain(stream: Any, into: list[str]) -> None:
    for line in iter(stream.readline, ""):
        into.append(line)
    stream.close()


def start_process(args: list[str], env: dict[str, str], ready: re.Pattern[str]) -> tuple[Proc, str]:
    """Start ``python main.py ARGS``; wait for a stdout line matching ``ready``."""
    process = subprocess.Popen(
        [PY, str(REPO / "main.py"), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc = Proc(process, [], [])
    threading.Thread(target=_drain, args=(process.stdout, proc.lines), daemon=True).start()
    threading.Thread(target=_drain, args=(process.stderr, proc.errors), daemon=True).start()
    try:
        return proc, proc.wait_for(ready)
    except AssertionError:
        proc.stop(5)
        raise AssertionError(f"{args[0]} did not start:\n{proc.output()[-4000:]}") from None


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DANCE_", "AWS_")) and key not in ("REDIS_URL", "DATABASE_URL")
    }
    env.update(
        DANCE_DATA_DIR=str(data_dir),
        DANCE_USE_MOCK_ANALYSIS="true",
        DANCE_ALLOWED_HOSTS='["127.0.0.1", "localhost"]',
        DANCE_SWEEP_INTERVAL_S="2",
        DANCE_HEARTBEAT_S="1",
        DANCE_LEASE_S="10",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


LISTENING = re.compile(r"listening on (http://\S+)")
PAIRING_CODE = re.compile(r"pairing code:\s+(\S+)")


@dataclass
class Server:
    url: str
    token: str
    data_dir: Path
    proc: Proc

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            **kwargs,
        )


def create_token(env: dict[str, str], name: str = "tests") -> str:
    done = subprocess.run(
        [PY, str(REPO / "main.py"), "token", "create", name],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    token = done.stdout.strip()
    assert token and "\n" not in token, done.stdout
    return token


@contextlib.contextmanager
def serving(data_dir: Path, **extra_env: str) -> Iterator[Server]:
    env = server_env(data_dir, **extra_env)
    proc, url = start_process(["serve", "--host", "127.0.0.1", "--port", "0"], env, LISTENING)
    try:
        yield Server(url, create_token(env), data_dir, proc)
    finally:
        code = proc.stop()
        assert code == 0, f"serve exited with {code}:\n{proc.output()[-4000:]}"


def pair_phone(server: Server, device_name: str) -> str:
    """A phone paired with the code ``serve`` printed (what the phone page does); its token."""
    code = server.proc.wait_for(PAIRING_CODE)
    paired = httpx.post(
        f"{server.url}/api/v1/pair", json={"code": code, "device_name": device_name}
    )
    assert paired.status_code == 200, paired.text
    return str(paired.json()["token"])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path / "data") as running:
        yield running


def files_under(root: Path, predicate: Callable[[Path], bool] = lambda p: True) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and predicate(path)]
