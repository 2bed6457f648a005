"""Grab docs/images/marks.png: the desktop player with an angle, a line and a note.

The real window over a real back-end on a scratch data folder: the clip is analysed
(by the real model unless ``--mock``), the player goes to the frame where the hips
are lowest, and the marks are drawn the way a coach draws them, by clicks on the
picture (the note's words typed into its dialog): the knee's angle from the
dancer's own hip, knee and ankle, a plumb line down from the knee, a note by the head. Run it
on an X server, as the other screenshots were taken::

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/marks_screenshot.py \\
        ../shared/data/pose_squats.mp4 --out docs/images/marks.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qt_waits import grab, wait_until  # noqa: E402  (beside this script)

LEFT_HIP, LEFT_KNEE, LEFT_ANKLE, NOSE = 23, 25, 27, 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "clip", type=Path, nargs="?", default=REPO.parent / "shared/data/pose_squats.mp4"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs/images/marks.png")
    parser.add_argument("--mock", action="store_true", help="the mock pose backend (fast)")
    args = parser.parse_args()

    import numpy as np
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QInputDialog

    from dance_analysis.config import Settings
    from gui.main_window import MainWindow
    from main import DesktopBackend

    _application = QApplication.instance() or QApplication(sys.argv[:1])  # alive till the end

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(scratch),
            use_mock_analysis=args.mock,
            api_host="127.0.0.1",
            api_port=0,
        )
        backend = DesktopBackend(settings)
        window = MainWindow(settings, backend.service, backend.access, api_url=backend.api_url)
        try:
            window.resize(1440, 960)
            window.show()
            window.import_files([args.clip])
            wait_until(lambda: window.marks.editable)
            player, canvas = window.player, window.player.canvas
            result = player.result
            assert result is not None
            hips = result.landmarks[:, LEFT_HIP, 1]
            frame = int(np.nanargmax(hips))  # the deepest moment of the squat
            player.seek_frame(frame)
            wait_until(lambda: player.index == frame)
            points = result.landmarks[frame]
            window.analysis_tabs.setCurrentWidget(window.marks_list)
            window.studio.setSizes([300, 1140])  # the picture first
            window.player_split.setSizes([700, 150])
            player.overlay_box.setChecked(False)  # the marks alone over the dancer

            def click(x: float, y: float) -> None:
                QTest.mouseClick(
                    canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(x, y).toPoint()
                )

            def draw(tool: str, *at: tuple[float, float]) -> None:
                window.marks.choose(tool)
                for x, y in at:
                    click(x, y)

            def answer_note() -> None:
                dialog = QApplication.activeModalWidget()
                if not isinstance(dialog, QInputDialog):
                    QTimer.singleShot(20, answer_note)
                    return
                dialog.setTextValue("Knees out over the toes")
                dialog.accept()

            hip, knee, ankle, nose = (
                tuple(points[i]) for i in (LEFT_HIP, LEFT_KNEE, LEFT_ANKLE, NOSE)
            )
            draw("angle", hip, knee, ankle)
            draw("line", knee, (knee[0], min(ankle[1] + 0.03, 1.0)))  # a plumb line: knee over toes
            QTimer.singleShot(0, answer_note)
            draw("note", (min(nose[0] + 0.08, 0.9), nose[1]))
            wait_until(lambda: len(window.marks.marks) == 3)
            wait_until(lambda: not window.tasks.busy, timeout_s=30)  # saved
            grab(window, args.out)
            print(f"saved {args.out} ({len(window.marks.marks)} marks at frame {frame + 1})")
        finally:
            window.close()
            window.shutdown()
            backend.stop(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
