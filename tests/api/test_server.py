"""The embedded server (``api.server.ApiServer``) on a real socket: start, stop, signals,
a port in use, and clients that are slow on purpose (RELIABILITY §17, §22, §26).
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.server import ApiServer, ServerStartError
from dance_analysis.access import AccessService
from dance_analysis.jobs.service import JobService
from tests.api.conftest import files_under
from tests.settings import make_settings

CAP = 256 * 1024
# The deadlines the ``running`` server is configured with. Tests check that the server
# closes a slow client because of them (never before they are due); the guards below
# only stop a broken server from hanging the suite, far beyond any busy machine's delay.
HEADER_TIMEOUT_S = 1.0
BODY_IDLE_TIMEOUT_S = 1.0
HANG_GUARD_S = 30 * max(HEADER_TIMEOUT_S, BODY_IDLE_TIMEOUT_S)


class Running:
    def __init__(self, server: ApiServer, token: str, service: JobService, data_dir: Path) -> None:
        self.server = server
        self.token = token
        self.service = service
        self.data_dir = data_dir

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def raw(self, payload: bytes, *, timeout_s: float = 5) -> bytes:
        """Send bytes on a fresh connection; everything the server answers until it closes."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout_s) as sock:
            sock.sendall(payload)
            return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    settings = make_settings(tmp_path / "data", max_upload_bytes=CAP)
    service = JobService(settings)
    access = AccessService(settings)
    server = ApiServer(
        create_app(settings, service, access), "127.0.0.1", 0,
        header_timeout_s=HEADER_TIMEOUT_S, body_idle_timeout_s=BODY_IDLE_TIMEOUT_S,
    )  # fmt: skip
    server.start()
    try:
        yield Running(server, access.create_token("tests"), service, Path(settings.data_dir))
    finally:
        server.stop()
        service.close()


def test_start_and_stop_leave_signals_and_the_port_alone(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    service = JobService(settings)
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = ApiServer(create_app(settings, service, AccessService(settings)), "127.0.0.1", 0)
    server.start()
    try:
        thread = next(t for t in threading.enumerate() if t.name == "api-server")
        assert not thread.daemon
        assert httpx.get(f"{server.url}/health").status_code == 200
        assert {sig: signal.getsignal(sig) for sig in before} == before

        clash = ApiServer(
            create_app(settings, service, AccessService(settings)), "127.0.0.1", server.port
        )
        with pytest.raises(ServerStartError) as refused:
            clash.start()
        assert refused.value.reason == "port_in_use"
    finally:
        server.stop()
        service.close()
    assert not thread.is_alive()
    with socket.socket() as again:  # the port is free once stop() returns
        again.bind(("127.0.0.1", server.port))


def _closed_by_server(sock: socket.socket, trickle: bytes, every_s: float = 0.2) -> float:
    """Send ``trickle`` every ``every_s`` until the server closes; seconds that took."""
    started = time.monotonic()
    sock.settimeout(every_s)
    while time.monotonic() - started < HANG_GUARD_S:
        try:
            if trickle:
                sock.sendall(trickle)
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    pytest.fail(f"the server kept a slow connection open for {HANG_GUARD_S:.0f} s")


def test_unfinished_headers_are_cut_off(running: Running) -> None:
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        # A header byte every 0.2 s would keep it open forever without the deadline.
        open_for = _closed_by_server(sock, b"X")
    assert open_for >= HEADER_TIMEOUT_S * 0.9  # the header deadline closed it, not an error
    # Other clients were served all along.
    assert httpx.get(f"{running.server.url}/health").status_code == 200


def test_a_silent_connection_is_closed(running: Running) -> None:
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        open_for = _closed_by_server(sock, b"")
    assert open_for >= HEADER_TIMEOUT_S * 0.9


def _upload_url(running: Running, filename: str = "slow.mp4") -> str:
    response = httpx.post(
        f"{running.server.url}/api/v1/analyze/upload-url",
        params={"filename": filename}, headers=running.auth,
    )  # fmt: skip
    return str(response.json()["upload_url"])


def _put_head(url: str, length: int) -> bytes:
    target = url.split("://", 1)[1].split("/", 1)[1]
    return (
        f"PUT /{target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: video/mp4\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def _wait_until_no_upload_files(data_dir: Path) -> None:
    """The server removes a partial upload when it drops the connection (a moment later)."""
    started = time.monotonic()
    while files_under(data_dir, lambda p: "uploads" in p.parts):
        assert time.monotonic() - started < HANG_GUARD_S, "a partial upload was left behind"
        time.sleep(0.05)


def test_a_trickling_body_is_cut_off_and_leaves_nothing(running: Running) -> None:
    url = _upload_url(running)
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(_put_head(url, 100_000))
        open_for = _closed_by_server(sock, b"\x00")  # 5 bytes/s: far below the minimum rate
    assert open_for >= BODY_IDLE_TIMEOUT_S * 0.9
    _wait_until_no_upload_files(running.data_dir)


def test_a_slow_but_steady_upload_succeeds(running: Running, tiny_clip: Path) -> None:
    url = _upload_url(running)
    data = tiny_clip.read_bytes()
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=10) as sock:
        sock.sendall(_put_head(url, len(data)))
        for start in range(0, len(data), 2048):  # 2 KB every 0.3 s: a weak phone link
            sock.sendall(data[start : start + 2048])
            time.sleep(0.3)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_an_honest_oversized_length_is_refused_before_the_body(running: Running) -> None:
    url = _upload_url(running)
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(_put_head(url, CAP + 1))  # and not a byte of body
        answer = b""
        while b"}}" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"upload_too_large" in answer


def test_a_lying_length_leaves_no_partial_file(running: Running) -> None:
    url = _upload_url(running)
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(_put_head(url, 200_000) + b"\x00" * 50_000)
        started = time.monotonic()  # wait until the server is writing the partial file
        while not files_under(running.data_dir, lambda p: "uploads" in p.parts):
            assert time.monotonic() - started < HANG_GUARD_S, "the upload never started"
            time.sleep(0.05)
        # The client vanishes with 150 KB still owed; the server must notice and clean up.
    _wait_until_no_upload_files(running.data_dir)


@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /health HTTP/1.0\r\n\r\n",  # no Host at all
        b"GET /health HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: 127.0.0.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
        b"GET http://evil.example/health HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    ],
    ids=["missing", "forwarded", "two-hosts", "absolute-form"],
)
def test_host_attacks_on_the_wire(running: Running, request_head: bytes) -> None:
    answer = running.raw(request_head)
    assert answer.split(b" ", 2)[1] == b"400", answer[:200]
