"""GUI fixtures: the real window on the offscreen platform, over a real job service.

The window is built the way ``main.py`` builds it (:class:`main.DesktopBackend`:
job service, access, API server on loopback, consumer). Every test fails if it
leaves a thread running or a Qt timer active.
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


@dataclass
class Desktop:
    backend: DesktopBackend
    window: Any  # gui.main_window.MainWindow

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
    gc.collect()
    running, active = [], []
    for thing in gc.get_objects():
        try:
            if isinstance(thing, QThread) and thing.isRunning():
                running.append(thing.objectName())
            elif isinstance(thing, QTimer) and thing.isActive():
                active.append(thing.interval())
        except RuntimeError:  # its C++ side is already gone
            continue
    assert not running, f"QThreads left running: {running}"
    assert not active, f"QTimers left active (intervals ms): {active}"


@pytest.fixture
def open_desktop(qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., Desktop]]:
    """``open_desktop(data_dir=None, **settings)``: the window over a running backend."""
    from gui.app import settle_heap
    from gui.main_window import MainWindow

    opened: list[Desktop] = []

    def open_(data_dir: Path | None = None, **overrides: Any) -> Desktop:
        settings = make_settings(data_dir or tmp_path / "data", **overrides)
        backend = DesktopBackend(settings)
        window = MainWindow(
            settings,
            backend.service,
            backend.access,
            api_url=backend.api_url,
            startup_problems=backend.problems,
            settings_path=tmp_path / "settings.ini",
        )
        window.show()
        settle_heap()  # as run_app does once the window is built
        desktop = Desktop(backend, window)
        opened.append(desktop)
        return desktop

    yield open_
    for desktop in opened:
        desktop.close(grace_s=5.0)
        desktop.window.deleteLater()
    opened.clear()
    # Delete the windows now, while Qt is alive, not in the interpreter's final GC.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture(scope="session")
def analysed_library(tmp_path_factory: pytest.TempPathFactory, squats_clip: Path) -> Path:
    """A data folder holding the squats clip analysed by the real model (done once)."""
    import time

    from dance_analysis.jobs.service import JobService

    folder = tmp_path_factory.mktemp("analysed") / "data"
    service = JobService(make_settings(folder, use_mock_analysis=False))
    consumer = service.start_consumer()
    try:
        with squats_clip.open("rb") as handle:
            view = service.submit("pose_squats.mp4", iter([handle.read()]))
        deadline = time.monotonic() + 240
        while service.get(view.id).status not in ("finished", "failed", "canceled"):
            assert time.monotonic() < deadline, "the analysis did not finish in time"
            threading.Event().wait(0.2)
        assert service.get(view.id).status == "finished", service.get(view.id).message
    finally:
        consumer.stop(5)
        service.close()
    return folder


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
