"""The checks every GUI test relies on catch what they are meant to catch."""

from __future__ import annotations

import gc
import threading
from typing import Any

from PySide6.QtCore import QTimer

from tests.gui.conftest import Call, ServiceCalls, on_gui_thread, running_qt_objects


def test_a_timer_left_running_after_gc_freeze_is_still_found(qapp: Any) -> None:
    timer = QTimer()
    timer.start(4321)
    gc.collect()
    gc.freeze()  # what the app does after start-up (gui.app.settle_heap)
    try:
        # The trap: the frozen timer is invisible to a plain scan of the GC's objects.
        assert not any(thing is timer for thing in gc.get_objects())

        _running, active = running_qt_objects()

        assert 4321 in active
    finally:
        timer.stop()
        gc.unfreeze()
    assert 4321 not in running_qt_objects()[1]


class _Service:
    def __init__(self) -> None:
        self.storage = _Storage()

    def list(self) -> list[str]:
        return ["job"]


class _Storage:
    def ping(self) -> bool:
        return True


_Service.__module__ = _Storage.__module__ = "dance_analysis.fake"


def test_service_calls_are_recorded_with_their_thread() -> None:
    calls: list[Call] = []
    service = ServiceCalls(_Service(), "service", calls)

    assert service.list() == ["job"]
    worker = threading.Thread(target=service.storage.ping, name="pool")
    worker.start()
    worker.join()

    assert [(c.name, c.thread_id) for c in calls] == [
        ("service.list", threading.main_thread().ident),
        ("service.storage.ping", worker.ident),
    ]
    assert on_gui_thread(calls) == ["service.list"]
