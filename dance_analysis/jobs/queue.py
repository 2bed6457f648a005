"""The Huey queue: it carries job ids to workers, and nothing else.

Huey on SQLite (``{data_dir}/queue.db``) for the desktop, on Redis when ``redis_url``
is set. Huey deletes a task when a worker dequeues it, so a worker killed mid-job
takes its task with it: the queue is only a doorbell, the job table is the truth, and
the sweep (:mod:`dance_analysis.jobs.recovery`) rings again for any queued job the
queue no longer holds (a crash before enqueueing, a Redis restart, a lost task).

We never run Huey's ``Consumer``: its ``start()`` installs signal handlers, which
would take SIGINT/SIGTERM from Qt or uvicorn. :mod:`dance_analysis.jobs.consumer`
runs its own threads around :meth:`JobQueue.next_job_id`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TASK_NAME = "dance_analysis.run_job"
_REDIS_CONNECT_TIMEOUT_S = 5
_REDIS_SOCKET_TIMEOUT_S = 10  # longer than the 1 s blocking pop


class JobQueue:
    def __init__(self, *, name: str, redis_url: str | None, data_dir: Path) -> None:
        from huey import RedisHuey, SqliteHuey

        self.kind = "redis" if redis_url else "sqlite"
        self._huey: Any
        if redis_url:
            from redis import ConnectionPool

            pool = ConnectionPool.from_url(
                redis_url,
                socket_connect_timeout=_REDIS_CONNECT_TIMEOUT_S,
                socket_timeout=_REDIS_SOCKET_TIMEOUT_S,
                health_check_interval=30,
            )
            self._huey = RedisHuey(
                name, results=False, connection_pool=pool, blocking=True, read_timeout=1
            )
        else:
            data_dir.mkdir(parents=True, exist_ok=True)
            # fsync: a task enqueued is on disk; timeout: wait for another writer up to 30 s.
            self._huey = SqliteHuey(
                name, results=False, filename=str(data_dir / "queue.db"), fsync=True, timeout=30
            )
        # Each consumer thread runs tasks into its own worker: the handler is per thread.
        self._local = threading.local()
        # Wakes this process's idle consumers at once when this process enqueues.
        self._doorbell = threading.Event()

        def run_job(job_id: str) -> None:
            handler = getattr(self._local, "handler", None)
            if handler is None:
                raise RuntimeError("a job task was executed with no worker attached")
            handler(job_id)

        self._task = self._huey.task(name=TASK_NAME)(run_job)

    @property
    def blocking(self) -> bool:
        """True when :meth:`dequeue` waits for work itself (Redis), False when it polls."""
        return bool(self._huey.storage.blocking)

    def enqueue(self, job_id: str) -> None:
        self._task(job_id)
        self._doorbell.set()

    def dequeue(self) -> Any | None:
        """The next task, or None (after up to a second's wait on Redis)."""
        return self._huey.dequeue()

    def put_back(self, task: Any) -> None:
        """Return a task dequeued by a consumer that is stopping before it ran it."""
        self._huey.enqueue(task)

    def execute(self, task: Any, handler: Callable[[str], None]) -> None:
        """Run a dequeued task through Huey (its hooks and revocations) into ``handler``."""
        self._local.handler = handler
        try:
            self._huey.execute(task)
        finally:
            self._local.handler = None

    @staticmethod
    def job_id_of(task: Any) -> str | None:
        args = getattr(task, "args", None) or ()
        return str(args[0]) if args else None

    def wait_for_doorbell(self, timeout_s: float) -> None:
        if self._doorbell.wait(timeout_s):
            self._doorbell.clear()

    def ring(self) -> None:
        self._doorbell.set()

    def pending_job_ids(self) -> set[str]:
        """Job ids the queue holds now (read by the sweep; the queue is small)."""
        ids = set()
        for data in self._huey.storage.enqueued_items():
            try:
                task = self._huey.deserialize_task(data)
            except Exception:
                log.warning("unreadable task in the queue; ignoring it", exc_info=True)
                continue
            job_id = self.job_id_of(task)
            if job_id:
                ids.add(job_id)
        return ids

    def size(self) -> int:
        return int(self._huey.storage.queue_size())

    def ping(self) -> bool:
        try:
            self.size()
        except Exception:
            log.warning("queue unreachable", exc_info=True)
            return False
        return True

    def flush(self) -> None:
        """Empty the queue (tests, and a studio admin resetting a dead deployment)."""
        self._huey.storage.flush_queue()

    def close(self) -> None:
        storage = self._huey.storage
        if hasattr(storage, "close"):
            storage.close()
        pool = getattr(storage, "pool", None)
        if pool is not None:
            pool.disconnect()
