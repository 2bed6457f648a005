"""Waiting inside a running Qt event loop and grabbing a window, for the screenshot
scripts beside this file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


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


def grab(window: Any, out: Path) -> None:
    """Save what the screen shows of ``window`` (its own rendering off-screen) as ``out``."""
    settle()
    out.parent.mkdir(parents=True, exist_ok=True)
    screen = window.screen()
    pixmap = screen.grabWindow(window.winId()) if screen is not None else window.grab()
    pixmap.save(str(out))
