"""In-process job events: a callback list, for the desktop GUI's bridge to Qt signals.

Events are published by whatever changed a job in this process (the service or its
embedded consumer). Callbacks run on the thread that made the change, so a GUI must
hop to its own thread (a queued Qt signal); a callback that raises is logged and
never disturbs the job.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from dance_analysis.jobs.views import JobView

log = logging.getLogger(__name__)

Callback = Callable[[JobView], None]


class EventHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callback] = []

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return unsubscribe

    def publish(self, view: JobView) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(view)
            except Exception:
                log.exception("a job event subscriber failed")
