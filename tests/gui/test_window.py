"""The real window, offscreen, over a real job service: import, play, analyse, phones."""

from __future__ import annotations

import socket
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from dance_analysis.video.frames import FrameDecoder
from gui.frames import to_qimage
from gui.player import SIDE_COLORS
from gui.result import ClipResult
from gui.wording import angle_label


def finished_job(desktop: Any) -> Any:
    jobs = [job for job in desktop.service.list() if job.status == "finished"]
    assert jobs, "the library holds no finished job"
    return jobs[0]


def show_result(qtbot: Any, desktop: Any, job_id: str) -> None:
    """Select the job in the library and wait for its result to be in the player."""
    window = desktop.window
    qtbot.waitUntil(lambda: window.library.item_for(job_id) is not None, timeout=10_000)
    with qtbot.waitSignal(window.result_shown, timeout=20_000):
        window.library.select_job(job_id)
    qtbot.waitUntil(lambda: window.player.index == 0, timeout=10_000)


def expected_points(canvas: Any, landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Where the joints should be in the widget: the frame fitted, centred, aspect kept."""
    scale = min(canvas.width() / width, canvas.height() / height)
    left = (canvas.width() - width * scale) / 2
    top = (canvas.height() - height * scale) / 2
    visible = ~np.isnan(landmarks).any(axis=1)
    xy = landmarks[visible]
    return np.column_stack([left + xy[:, 0] * width * scale, top + xy[:, 1] * height * scale])


def drawn(canvas: Any) -> np.ndarray:
    canvas.grab()  # forces a paint, which records where the joints went
    return np.array([(p.x(), p.y()) for p in canvas.drawn_points])


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_dropped_clip_is_analysed_and_steps_frame_by_frame(
    qtbot: Any, open_desktop: Any, squats_clip: Path
) -> None:
    desktop = open_desktop(use_mock_analysis=False)
    window = desktop.window
    window.resize(1280, 800)

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(squats_clip))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(window, drop)

    # The import selects the new clip; the result arrives by itself when the job ends.
    with qtbot.waitSignal(window.result_shown, timeout=180_000) as shown:
        pass
    job = desktop.service.get(shown.args[0])
    assert job.status == "finished" and job.filename == "pose_squats.mp4"
    item = window.library.item_for(job.id)
    assert item is not None and item.text(1) == "Ready"
    qtbot.waitUntil(lambda: item.text(2) != "", timeout=10_000)  # duration from the thumbnail
    assert item.text(2) == "0:13.0"

    player = window.player
    result = player.result
    assert result is not None and result.frame_count == 65
    qtbot.waitUntil(lambda: player.index == 0, timeout=10_000)
    decoder = FrameDecoder(squats_clip)
    try:
        canvas = player.canvas
        positions = []
        for step, expected_index in ((1, 1), (1, 2), (1, 3), (-1, 2)):
            qtbot.keyClick(canvas, Qt.Key.Key_Right if step > 0 else Qt.Key.Key_Left)
            qtbot.waitUntil(lambda i=expected_index: player.index == i, timeout=5_000)
            assert player.frame_label.text() == f"Frame {expected_index + 1} / 65"
            # The picture is exactly that frame of the file.
            assert canvas.image == to_qimage(decoder.frame(expected_index))
            points = drawn(canvas)
            expected = expected_points(canvas, result.landmarks[expected_index], 720, 1280)
            assert points.shape == expected.shape and len(points) > 20
            np.testing.assert_allclose(points, expected, atol=0.01)
            positions.append(points)
        # Stepping moves the skeleton with the dancer (a squat: the hips travel).
        assert np.abs(positions[2] - positions[0]).max() > 1.0
        np.testing.assert_allclose(positions[3], positions[1])

        # The joints are really painted at those places, the dancer's left and right in
        # the overlay video's two colours.
        picture = canvas.grab().toImage()
        for side in ("left", "right"):
            hip = result.joints.index(f"{side}_hip")
            x, y = expected_points(canvas, result.landmarks[2][hip : hip + 1], 720, 1280)[0]
            colour = picture.pixelColor(round(x), round(y))
            assert colour.name() == SIDE_COLORS[side].name(), side

        # Overlay off: nothing drawn; mirror: x flipped around the picture's centre.
        player.overlay_box.setChecked(False)
        assert len(drawn(canvas)) == 0
        player.overlay_box.setChecked(True)
        player.mirror_box.setChecked(True)
        mirrored = drawn(canvas)
        rect = canvas.image_rect()
        np.testing.assert_allclose(
            mirrored[:, 0], 2 * rect.x() + rect.width() - positions[1][:, 0], atol=0.01
        )
    finally:
        decoder.close()


def test_feedback_and_plot_seek_the_player_and_the_cursor_follows(
    qtbot: Any, open_desktop: Any, library_copy: Path
) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    job = finished_job(desktop)
    show_result(qtbot, desktop, job.id)
    player, result = window.player, window.player.result
    assert isinstance(result, ClipResult)

    # The plot has one curve per angle (the picked joints' shown) and a cursor at the playhead.
    assert set(window.angles.curves) == set(result.angles) and len(result.angles) >= 8
    for index in (5, 17, 40):
        player.seek_frame(index)
        qtbot.waitUntil(lambda i=index: player.index == i, timeout=5_000)
        assert window.angles.cursor_ms == pytest.approx(result.t_ms[index])

    # Every feedback item seeks the player to its moment.
    feedback = window.feedback
    assert result.feedback, "the squats clip should give at least one feedback item"
    assert feedback.count() == len(result.feedback)
    for row in (feedback.count() - 1, 0):
        item = feedback.item(row)
        target = result.frame_at(float(result.feedback[row]["time_ms"]))
        player.seek_frame(30 if target != 30 else 10)
        qtbot.waitUntil(lambda: player.index in (10, 30), timeout=5_000)
        rect = feedback.visualItemRect(item)
        qtbot.mouseClick(feedback.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.waitUntil(lambda t=target: player.index == t, timeout=5_000)
        assert window.angles.cursor_ms == pytest.approx(result.t_ms[target])

    # A click on the plot seeks the player to that time.
    window.analysis_tabs.setCurrentWidget(window.angles)
    plot = window.angles.plot
    plot.resize(800, 300)
    view_box = window.angles.rows["knee"].getViewBox()
    t_s = float(result.t_ms[50]) / 1000.0
    scene_point = view_box.mapViewToScene(QPointF(t_s, float(np.mean(view_box.viewRange()[1]))))
    widget_point = plot.mapFromScene(scene_point)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    qtbot.waitUntil(lambda: abs(player.index - 50) <= 1, timeout=5_000)


def test_playback_speed_loop_and_summary(qtbot: Any, open_desktop: Any, library_copy: Path) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    show_result(qtbot, desktop, finished_job(desktop).id)
    player = window.player

    # A–B loop between frames 3 and 6 at 2×: playback stays inside it and comes round.
    player.seek_frame(3)
    qtbot.waitUntil(lambda: player.index == 3)
    player.set_loop_a()
    player.seek_frame(6)
    qtbot.waitUntil(lambda: player.index == 6)
    player.set_loop_b()
    assert player.loop_label.text() == "Loop 4–7"
    player.set_speed(2.0)
    seen: list[int] = []
    player.position_changed.connect(lambda index, _t: seen.append(index))
    player.play()
    qtbot.waitUntil(lambda: seen.count(3) >= 2, timeout=10_000)  # wrapped around
    player.pause()
    # Inside the loop, forward until it wraps to its first frame. A busy machine may
    # make the player drop a frame to keep time, so not every frame need be seen.
    assert set(seen) <= {3, 4, 5, 6} and max(seen) > 3
    assert all(later > earlier or later == 3 for earlier, later in pairwise(seen))

    # The summary lists every angle with its range, by its name in words.
    summary = window.summary
    names = [summary.item(row, 0).text() for row in range(summary.rowCount())]
    for angle in player.result.summary:
        assert angle_label(angle) in names


def test_library_search_delete_and_reanalyse(
    qtbot: Any, open_desktop: Any, library_copy: Path, squats_clip: Path, tmp_path: Path
) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    library = window.library
    other = tmp_path / "warmup_jump.mp4"
    other.write_bytes(squats_clip.read_bytes()[:-1] + b"\0")  # other bytes: not a retry
    window.import_files([other])
    qtbot.waitUntil(lambda: len(library.views) == 2, timeout=10_000)
    library.search.setText("warmup")
    assert library.visible_names() == ["warmup_jump.mp4"]
    library.search.setText("")
    assert sorted(library.visible_names()) == ["pose_squats.mp4", "warmup_jump.mp4"]

    # Delete: gone from the library and from the service.
    new_id = next(job_id for job_id, v in library.views.items() if v.filename == "warmup_jump.mp4")
    qtbot.waitUntil(
        lambda: desktop.service.get(new_id).status in ("finished", "failed"), timeout=60_000
    )
    window.delete_job(new_id)
    qtbot.waitUntil(lambda: new_id not in library.views, timeout=10_000)
    assert all(job.id != new_id for job in desktop.service.list())

    # Analyse again: a new job for the same clip replaces the old one and finishes.
    old = finished_job(desktop)
    window.reanalyse(old)
    qtbot.waitUntil(lambda: old.id not in library.views and len(library.views) == 1, timeout=10_000)
    (new_id,) = library.views
    qtbot.waitUntil(lambda: library.views[new_id].status == "finished", timeout=60_000)
    assert library.item_for(new_id).text(1) == "Ready"


def test_phones_panel_pairs_lists_and_revokes(qtbot: Any, open_desktop: Any) -> None:
    import httpx

    desktop = open_desktop()
    phones = desktop.window.phones
    assert desktop.backend.api_url is not None
    assert str(desktop.backend.port) in phones.address_label.text()
    qtbot.waitUntil(lambda: phones.code is not None, timeout=10_000)
    assert not phones.qr_label.pixmap().isNull()
    assert phones.code in phones.qr_label.toolTip()
    # Read on a pool thread ("S3 sync: checking…" until then).
    qtbot.waitUntil(lambda: "not configured" in phones.s3_label.text(), timeout=10_000)

    # A phone pairs with the code shown (over HTTP, on the side), and shows up.
    base = f"http://127.0.0.1:{desktop.backend.port}"
    response = httpx.post(
        f"{base}/api/v1/pair", json={"code": phones.code, "device_name": "Ana's phone"}
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    # Without being asked: the used code gives way to a fresh one, the phone is listed.
    used = phones.code
    qtbot.waitUntil(lambda: phones.code not in (None, used), timeout=10_000)
    qtbot.waitUntil(lambda: phones.table.rowCount() == 1, timeout=10_000)
    assert phones.code in phones.qr_label.toolTip()
    assert phones.table.item(0, 0).text() == "Ana's phone"
    assert (
        httpx.get(f"{base}/api/v1/jobs", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )

    button = phones.table.cellWidget(0, 3)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: phones.table.item(0, 3).text() == "revoked", timeout=10_000)
    assert (
        httpx.get(f"{base}/api/v1/jobs", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_port_taken_is_shown_in_the_window(qtbot: Any, open_desktop: Any) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        desktop = open_desktop(api_port=port)
        assert desktop.backend.api_url is None
        assert any("already used" in m and str(port) in m for m in desktop.window.banner.messages)
        assert desktop.window.banner.isVisible()
        assert "cannot connect" in desktop.window.phones.address_label.text()


def test_refused_clip_and_unreachable_s3_are_explained(
    qtbot: Any, open_desktop: Any, tmp_path: Path
) -> None:
    desktop = open_desktop(
        s3_bucket="clips", s3_mode="sync", s3_endpoint_url="http://127.0.0.1:9",
        s3_access_key="minio-user", s3_secret_key="minio-password",
        s3_connect_timeout_s=0.5, s3_max_attempts=1,
    )  # fmt: skip
    window = desktop.window
    qtbot.waitUntil(
        lambda: any("Cloud storage unreachable" in m for m in window.banner.messages),
        timeout=20_000,
    )
    assert "unreachable" in window.phones.s3_label.text()

    notes = tmp_path / "notes.mp4"
    notes.write_text("this is not a video")
    window.import_files([notes])
    qtbot.waitUntil(lambda: any("notes.mp4" in m for m in window.banner.messages), timeout=30_000)
    message = next(m for m in window.banner.messages if "notes.mp4" in m)
    assert "video" in message.lower()


def test_quit_with_a_job_running_leaves_no_job_started(
    qtbot: Any, open_desktop: Any, squats_clip: Path
) -> None:
    desktop = open_desktop(use_mock_analysis=False)
    window = desktop.window
    window.import_files([squats_clip])
    qtbot.waitUntil(
        lambda: any(v.status == "started" for v in window.library.views.values()), timeout=60_000
    )
    port = desktop.backend.port
    desktop.close(grace_s=0.0)  # what quitting does: the window, then the backend
    from dance_analysis.jobs.service import JobService
    from tests.settings import make_settings

    service = JobService(make_settings(desktop.backend.settings.data_dir))
    try:
        assert all(job.status != "started" for job in service.list())
    finally:
        service.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again


def test_clip_with_sound_plays_without_an_audio_device(
    qtbot: Any, open_desktop: Any, tmp_path: Path, squats_clip: Path
) -> None:
    from tests.media import with_tone

    clip = with_tone(squats_clip, tmp_path / "with_sound.mp4")
    desktop = open_desktop()  # mock poses: this test is about the player
    window = desktop.window
    window.import_files([clip])
    with qtbot.waitSignal(window.result_shown, timeout=120_000):
        pass
    player = window.player
    assert player.result is not None and player.result.video["has_audio"] is True
    assert player._audio._player is not None  # the sound track was opened
    player.play()
    qtbot.waitUntil(lambda: player.index >= 3, timeout=10_000)  # the clock runs on
    player.set_speed(0.5)
    qtbot.waitUntil(lambda: player.index >= 5, timeout=10_000)
    player.pause()
    assert not player.playing
