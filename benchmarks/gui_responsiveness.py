"""How long does the desktop app's event loop stall while it analyses and serves a phone?

    .venv/bin/python benchmarks/gui_responsiveness.py [--clip PATH] [--platform offscreen]

Builds the real window over the real backend (job service, access, API server on
loopback, consumer; the real pose model), then, with a 5 ms GUI-thread timer
recording the gaps between its ticks: imports the clip (the coach's own analysis)
while a phone-like client on another thread pairs, uploads the same clip
(upload-url → PUT → confirm), waits for its result and downloads it; then steps the
player through 30 frames. Prints the number of ticks, the longest gap and the 99th
percentile. A figure, never asserted: the tests check the property behind it (no
service call on the GUI thread, tests/gui/test_responsive.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DANCE_SHARED_DATA", REPO.parent / "shared" / "data"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=SHARED / "pose_squats.mp4")
    parser.add_argument("--platform", default="offscreen", help="QT_QPA_PLATFORM")
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    sys.path.insert(0, str(REPO))

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from dance_analysis.config import Settings
    from gui.app import settle_heap
    from gui.main_window import MainWindow
    from main import DesktopBackend
    from tests.gui.test_responsive import phone

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="gui-bench-") as folder:
        settings = Settings(
            _env_file=None,
            data_dir=Path(folder) / "data",
            use_mock_analysis=False,
            api_host="127.0.0.1",
            api_port=0,
            allowed_hosts=["127.0.0.1", "localhost"],
        )
        backend = DesktopBackend(settings)
        window = MainWindow(
            settings,
            backend.service,
            backend.access,
            api_url=backend.api_url,
            startup_problems=backend.problems,
            settings_path=Path(folder) / "settings.ini",
        )
        window.show()
        settle_heap()

        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000.0)
            last[0] = now

        def wait_until(done: Any, timeout_s: float) -> None:
            deadline = time.monotonic() + timeout_s
            while not done():
                if time.monotonic() > deadline:
                    raise TimeoutError("the app did not get there in time")
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(5)
        timer.timeout.connect(tick)
        shown: list[str] = []
        window.result_shown.connect(shown.append)
        outcome: dict[str, Any] = {}
        try:
            wait_until(lambda: window.phones.code is not None, 30)
            client = threading.Thread(
                target=phone,
                args=(f"http://127.0.0.1:{backend.port}", window.phones.code, args.clip, outcome),
                name="phone",
            )
            started = time.perf_counter()
            last[0] = started
            timer.start()
            window.import_files([args.clip])
            client.start()
            wait_until(lambda: bool(shown) and not client.is_alive(), 600)
            for index in range(1, 31):
                window.player.seek_frame(index)
                wait_until(lambda i=index: window.player.index == i, 30)
            elapsed = time.perf_counter() - started
        finally:
            timer.stop()
            window.close()
            backend.stop(10)
            window.deleteLater()
            app.processEvents()
        if "error" in outcome:
            print(f"the phone failed: {outcome['error']}")
            return 1
        ordered = sorted(gaps)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(f"clip: {args.clip.name}; phone job {outcome.get('status')}; {elapsed:.1f} s")
        print(
            f"event loop: {len(gaps)} ticks of 5 ms, median gap {statistics.median(gaps):.1f} ms, "
            f"p99 {p99:.1f} ms, longest {ordered[-1]:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
