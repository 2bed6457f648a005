"""GUI fixtures: the real window on the offscreen platform, over a real job service.

The window is built the way ``main.py`` builds it (:class:`main.DesktopBackend`:
job service, access, API server on loopback, consumer), except that the services it
is handed are wrapped in :class:`ServiceCalls`, which records the thread of every
call. Every test fails if the window called a service on the GUI thread, or if it
leaves a thread running or a Qt timer active (frozen objects included).
"""

from __future__ import annotations

import gc
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before any QApplication exists (pytest-qt creates it lazily in the qapp fixture).
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QThread, QTimer

from main import DesktopBackend
from tests.settings import make_settings


@dataclass(frozen=True)
class Call:
    name: str  # "service.list", "access.new_pairing_code", "service.storage.ping"
    # threading.get_ident(), not current_thread(): on a thread Python did not start
    # (Qt's pool) that would leave a _DummyThread behind in threading.enumerate().
    thread_id: int


class ServiceCalls:
    """A service as the window sees it: the real object, each public call recorded.

    Attributes that are the engine's own objects (``service.storage``) are wrapped
    too, so a call through them is seen as well.
    """

    def __init__(self, target: Any, name: str, calls: list[Call]) -> None:
        self._target = target
        self._name = name
        self._calls = calls

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._target, attr)
        if attr.startswith("_"):
            return value
        name = f"{self._name}.{attr}"
        if callable(value):

            def call(*args: Any, **kwargs: Any) -> Any:
                self._calls.append(Call(name, threading.get_ident()))
                return value(*args, **kwargs)

            return call
        if type(value).__module__.startswith("dance_analysis."):
            return ServiceCalls(value, name, self._calls)
        return value


def on_gui_thread(calls: list[Call]) -> list[str]:
    main = threading.main_thread().ident
    return [call.name for call in calls if call.thread_id == main]


@dataclass
class Desktop:
    backend: DesktopBackend
    window: Any  # gui.main_window.MainWindow
    calls: list[Call]  # every service call the window made, with its thread

    @property
    def service(self) -> Any:
        return self.backend.service

    def close(self, grace_s: float = 10.0) -> None:
        self.window.close()
        self.backend.stop(grace_s)


@pytest.fixture(autouse=True)
def no_leftover_threads(qapp: Any) -> Iterator[None]:
    """Fail a test that leaves a Python thread, a running QThread or an active QTimer."""
    before = set(threading.enumerate())
    yield
    qapp.processEvents()
    deadline = threading.Event()
    for _ in range(50):  # threads that were told to stop get a moment to end
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra:
            break
        deadline.wait(0.1)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
    running, active = running_qt_objects()
    assert not running, f"QThreads left running: {running}"
    assert not active, f"QTimers left active (intervals ms): {active}"


def running_qt_objects() -> tuple[list[str], list[int]]:
    """(names of running QThreads, intervals of active QTimers), frozen ones included.

    ``gc.freeze()`` (``gui.app.settle_heap``, which the app and these fixtures call
    after start-up) moves every object into a permanent generation that
    ``gc.get_objects()`` does not list: a timer started before the freeze would hide.
    Unfreezing first puts them back in view; nothing here needs them frozen again.
    """
    gc.unfreeze()
    gc.collect()
    running: list[str] = []
    active: list[int] = []
    for thing in gc.get_objects():
        try:
            if isinstance(thing, QThread) and thing.isRunning():
                running.append(thing.objectName())
            elif isinstance(thing, QTimer) and thing.isActive():
                active.append(thing.interval())
        except RuntimeError:  # its C++ side is already gone
            continue
    return running, active


@pytest.fixture
def open_desktop(qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., Desktop]]:
    """``open_desktop(data_dir=None, **settings)``: the window over a running backend."""
    from gui.app import settle_heap
    from gui.main_window import MainWindow

    opened: list[Desktop] = []

    def open_(data_dir: Path | None = None, **overrides: Any) -> Desktop:
        settings = make_settings(data_dir or tmp_path / "data", **overrides)
        backend = DesktopBackend(settings)
        calls: list[Call] = []
        window = MainWindow(
            settings,
            ServiceCalls(backend.service, "service", calls),
            ServiceCalls(backend.access, "access", calls),
            api_url=backend.api_url,
            startup_problems=backend.problems,
            settings_path=tmp_path / "settings.ini",
        )
        window.show()
        window.activateWindow()  # the player's keys are shortcuts of the active window
        settle_heap()  # as run_app does once the window is built
        desktop = Desktop(backend, window, calls)
        opened.append(desktop)
        return desktop

    yield open_
    for desktop in opened:
        desktop.close(grace_s=5.0)
        desktop.window.deleteLater()
    # Delete the windows now, while Qt is alive, not in the interpreter's final GC.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    blocking = [name for desktop in opened for name in on_gui_thread(desktop.calls)]
    opened.clear()
    assert not blocking, f"service calls on the GUI thread: {blocking}"


def analyse_into(folder: Path, name: str, clip: Path) -> Path:
    """``clip`` analysed by the real model as job ``name`` in a new data ``folder``."""
    import time

    from dance_analysis.jobs.service import JobService

    service = JobService(make_settings(folder, use_mock_analysis=False))
    consumer = service.start_consumer()
    try:
        view = service.submit(name, iter([clip.read_bytes()]))
        deadline = time.monotonic() + 240
        while service.get(view.id).status not in ("finished", "failed", "canceled"):
            assert time.monotonic() < deadline, "the analysis did not finish in time"
            threading.Event().wait(0.2)
        assert service.get(view.id).status == "finished", service.get(view.id).message
    finally:
        consumer.stop(5)
        service.close()
    return folder


@pytest.fixture(scope="session")
def analysed_library(tmp_path_factory: pytest.TempPathFactory, squats_clip: Path) -> Path:
    """A data folder holding the squats clip analysed by the real model (done once)."""
    return analyse_into(
        tmp_path_factory.mktemp("analysed") / "data", "pose_squats.mp4", squats_clip
    )


@pytest.fixture
def library_copy(analysed_library: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(analysed_library, target)
    return target


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tear Qt down while Python is still whole.

    Widgets left to the interpreter's final garbage collection are destroyed in an
    arbitrary order after Qt's own objects; the app itself (``main.py``) deletes its
    window before exit, and the tests do the same here.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    app.shutdown()


def choose_in_next_popup(text: str) -> list[str]:
    """Choose the enabled action ``text`` in the next popup menu to open, as a coach
    would; returns the list it appends ``text`` to once chosen (wait on it). Call it just
    before the click that opens the menu: a menu runs its own event loop."""
    from PySide6.QtWidgets import QApplication, QMenu

    chosen: list[str] = []
    tries = [0]

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            tries[0] += 1
            if tries[0] < 100:
                QTimer.singleShot(20, choose)
            return
        for action in menu.actions():
            if action.text() == text and action.isEnabled():
                chosen.append(text)
                action.trigger()
        menu.close()

    QTimer.singleShot(0, choose)
    return chosen
