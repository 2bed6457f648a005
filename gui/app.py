"""Run the desktop app: a QApplication around :class:`gui.main_window.MainWindow`.

:func:`run_app` returns when the window closes; the caller (``main.py``) then stops
the consumer and the API server, so quitting leaves no job ``started`` and no port
bound.
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.settings_view import APPLICATION, ORGANIZATION


def settle_heap() -> None:
    """Move what start-up built (modules, services, the window) out of the GC's way.

    A full collection scans every tracked object; with FastAPI, SQLAlchemy, PyAV and
    pyqtgraph loaded that took 90–130 ms here, on whichever thread triggered it, so
    the window froze for that long now and then. Objects that live as long as the
    process need no scanning: ``gc.freeze()`` parks them (CPython ≥ 3.7).
    """
    gc.collect()
    gc.freeze()


def run_app(
    settings: Any,
    service: Any,
    access: Any,
    *,
    api_url: str | None,
    startup_problems: list[str],
    open_clips: list[Path] | None = None,
    screenshots: Path | None = None,
    quit_after_s: float | None = None,
) -> int:
    """Show the window until the user quits.

    ``screenshots``: once a result is shown, save each main view into that folder and
    quit (for the documentation and the real-window test). ``quit_after_s``: quit by
    itself after that many seconds of running its loop (the bundle's smoke test).
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    window = MainWindow(
        settings,
        service,
        access,
        api_url=api_url,
        startup_problems=startup_problems,
    )
    settle_heap()
    # Qt's loop does not run Python signal handlers by itself: wake it now and then.
    previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    if screenshots is not None:
        folder = screenshots
        window.result_shown.connect(
            lambda _job: QTimer.singleShot(800, lambda: _capture_views_and_quit(window, folder))
        )
    if quit_after_s is not None:
        QTimer.singleShot(max(0, round(quit_after_s * 1000)), app.quit)
    window.show()
    if open_clips:
        window.import_files(open_clips)
    try:
        code = app.exec()
    finally:
        wake.stop()
        signal.signal(signal.SIGINT, previous)
        window.shutdown()
        window.deleteLater()
    return int(code)


SCREENSHOTS = ("studio", "feedback", "summary", "students", "phones", "settings")


def _capture_views_and_quit(window: MainWindow, folder: Path) -> None:
    """Save each main view as the screen shows it, then quit (documentation and tests)."""
    folder.mkdir(parents=True, exist_ok=True)

    def show_feedback() -> None:
        window.tabs.setCurrentIndex(0)
        window.analysis_tabs.setCurrentWidget(window.feedback)
        window.feedback.setCurrentRow(0)
        first = window.feedback.item(0)
        if first is not None:
            window.feedback.itemClicked.emit(first)

    def show_summary() -> None:
        window.tabs.setCurrentIndex(0)
        window.analysis_tabs.setCurrentWidget(window.summary)
        # As a coach reading the numbers would: the table dragged taller.
        window.player_split.setSizes([300, 450])

    show: dict[str, Callable[[], None]] = {
        "studio": lambda: window.tabs.setCurrentIndex(0),
        "feedback": show_feedback,
        "summary": show_summary,
        "students": lambda: window.tabs.setCurrentWidget(window.student_view),
        "phones": lambda: window.tabs.setCurrentWidget(window.phones),
        "settings": lambda: window.tabs.setCurrentWidget(window.settings_view),
    }
    # The students' page once a clip names a student (a library of lessons, as in the docs).
    pending = [n for n in SCREENSHOTS if n != "students" or window.library.students()]

    def next_view() -> None:
        if not pending:
            window.close()
            app = QApplication.instance()
            if app is not None:
                app.quit()
            return
        name = pending[0]
        show[name]()
        QTimer.singleShot(600, grab)

    def grab() -> None:
        name = pending.pop(0)
        screen = window.screen()
        # The screen's own pixels for the window: what the user saw, not a re-render.
        pixmap = screen.grabWindow(window.winId()) if screen is not None else window.grab()
        pixmap.save(str(folder / f"{name}.png"))
        next_view()

    next_view()
