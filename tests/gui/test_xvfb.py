"""The app as a user starts it (``python main.py``), on a real X server (Xvfb, xcb)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed; the real-window test cannot run")
    read_end, write_end = os.pipe()
    # -displayfd: Xvfb picks a free display number and writes it when it is ready.
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as ready:
            number = ready.readline().strip()
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def test_main_opens_the_window_on_x_and_shows_an_analysed_clip(
    x_display: str, tmp_path: Path, squats_clip: Path
) -> None:
    from PySide6.QtGui import QImage

    shots = tmp_path / "shots"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANCE_", "QT_"))}
    env.update(
        DISPLAY=x_display,
        QT_QPA_PLATFORM="xcb",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # no stored settings of the user's
        DANCE_ALLOWED_HOSTS='["127.0.0.1", "localhost"]',
    )
    data = tmp_path / "data"
    args = [
        *(sys.executable, "main.py", "gui", "--data-dir", str(data), "--port", "0"),
        *("--host", "127.0.0.1", "--open", str(squats_clip), "--screenshots", str(shots)),
    ]
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in shots.iterdir()) == [
        "feedback.png",
        "phones.png",
        "settings.png",
        "studio.png",
        "summary.png",
    ], done.stderr[-3000:]

    image = QImage(str(shots / "studio.png"))
    assert (image.width(), image.height()) == (1280, 800)
    # Not blank: a real window has many colours (video, skeleton, plot, text).
    small = image.scaled(160, 100)
    colours = {small.pixel(x, y) for x in range(160) for y in range(100)}
    assert len(colours) > 200, f"only {len(colours)} colours: the window looks blank"

    # Quitting left no job started and the result is there.
    from dance_analysis.jobs.service import JobService
    from tests.settings import make_settings

    service = JobService(make_settings(data))
    try:
        jobs = service.list()
        assert [job.status for job in jobs] == ["finished"]
    finally:
        service.close()
