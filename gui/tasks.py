"""Slow calls off the GUI thread, and job events onto it.

:class:`Tasks` runs a function on a small private thread pool and delivers its
return value (or its exception) to a callback on the GUI thread, by a queued signal.
:class:`JobEventBridge` turns :meth:`JobService.subscribe` callbacks, which arrive on
whatever thread changed the job, into a Qt signal received on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Outcome(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], outcome: _Outcome) -> None:
        super().__init__()
        self._fn = fn
        self._outcome = outcome

    def run(self) -> None:
        try:
            value = self._fn()
        except Exception as error:  # delivered to the caller's error callback
            log.debug("background task failed", exc_info=True)
            self._outcome.failed.emit(error)
        else:
            self._outcome.succeeded.emit(value)


class Tasks(QObject):
    """``run(fn, on_done, on_error)``: ``fn`` on a pool thread, callbacks on the GUI thread."""

    def __init__(self, parent: QObject | None = None, *, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pending: set[_Outcome] = set()
        self._closed = False

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        if self._closed:
            return
        outcome = _Outcome()  # lives on the GUI thread: its signals are queued to it
        self._pending.add(outcome)

        def finish(callback: Callable[[Any], None] | None, value: Any) -> None:
            self._pending.discard(outcome)
            if callback is not None and not self._closed:
                callback(value)

        outcome.succeeded.connect(
            lambda value: finish(on_done, value), Qt.ConnectionType.QueuedConnection
        )
        outcome.failed.connect(
            lambda error: finish(on_error or _log_error, error),
            Qt.ConnectionType.QueuedConnection,
        )
        self._pool.start(_Runnable(fn, outcome))

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def close(self, timeout_ms: int = 30_000) -> None:
        """Drop callbacks not yet delivered and wait for running calls to end."""
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone(timeout_ms)
        self._pending.clear()


def _log_error(error: Exception) -> None:
    log.warning("background task failed: %s", error)


class JobEventBridge(QObject):
    """Job events from any thread → ``job_changed(JobView)`` on the GUI thread.

    :meth:`attach` takes the service's ``subscribe`` and is called on a pool thread,
    like every other service call: none runs on the GUI thread.
    """

    job_changed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False

    def attach(self, subscribe: Callable[[Callable[[Any], None]], Callable[[], None]]) -> None:
        unsubscribe = subscribe(self._on_event)
        with self._lock:
            closed = self._closed
            if not closed:
                self._unsubscribe = unsubscribe
        if closed:  # the window closed meanwhile
            unsubscribe()

    def _on_event(self, view: Any) -> None:
        # Emitting from a foreign thread to receivers living on the GUI thread is
        # queued by Qt (AutoConnection); nothing here touches a widget.
        self.job_changed.emit(view)

    @Slot()
    def close(self) -> None:
        with self._lock:
            self._closed = True
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
