"""What tripped a coach up (issue 7, §4), tried in the real window, offscreen."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QWidget

from dance_analysis.analysis.feedback import format_time
from gui.library import THUMB_PX
from tests.gui.test_window import finished_job, show_result
from tests.media import make_clip


def press(qtbot: Any, key: Qt.Key) -> None:
    """A key press as the keyboard sends it: to whichever widget has the focus."""
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, key)


def focus(qtbot: Any, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=5_000)


def test_player_keys_work_anywhere_in_the_studio_and_buttons_do_not_take_them(
    qtbot: Any, open_desktop: Any, library_copy: Path
) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    show_result(qtbot, desktop, finished_job(desktop).id)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    player = window.player

    # Wherever the coach last clicked, the arrows step the player.
    expected = 0
    for widget in (window.library.tree, window.feedback, window.angles.plot, player.canvas):
        if widget in (window.feedback, window.angles.plot):
            window.analysis_tabs.setCurrentWidget(
                widget.parentWidget() if widget is window.angles.plot else widget
            )
        focus(qtbot, widget)
        press(qtbot, Qt.Key.Key_Right)
        expected += 1
        qtbot.waitUntil(lambda e=expected: player.index == e, timeout=5_000)
    press(qtbot, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: player.index == expected - 1, timeout=5_000)
    # Also right after choosing the Studio tab (the focus is then on the tab bar).
    focus(qtbot, window.tabs.tabBar())
    press(qtbot, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: player.index == expected, timeout=5_000)
    # On another tab the keys are that tab's: the player does not move.
    window.tabs.setCurrentWidget(window.settings_view)
    focus(qtbot, window.tabs.tabBar())
    press(qtbot, Qt.Key.Key_Left)
    QApplication.processEvents()
    assert player.index == expected and player._requested == expected
    window.tabs.setCurrentIndex(0)

    # Clicking a button leaves the keyboard where it was: Space then plays, and does
    # not press the button again.
    focus(qtbot, window.library.tree)
    qtbot.mouseClick(player.forward_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: player.index == expected, timeout=5_000)
    assert QApplication.focusWidget() is window.library.tree
    press(qtbot, Qt.Key.Key_Space)
    assert player.playing
    press(qtbot, Qt.Key.Key_Space)
    assert not player.playing

    # Home and End; A and B mark a loop.
    press(qtbot, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: player.index == player.frame_count - 1, timeout=5_000)
    press(qtbot, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: player.index == 0, timeout=5_000)
    press(qtbot, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: player.index == 1, timeout=5_000)
    press(qtbot, Qt.Key.Key_A)
    for _ in range(3):
        press(qtbot, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: player.index == 4, timeout=5_000)
    press(qtbot, Qt.Key.Key_B)
    assert (player.loop_a, player.loop_b) == (1, 4)
    assert player.loop_label.text() == "Loop 2–5"

    # Typing in the search box is typing, not player keys.
    player.clear_loop()
    focus(qtbot, window.library.search)
    qtbot.keyClicks(window.library.search, "ab")
    assert window.library.search.text() == "ab"
    assert (player.loop_a, player.loop_b) == (None, None)


def test_switching_clips_clears_the_old_picture_at_once(
    qtbot: Any, open_desktop: Any, library_copy: Path, tmp_path: Path
) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    squats = finished_job(desktop)
    window.import_files([make_clip(tmp_path / "warmup.mp4")])
    qtbot.waitUntil(
        lambda: any(
            v.filename == "warmup.mp4" and v.status == "finished"
            for v in window.library.views.values()
        ),
        timeout=60_000,
    )
    warmup = next(v for v in window.library.views.values() if v.filename == "warmup.mp4")
    show_result(qtbot, desktop, squats.id)
    assert window.player.canvas.image is not None

    window.library.select_job(warmup.id)
    # Synchronously, before any event is processed: no picture of the old clip, and
    # the canvas says what is coming.
    canvas = window.player.canvas
    assert canvas.image is None
    assert canvas.message == "Loading warmup.mp4…"
    assert window.summary.rowCount() == 0 and window.feedback.count() == 0
    canvas.grab()  # paints without error in that state

    qtbot.waitUntil(lambda: window.player.index == 0 and canvas.image is not None, timeout=10_000)
    assert (canvas.image.width(), canvas.image.height()) == (90, 160)


def test_a_click_in_the_joint_picker_hides_the_row_and_does_not_seek(
    qtbot: Any, open_desktop: Any, library_copy: Path
) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    show_result(qtbot, desktop, finished_job(desktop).id)
    window.analysis_tabs.setCurrentWidget(window.angles)
    angles = window.angles
    plot = angles.plot
    qtbot.waitUntil(lambda: plot.isVisible(), timeout=5_000)
    knee = angles.boxes["knee"]
    assert knee.text() == "Knee" and angles.shown_parts == ["knee", "hip"]
    seeks: list[float] = []
    angles.seek_requested.connect(seeks.append)

    qtbot.mouseClick(knee, Qt.MouseButton.LeftButton, pos=QPoint(8, knee.height() // 2))
    assert angles.shown_parts == ["hip"]
    assert angles.curves["left_knee"].scene() is None
    qtbot.mouseClick(knee, Qt.MouseButton.LeftButton, pos=QPoint(8, knee.height() // 2))
    assert angles.shown_parts == ["knee", "hip"]
    assert angles.curves["left_knee"].scene() is plot.scene()
    assert seeks == []
    assert window.player.index == 0
    # Control: a click on a row of the plot itself still seeks.
    view_box = angles.rows["hip"].getViewBox()
    click_at = view_box.sceneBoundingRect().center()
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.mapFromScene(click_at))
    assert len(seeks) == 1


def test_library_names_stay_visible_while_analysing_at_the_minimum_width(
    qtbot: Any, open_desktop: Any, library_copy: Path
) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    library = window.library
    job = finished_job(desktop)
    qtbot.waitUntil(lambda: library.item_for(job.id) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: library.item_for(job.id).text(2) != "", timeout=10_000)
    window.resize(window.minimumSize())
    qtbot.waitUntil(lambda: window.width() == window.minimumWidth(), timeout=5_000)
    needed = THUMB_PX + library.tree.fontMetrics().horizontalAdvance(job.filename)

    for state in (
        dataclasses.replace(job, status="started", stage="render", progress=100),
        dataclasses.replace(
            job, status="failed", reason="corrupt_stream",
            message="“pose_squats.mp4” is damaged partway through and cannot be read to the end.",
        ),
        job,
    ):  # fmt: skip
        library.update_job(state)
        QApplication.processEvents()
        name_width = library.tree.header().sectionSize(0)
        assert name_width >= needed, (state.status, name_width, needed)
    assert library.item_for(job.id).toolTip(1) == "Ready"
    # Every button under the list keeps its whole label.
    for button in (library.import_button, library.compare_button, library.share_button,
                   library.reanalyse_button, library.delete_button):  # fmt: skip
        assert button.width() >= button.sizeHint().width(), button.text()


def test_summary_and_feedback_read_as_a_coach_reads(
    qtbot: Any, open_desktop: Any, library_copy: Path
) -> None:
    desktop = open_desktop(library_copy)
    window = desktop.window
    show_result(qtbot, desktop, finished_job(desktop).id)
    result = window.player.result
    summary = window.summary
    lines = [summary.line(row) for row in range(summary.rowCount())]

    knee = result.summary["left_knee"]
    assert (
        f"Left knee angle | lowest–highest | {knee['min']:.0f}–{knee['max']:.0f}° "
        f"(average {knee['mean']:.0f}°)"
    ) in lines
    for heading in ("Joint angles", "Movement", "Smoothness", "Left–right symmetry", "Balance"):
        assert heading in lines
    assert len(lines) >= len(result.summary) + 10
    for line in lines:  # no program names: no snake_case, no dotted keys
        assert not re.search(r"[a-z]_[a-z]|[a-z]\.[a-z]", line), line

    feedback = window.feedback
    assert feedback.count() == len(result.feedback) > 0
    for row, entry in enumerate(result.feedback):
        text = feedback.item(row).text()
        assert "_" not in text and "[" not in text, text
        assert text.count(format_time(float(entry["time_ms"]))) == 1, text
