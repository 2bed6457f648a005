"""While the app analyses and serves a phone, the GUI thread never waits on a service.

Properties, not timings: every call the window makes into the job service or the
access service is recorded with its thread (``tests/gui/conftest.py``) and none may
run on the GUI thread; the player decodes each picture asked for once, and while it
is busy only the newest request is kept. How long the event loop really stalls on a
given machine is measured by ``benchmarks/gui_responsiveness.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from dance_analysis.video.frames import FrameDecoder
from gui.frames import FrameServer
from gui.player import PlayerView
from tests.gui.conftest import on_gui_thread


def phone(base: str, code: str, clip: Path, outcome: dict[str, Any]) -> None:
    """What a phone does: pair, upload (upload-url → PUT → confirm), wait, fetch the result."""
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            paired = client.post("/api/v1/pair", json={"code": code, "device_name": "phone"})
            paired.raise_for_status()
            client.headers["Authorization"] = f"Bearer {paired.json()['token']}"
            ticket = client.post(
                "/api/v1/analyze/upload-url",
                params={"filename": "phone_clip.mp4", "content_type": "video/mp4"},
            ).json()
            put = client.put(
                ticket["upload_url"],
                content=clip.read_bytes(),
                headers={"Content-Type": "video/mp4", "Authorization": ""},
            )
            put.raise_for_status()
            outcome["job_id"] = ticket["job_id"]
            confirm = client.post(
                "/api/v1/analyze/confirm",
                params={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]},
            )
            assert confirm.status_code == 202, confirm.text
            deadline = time.monotonic() + 240
            while True:
                status = client.get(f"/api/v1/analyze/{ticket['job_id']}/status").json()
                if status["status"] in ("finished", "failed", "canceled"):
                    break
                assert time.monotonic() < deadline, "the phone's job did not end"
                threading.Event().wait(0.3)
            outcome["status"] = status["status"]
            result = client.get(f"/api/v1/analyze/{ticket['job_id']}/result").json()
            outcome["num_frames"] = result["num_frames"]
            got = client.get(result["downloads"]["result"], headers={"Authorization": ""})
            outcome["result_bytes"] = len(got.content) if got.status_code == 200 else 0
    except Exception as error:  # reported by the test on the GUI thread
        outcome["error"] = repr(error)


def test_no_service_call_on_the_gui_thread_while_analysing_and_serving_a_phone(
    qtbot: Any, open_desktop: Any, squats_clip: Path
) -> None:
    desktop = open_desktop(use_mock_analysis=False)
    window = desktop.window
    qtbot.waitUntil(lambda: window.phones.code is not None, timeout=10_000)
    first_code = window.phones.code
    outcome: dict[str, Any] = {}
    client = threading.Thread(
        target=phone,
        args=(f"http://127.0.0.1:{desktop.backend.port}", first_code, squats_clip, outcome),
        name="phone",
    )
    try:
        window.import_files([squats_clip])  # the coach's own clip, analysed meanwhile
        client.start()
        with qtbot.waitSignal(window.result_shown, timeout=240_000) as shown:
            pass
        qtbot.waitUntil(lambda: not client.is_alive(), timeout=240_000)
    finally:
        client.join(30)

    assert "error" not in outcome, outcome.get("error")
    assert outcome["status"] == "finished" and outcome["num_frames"] == 65
    assert outcome["result_bytes"] > 10_000
    # The phone's clip appeared in the library by itself, and finished there too; the
    # code it used was replaced on screen.
    qtbot.waitUntil(lambda: outcome["job_id"] in window.library.views, timeout=5_000)
    assert window.library.views[outcome["job_id"]].status == "finished"
    qtbot.waitUntil(lambda: window.phones.code not in (None, first_code), timeout=10_000)

    # Pictures decoded, counted: each step decodes exactly the one picture asked for.
    player = window.player
    qtbot.waitUntil(lambda: player.index == 0, timeout=10_000)
    before = player.decoded
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    for expected in (1, 2, 3):
        qtbot.keyClick(window.library.tree, Qt.Key.Key_Right)
        qtbot.waitUntil(lambda i=expected: player.index == i, timeout=5_000)
    player.seek_frame(3)  # on screen already: nothing to decode
    assert player.decoded == before + 3

    # Switching to the phone's clip and back goes through the service too.
    window.library.select_job(outcome["job_id"])
    qtbot.waitUntil(lambda: player.index == 0 and player.result is not None, timeout=20_000)
    window.library.select_job(shown.args[0])
    qtbot.waitUntil(lambda: player.index == 0 and player.result is not None, timeout=20_000)

    names = {call.name for call in desktop.calls}
    assert {
        "service.subscribe", "service.list", "service.submit", "service.source_path",
        "service.open_artifact", "access.new_pairing_code", "access.code_is_open",
        "access.list_devices",
    } <= names, names  # fmt: skip
    assert on_gui_thread(desktop.calls) == []


def test_scrubbing_decodes_only_the_newest_request(qtbot: Any, squats_clip: Path) -> None:
    held, release = threading.Event(), threading.Event()

    class HeldDecoder(FrameDecoder):
        """The real decoder, held on its first picture until the test lets it go."""

        def frame(self, index: int) -> Any:
            if not release.is_set():
                held.set()
                release.wait(30)
            return super().frame(index)

    server = FrameServer(HeldDecoder)
    shown: list[int] = []
    server.frame_decoded.connect(lambda _generation, index, _image: shown.append(index))
    try:
        with qtbot.waitSignal(server.opened, timeout=10_000):
            server.open(squats_clip)
        server.request(0)
        qtbot.waitUntil(held.is_set, timeout=5_000)
        for index in range(1, 41):  # the user drags the slider across 40 frames
            server.request(index)
        release.set()
        qtbot.waitUntil(lambda: 40 in shown, timeout=10_000)
        assert shown == [0, 40]
        assert server.decoded == 2
    finally:
        release.set()
        server.stop()


def test_a_picture_of_the_previous_clip_never_shows_after_switching(
    qtbot: Any, squats_clip: Path, tmp_path: Path
) -> None:
    from tests.media import make_clip

    other = make_clip(tmp_path / "other.mp4")  # 90x160: told apart by its size
    held, release = threading.Event(), threading.Event()

    class HeldDecoder(FrameDecoder):
        def frame(self, index: int) -> Any:
            if self.info.path == squats_clip and not release.is_set():
                held.set()
                release.wait(30)
            return super().frame(index)

    player = PlayerView(decoder_factory=HeldDecoder)
    qtbot.addWidget(player)
    sizes: list[tuple[int, int]] = []

    def shown(*_: Any) -> None:
        image = player.canvas.image
        assert image is not None
        sizes.append((image.width(), image.height()))

    player.position_changed.connect(shown)
    try:
        player.open_clip(squats_clip, None)
        qtbot.waitUntil(held.is_set, timeout=10_000)  # its first picture is being decoded
        player.show_loading("other.mp4")
        assert player.canvas.image is None and "Loading other.mp4" in player.canvas.message
        player.open_clip(other, None)
        release.set()
        qtbot.waitUntil(lambda: player.index == 0 and bool(sizes), timeout=10_000)
        player.step(1)
        qtbot.waitUntil(lambda: player.index == 1, timeout=10_000)
        assert sizes == [(90, 160), (90, 160)]
    finally:
        release.set()
        player.shutdown()
