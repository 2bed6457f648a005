"""The coach's marks in the desktop player (issue 12), in the real window, offscreen:
an angle drawn by three clicks measures the picture's pixels, a line and a note, undo,
the list that seeks, the marks shown on replay, saved and shown again after reopening.

The clip is portrait (90x160) in a wide player, so the picture has bars at its sides:
the clicks are placed from the picture's own pixels, computed here from the fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QInputDialog

from gui.marks import HOLD_MS, MARK_COLOR, MarksToolbar
from gui.player import VideoCanvas
from tests.media import SMALL, make_clip

WIDTH, HEIGHT = SMALL  # the clip's picture: 90x160


def widget_point(canvas: Any, x_px: float, y_px: float) -> QPoint:
    """Picture pixel (x, y) → where it is in the widget: fitted, centred, aspect kept."""
    scale = min(canvas.width() / WIDTH, canvas.height() / HEIGHT)
    left = (canvas.width() - WIDTH * scale) / 2
    top = (canvas.height() - HEIGHT * scale) / 2
    return QPoint(round(left + x_px * scale), round(top + y_px * scale))


def type_in_next_dialog(text: str) -> list[str]:
    """Type ``text`` into the next text dialog to open and press OK, as a coach would."""
    typed: list[str] = []
    tries = [0]

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            tries[0] += 1
            if tries[0] < 200:
                QTimer.singleShot(20, answer)
            return
        dialog.setTextValue(text)
        typed.append(text)
        dialog.accept()

    QTimer.singleShot(0, answer)
    return typed


def open_finished_clip(qtbot: Any, desktop: Any, clip: Path) -> str:
    window = desktop.window
    window.resize(1200, 860)
    window.import_files([clip])
    qtbot.waitUntil(lambda: len(window.library.views) == 1, timeout=10_000)
    (job_id,) = window.library.views
    qtbot.waitUntil(lambda: window.marks.editable, timeout=60_000)  # result and marks in
    return str(job_id)


def toolbar(window: Any) -> MarksToolbar:
    return window.player.findChild(MarksToolbar)


def test_a_coach_draws_marks_that_are_saved_and_shown_on_replay(
    qtbot: Any, open_desktop: Any, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4")
    data_dir = tmp_path / "data"
    desktop = open_desktop(data_dir)
    window = desktop.window
    job_id = open_finished_clip(qtbot, desktop, clip)
    player, canvas, marks, tools = (
        window.player,
        window.player.canvas,
        window.marks,
        toolbar(window),
    )
    assert marks.marks == [] and not tools.undo_button.isEnabled()
    player.seek_frame(3)
    qtbot.waitUntil(lambda: player.index == 3, timeout=10_000)
    frame_ms = player.current_ms
    assert frame_ms > 0

    # An angle: an arm straight up, the vertex, an arm up and to the right at 45°.
    # Measured on the normalised square it would read 60.6°: the pixels make it 45°.
    qtbot.mouseClick(tools.tool_buttons["angle"], Qt.MouseButton.LeftButton)
    assert marks.tool == "angle"
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 45, 40))
    bar = QPoint(max(2, widget_point(canvas, 0, 0).x() // 2), canvas.height() // 2)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=bar)  # beside the picture: ignored
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 45, 100))
    assert marks.marks == []  # two points so far
    with qtbot.waitSignal(window.marks_saved, timeout=10_000):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 85, 60))
    (angle,) = marks.marks
    assert angle.kind == "angle" and angle.t_ms == frame_ms and marks.tool == ""
    assert abs((marks.degrees(angle) or 0.0) - 45.0) < 1.0
    (x, y) = angle.points[1]
    assert abs(x - 0.5) < 0.02 and abs(y - 100 / HEIGHT) < 0.02

    # A line, taken back with Undo; then a note typed into its dialog.
    qtbot.mouseClick(tools.tool_buttons["line"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 10, 150))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 80, 150))
    assert [mark.kind for mark in marks.marks] == ["angle", "line"]  # same frame: as drawn
    qtbot.mouseClick(tools.undo_button, Qt.MouseButton.LeftButton)
    assert [mark.kind for mark in marks.marks] == ["angle"]
    qtbot.mouseClick(tools.tool_buttons["note"], Qt.MouseButton.LeftButton)
    typed = type_in_next_dialog("Knees over toes")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 20, 20))
    assert typed == ["Knees over toes"]
    note = next(mark for mark in marks.marks if mark.kind == "note")
    assert note.text == "Knees over toes" and note.t_ms == frame_ms
    qtbot.waitUntil(
        lambda: {m.id for m in desktop.service.marks(job_id)} == {angle.id, note.id},
        timeout=10_000,
    )

    # On replay: not before the frame, full on it, fading just after, gone after HOLD_MS.
    vertex = widget_point(canvas, 45, 100)
    for index, expected in ((0, None), (3, 1.0), (4, "fading"), (9, None)):
        player.seek_frame(index)
        qtbot.waitUntil(lambda i=index: player.index == i, timeout=10_000)
        shown = dict((mark.id, opacity) for mark, opacity in marks.visible(player.current_ms))
        since = player.current_ms - frame_ms
        if expected is None:
            assert angle.id not in shown, (index, since)
        elif expected == "fading":
            assert 0 < since < HOLD_MS and 0.25 <= shown[angle.id] < 1.0
        else:
            assert shown[angle.id] == 1.0
            painted = canvas.grab().toImage().pixelColor(vertex)  # the vertex's dot
            assert _near(painted, MARK_COLOR), painted.name()

    # The list: time, kind, degrees or words; a click seeks to the mark's frame.
    window.analysis_tabs.setCurrentWidget(window.marks_list)
    rows = [window.marks_list.list.item(i).text() for i in range(window.marks_list.list.count())]
    at = f"00:00.{frame_ms:03.0f}"
    assert sorted(rows) == [f"{at}  Angle 45°", f"{at}  Note: Knees over toes"]
    player.seek_frame(0)
    qtbot.waitUntil(lambda: player.index == 0, timeout=10_000)
    first = window.marks_list.list.item(0)
    qtbot.mouseClick(
        window.marks_list.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.marks_list.list.visualItemRect(first).center(),
    )
    qtbot.waitUntil(lambda: player.index == 3, timeout=10_000)
    # Delete the one selected; Clear all; Undo brings them back (and each is saved).
    window.marks_list.list.setCurrentItem(first)
    qtbot.mouseClick(window.marks_list.delete_button, Qt.MouseButton.LeftButton)
    assert len(marks.marks) == 1
    qtbot.mouseClick(window.marks_list.clear_button, Qt.MouseButton.LeftButton)
    assert marks.marks == [] and not window.marks_list.clear_button.isEnabled()
    qtbot.mouseClick(tools.undo_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.marks_saved, timeout=10_000):
        qtbot.mouseClick(tools.undo_button, Qt.MouseButton.LeftButton)
    assert {m.id for m in desktop.service.marks(job_id)} == {angle.id, note.id}

    # Reopened, the job shows the same marks.
    desktop.close()
    again = open_desktop(data_dir)
    again.window.resize(1200, 860)
    qtbot.waitUntil(lambda: job_id in again.window.library.views, timeout=10_000)
    again.window.library.select_job(job_id)
    qtbot.waitUntil(lambda: again.window.marks.editable, timeout=20_000)
    assert again.window.marks.marks == marks.marks
    assert again.window.marks_list.list.count() == 2


def _near(color: QColor, target: QColor, tolerance: int = 40) -> bool:
    return all(
        abs(a - b) <= tolerance
        for a, b in zip(color.getRgb()[:3], target.getRgb()[:3], strict=True)
    )


def test_a_click_maps_to_the_picture_through_its_bars_and_the_mirror(qtbot: Any) -> None:
    canvas = VideoCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 200)
    picture = QImage(100, 100, QImage.Format.Format_RGB888)
    canvas.show_frame(picture, None, ())
    # A square picture in a 400x200 widget: 200x200 from x = 100, bars left and right.
    assert canvas.to_picture(QPointF(150, 50)) == (0.25, 0.25)
    assert canvas.to_picture(QPointF(300, 200)) == (1.0, 1.0)
    assert canvas.to_picture(QPointF(50, 50)) is None  # on the left bar
    assert canvas.to_picture(QPointF(350, 100)) is None  # on the right bar
    canvas.mirrored = True
    assert canvas.to_picture(QPointF(150, 50)) == (0.75, 0.25)
    point = canvas.to_widget(0.75, 0.25)  # and back where it was clicked
    assert (point.x(), point.y()) == (150.0, 50.0)
