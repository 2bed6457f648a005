"""Waiting inside a running Qt event loop, for the screenshot scripts beside this file."""

from __future__ import annotations

from collections.abc import Callable


def wait_until(done: Callable[[], bool], timeout_s: float = 300.0, step_ms: int = 50) -> None:
    """Run the event loop until ``done()`` holds; exit the script if it never does."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    waited = [0.0]

    def check() -> None:
        waited[0] += step_ms / 1000.0
        if done() or waited[0] > timeout_s:
            loop.quit()
        else:
            QTimer.singleShot(step_ms, check)

    QTimer.singleShot(0, check)
    loop.exec()
    if not done():
        raise SystemExit("timed out waiting for the window (or its jobs)")


def settle(ms: int = 600) -> None:
    """Let the last paint reach the screen before a grab."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    QApplication.processEvents()
