"""The embedded consumer: our own threads around the Huey queue, no signal handlers.

``JobService.start_consumer()`` returns one. It runs ``workers`` job threads (each
job's analysis is a child process, so this is how many clips run at once), a sweeper
that runs the recovery pass every ``sweep_interval_s``, and on a desktop with S3 a
sync thread. :meth:`Consumer.stop` stops taking jobs, lets running ones finish for
``grace_s`` and then puts them back to ``queued`` (not counted as a lost attempt),
so after a clean stop nothing is left ``started``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from dance_analysis.jobs.queue import JobQueue
from dance_analysis.jobs.worker import JobWorker, Shutdown

log = logging.getLogger(__name__)

_IDLE_POLL_S = 0.5  # SQLite queue: how often an idle thread looks for work
_ERROR_BACKOFF_S = 2.0
_JOIN_MARGIN_S = 15.0  # after the grace: time to kill a child and write "queued"


def new_worker_id() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Consumer:
    def __init__(
        self,
        queue: JobQueue,
        make_worker: Callable[[str], JobWorker],
        *,
        workers: int,
        sweep: Callable[[], int],
        sweep_interval_s: float,
        background: list[Callable[[threading.Event], None]] | None = None,
    ) -> None:
        self._queue = queue
        self._shutdown = Shutdown()
        self._stop_background = threading.Event()
        self._sweep = sweep
        self._sweep_interval_s = sweep_interval_s
        self._threads: list[threading.Thread] = []
        self._workers = [make_worker(new_worker_id()) for _ in range(workers)]
        self._background = background or []
        self._started = False

    @property
    def running(self) -> bool:
        return self._started and not self._shutdown.requested.is_set()

    def start(self) -> None:
        for index, worker in enumerate(self._workers):
            self._spawn(f"job-worker-{index}", lambda w=worker: self._work(w))  # type: ignore[misc]
        self._spawn("job-sweeper", self._sweep_forever)
        for index, task in enumerate(self._background):
            self._spawn(f"job-background-{index}", lambda t=task: t(self._stop_background))  # type: ignore[misc]
        self._started = True

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        # Not daemons: a job thread must be able to write its job back before exit.
        thread = threading.Thread(target=target, name=name)
        thread.start()
        self._threads.append(thread)

    def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking jobs; running jobs get ``grace_s`` to finish, else go back to queued."""
        self._shutdown.request(grace_s)
        self._stop_background.set()
        self._queue.ring()
        for thread in self._threads:
            thread.join(grace_s + _JOIN_MARGIN_S)
            if thread.is_alive():
                log.error("consumer thread %s did not stop", thread.name)
        self._threads.clear()

    # --- threads --------------------------------------------------------------------

    def _work(self, worker: JobWorker) -> None:
        stopping = self._shutdown.requested
        while not stopping.is_set():
            try:
                task = self._queue.dequeue()
            except Exception:
                log.warning("could not read the queue; retrying", exc_info=True)
                stopping.wait(_ERROR_BACKOFF_S)
                continue
            if task is None:
                if not self._queue.blocking:
                    self._queue.wait_for_doorbell(_IDLE_POLL_S)
                continue
            if stopping.is_set():
                self._put_back(task)
                return
            job_id = JobQueue.job_id_of(task)
            try:
                self._queue.execute(task, lambda job_id: worker.run(job_id, self._shutdown))
            except Exception:
                log.exception("job %s: the worker failed", job_id)

    def _put_back(self, task: object) -> None:
        try:
            self._queue.put_back(task)
        except Exception:
            log.warning("could not return a task to the queue; the sweep will", exc_info=True)

    def _sweep_forever(self) -> None:
        while not self._stop_background.wait(self._sweep_interval_s):
            try:
                changed = self._sweep()
            except Exception:
                log.warning("sweep failed; trying again next round", exc_info=True)
                continue
            if changed:
                log.info("sweep: %d jobs recovered", changed)
