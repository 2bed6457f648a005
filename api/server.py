"""The API server embedded in a host process (the desktop app, ``main.py serve``).

uvicorn's ``Server.run()`` runs on a *non-daemon* thread: ``start()`` waits until it
is accepting connections, ``stop()`` sets ``should_exit`` and joins, so the port is
always released. The server installs no signal handlers; the host owns SIGINT and
SIGTERM and calls ``stop()``.

The socket is bound here, before the thread starts, so "port in use" is an exception
in the caller's thread with a reason, not a ``sys.exit`` inside uvicorn's.

Slow clients: uvicorn closes idle keep-alive connections, but it has no deadline for
a request's headers and none for a body that trickles in. ``GuardedH11Protocol``
adds both: the headers must be complete within ``header_timeout_s`` of the first
byte (or of connecting), and a body must keep delivering at least
``body_min_bytes`` per ``body_idle_timeout_s``. A steady slow phone upload passes;
a byte every few seconds does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("api.server")

HEADER_TIMEOUT_S = 10.0
BODY_IDLE_TIMEOUT_S = 30.0
BODY_MIN_BYTES = 1024
# Longer than clients keep an idle connection for reuse (httpx and many phone HTTP
# stacks: 5 s). When the server closed first, at the same 5 s, a client could send
# its next request down a connection that was closing: no response at all.
KEEP_ALIVE_S = 20
MAX_HEADER_BYTES = 16 * 1024
START_TIMEOUT_S = 30.0


class ServerStartError(RuntimeError):
    """The server could not start; ``reason`` is a stable code (``port_in_use`` …)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines for headers and for trickling bodies."""

    header_timeout_s = HEADER_TIMEOUT_S
    body_idle_timeout_s = BODY_IDLE_TIMEOUT_S
    body_min_bytes = BODY_MIN_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_progress = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._header_timer is None:
            self._arm_header_timer()  # the first byte of a next request on a kept-alive connection
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:
            return
        self._cancel(header=True)
        if state is h11.SEND_BODY:
            self._body_progress += len(data)
            if self._body_timer is None or self._body_progress >= self.body_min_bytes:
                self._body_progress = 0
                self._cancel(body=True)
                self._body_timer = self.loop.call_later(
                    self.body_idle_timeout_s, self._on_body_idle
                )
        else:
            self._cancel(body=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel(header=True, body=True)
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel(header=True)
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._on_header_timeout)

    def _cancel(self, *, header: bool = False, body: bool = False) -> None:
        if header and self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        if body and self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("closing a connection whose request headers never completed")
            self.transport.close()

    def _on_body_idle(self) -> None:
        self._body_timer = None
        if self.conn.their_state is not h11.SEND_BODY:
            return
        if self.flow.read_paused:  # the app is busy, not the client: look again later
            self._body_timer = self.loop.call_later(self.body_idle_timeout_s, self._on_body_idle)
            return
        log.info("closing a connection whose request body stalled")
        self.transport.close()


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # uvicorn >= 0.29
        yield

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ServerStartError(
                "port_in_use", f"Port {port} on {host} is already in use by another program."
            ) from error
        if error.errno in (errno.EACCES, errno.EPERM):
            raise ServerStartError(
                "port_not_allowed", f"This user may not listen on port {port}."
            ) from error
        raise ServerStartError(
            "cannot_listen", f"Cannot listen on {host}:{port}: {error.strerror}."
        ) from error
    sock.setblocking(False)
    return sock


class ApiServer:
    """``start()``/``stop()`` around uvicorn on a non-daemon thread."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        header_timeout_s: float = HEADER_TIMEOUT_S,
        body_idle_timeout_s: float = BODY_IDLE_TIMEOUT_S,
        access_log: bool = True,
    ) -> None:
        protocol = type(
            "ConfiguredH11Protocol",
            (GuardedH11Protocol,),
            {"header_timeout_s": header_timeout_s, "body_idle_timeout_s": body_idle_timeout_s},
        )
        self.host = host
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=protocol,
            lifespan="on",
            log_config=None,  # the host process configures logging (and its redaction)
            access_log=access_log,
            timeout_keep_alive=KEEP_ALIVE_S,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
        self._server = _EmbeddedServer(self.config)
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = port

    @property
    def started(self) -> bool:
        return self._server.started

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        if self._thread is not None:
            raise RuntimeError("the server was already started")
        self._socket = bind_socket(self.host, self.config.port)
        self.port = int(self._socket.getsockname()[1])
        self._thread = threading.Thread(target=self._run, name="api-server", daemon=False)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive():
                self._release()
                raise ServerStartError("startup_failed", "The API server stopped while starting.")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError("startup_timeout", "The API server did not start in time.")
            time.sleep(0.02)

    def _run(self) -> None:
        assert self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except SystemExit:  # uvicorn's answer to a failed lifespan start-up
            log.error("the API server could not start")

    def stop(self, timeout_s: float = 15.0) -> None:
        self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(5.0)
        self._release()

    def _release(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
