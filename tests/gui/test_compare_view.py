"""The Compare tab in the real window, offscreen, over two clips analysed by the real model.

The student is the squats clip (``analysed_library``); the teacher is a trimmed,
mirrored, smaller copy of it, analysed once per session, so the time map is not the
identity and the pictures differ in size. ``DANCE_DOCS_IMAGES=docs/images pytest
tests/gui/test_compare_view.py -k count_sheet`` remakes ``desktop-compare.png``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from dance_analysis.compare.features import PART_NAMES
from gui.compare_view import (
    SCORE_COLORS,
    CompareView,
    CountSheet,
    score_color,
    segment_title,
    timing_text,
)
from gui.wording import feedback_text
from tests.gui.conftest import analyse_into, choose_in_next_popup
from tests.gui.test_window import expected_points
from tests.media import make_clip

pytestmark = pytest.mark.slow

TEACHER_NAME = "teacher_mirrored.mp4"


@pytest.fixture(scope="session")
def compare_library(analysed_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analysed squats clip plus a teacher: 2–11 s of it, flipped, 360x640 (real model)."""
    folder = tmp_path_factory.mktemp("compare") / "data"
    shutil.copytree(analysed_library, folder)
    clip = make_clip(
        folder.parent / TEACHER_NAME,
        start_s=2.0,
        seconds=9.0,
        size=None,
        extra=("-vf", "scale=360:640,hflip"),
    )
    return analyse_into(folder, TEACHER_NAME, clip)


def _open_pair(
    qtbot: Any, open_desktop: Any, compare_library: Path, tmp_path: Path
) -> tuple[Any, Any, Any]:
    """The window over a copy of the two analysed clips, once the library lists both:
    (desktop, the student's job, the teacher's job)."""
    data_dir = tmp_path / "data"
    shutil.copytree(compare_library, data_dir)
    desktop = open_desktop(data_dir=data_dir)
    jobs = {job.filename: job for job in desktop.service.list()}
    qtbot.waitUntil(lambda: len(desktop.window.library.finished_jobs()) == 2, timeout=10_000)
    return desktop, jobs["pose_squats.mp4"], jobs[TEACHER_NAME]


@pytest.fixture
def compared(qtbot: Any, open_desktop: Any, compare_library: Path, tmp_path: Path) -> Any:
    """The window with the student's clip compared with the teacher's, as a coach does it:
    select the clip, press "Compare with…", pick the teacher in the dialog."""
    desktop, student, teacher = _open_pair(qtbot, open_desktop, compare_library, tmp_path)
    window = desktop.window
    library = window.library
    library.select_job(student.id)
    assert library.compare_button.isEnabled() and library.compare_action.isEnabled()

    qtbot.mouseClick(library.compare_button, Qt.MouseButton.LeftButton)
    chooser = window.teacher_chooser
    assert chooser is not None and chooser.isVisible()
    assert chooser.names() == [TEACHER_NAME]  # the other finished clips, not the student
    chooser.choose(TEACHER_NAME)
    view: CompareView = window.compare_view
    with qtbot.waitSignal(view.comparison_shown, timeout=90_000):
        chooser.accept()
        # Shown at once while the service's comparison job runs.
        assert window.tabs.currentWidget() is view
        assert view.title.text().startswith(f"Comparing pose_squats.mp4 with {TEACHER_NAME}")
    assert window.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: view.student.index == 0 and view.teacher.index >= 0, timeout=10_000)
    assert view.data is not None
    assert (view.data.student_id, view.data.teacher_id) == (student.id, teacher.id)
    # The desktop compares through the job service, as a phone does: a comparison job of
    # its own, with the downloads a phone gets, and the result shown is that job's.
    job = desktop.service.get(view.data.job_id)
    assert job.kind == "comparison" and job.status == "finished"
    assert (job.student_job_id, job.reference_job_id) == (student.id, teacher.id)
    assert {"result", "ghost"} <= set(job.artifacts)
    return desktop


def teacher_frame_for(view: CompareView) -> int:
    """The teacher's frame that belongs beside the student's frame on screen."""
    assert view.data is not None and view.teacher.result is not None
    return view.teacher.result.frame_at(view.data.teacher_ms(view.student.current_ms))


def test_one_transport_drives_both_players_through_the_time_map(qtbot: Any, compared: Any) -> None:
    view: CompareView = compared.window.compare_view
    student, teacher = view.student, view.teacher
    data = view.data
    assert data is not None
    pairs = data.map_ms
    assert pairs.shape[1] == 2 and len(pairs) >= 2
    assert np.all(np.diff(pairs[:, 0]) >= 0)
    # The teacher's clip starts 2 s into the student's: the map is not the identity.
    assert abs(data.teacher_ms(6000.0) - 6000.0) > 1000.0
    # The teacher's side has no transport of its own; the student's is the one.
    for control in (teacher.play_button, teacher.slider, teacher.speed_box):
        assert control.isHidden()
    assert not student.play_button.isHidden()
    assert teacher.mirror_box.isChecked() == bool(data.comparison["mirrored"])
    assert teacher.canvas.mirrored == bool(data.comparison["mirrored"])

    # Seek (the slider), step, and play: each student frame moves the teacher.
    student.slider.setValue(30)
    qtbot.waitUntil(lambda: student.index == 30, timeout=5_000)
    qtbot.waitUntil(lambda: teacher.index == teacher_frame_for(view), timeout=5_000)
    seek_target = teacher_frame_for(view)
    assert seek_target > 0
    student.step(5)
    qtbot.waitUntil(lambda: student.index == 35, timeout=5_000)
    qtbot.waitUntil(lambda: teacher.index == teacher_frame_for(view), timeout=5_000)
    assert teacher.index != seek_target
    # The player's keys work on this tab too (the Studio's rest while it is hidden).
    window = compared.window
    window.activateWindow()  # the offscreen platform leaves it inactive after the dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    qtbot.keyClick(student.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: student.index == 36, timeout=5_000)
    qtbot.waitUntil(lambda: teacher.index == teacher_frame_for(view), timeout=5_000)
    student.seek_ms(data.segments[0]["start_ms"] + 3000.0)
    qtbot.waitUntil(
        lambda: student.index == student.result.frame_at(data.segments[0]["start_ms"] + 3000.0),
        timeout=5_000,
    )
    qtbot.waitUntil(lambda: teacher.index == teacher_frame_for(view), timeout=5_000)

    seen: list[tuple[int, int]] = []
    teacher.position_changed.connect(lambda index, _t: seen.append((student.index, index)))
    student.set_speed(2.0)
    student.seek_frame(0)
    qtbot.waitUntil(lambda: student.index == 0, timeout=5_000)
    student.play()
    qtbot.waitUntil(lambda: student.index >= 20, timeout=20_000)
    student.pause()
    qtbot.waitUntil(lambda: teacher.index == teacher_frame_for(view), timeout=5_000)
    assert len({teacher_index for _, teacher_index in seen}) >= 5  # the teacher moved along
    assert not teacher.playing  # it follows; it never runs a clock of its own


def test_count_sheet_rows_colours_and_seeking(qtbot: Any, compared: Any, tmp_path: Path) -> None:
    window = compared.window
    view: CompareView = window.compare_view
    data = view.data
    assert data is not None
    sheet = view.sheet
    segments = data.segments
    assert len(segments) >= 2  # a 13 s clip without music: 4 s windows
    assert sheet.rowCount() == len(segments)
    overall = data.comparison["overall"]
    assert f"Overall {overall:.0f} / 100" in view.summary.text()
    assert ("mirrored:" in view.summary.text()) == bool(data.comparison["mirrored"])

    for row, segment in enumerate(segments):
        assert sheet.item(row, 0).text() == segment_title(segment["label"])
        assert sheet.item(row, 2).text() == timing_text(segment["timing_ms"])
        score_item = sheet.item(row, 1)
        assert score_item.text() == f"{segment['score']:.0f}"
        assert score_item.background().color() == score_color(round(segment["score"]))
        parts = data.parts_of(row)
        assert set(parts) == set(PART_NAMES)  # per part, per segment, from the engine
        for k, part in enumerate(PART_NAMES):
            item = sheet.item(row, 3 + k)
            if parts[part] is None:
                assert item.text() == "–"
                continue
            assert item.text() == f"{parts[part]:.0f}"
            assert item.background().color() == score_color(round(parts[part]))
            assert item.font().bold() == (part == segment["worst_part"])

    # A result.json from before segments carried ``parts``: the sheet then names the
    # worst part and leaves the others empty.
    old = {
        **data.comparison,
        "segments": [{k: v for k, v in s.items() if k != "parts"} for s in segments],
    }
    bare = CountSheet()
    bare.show_comparison(dataclasses.replace(data, comparison=old, segment_parts=None))
    for row, segment in enumerate(segments):
        texts = [bare.item(row, 3 + k).text() for k in range(len(PART_NAMES))]
        worst = PART_NAMES.index(segment["worst_part"])
        assert texts == ["worst" if k == worst else "–" for k in range(len(PART_NAMES))]
        assert bare.item(row, 1).text() == f"{segment['score']:.0f}"
    bare.deleteLater()

    # Click the last row: the student goes to its start, the teacher to the mapped time.
    row = len(segments) - 1
    start_ms = float(segments[row]["start_ms"])
    rect = sheet.visualItemRect(sheet.item(row, 1))
    qtbot.mouseClick(sheet.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    student, teacher = view.student, view.teacher
    qtbot.waitUntil(lambda: student.index == student.result.frame_at(start_ms), timeout=5_000)
    assert student.index > 0
    qtbot.waitUntil(lambda: teacher.index == teacher_frame_for(view), timeout=5_000)
    teacher_start = teacher.result.frame_at(data.teacher_ms(start_ms))
    assert teacher.index == teacher_start
    assert sheet.marked_row == row  # the sheet marks the segment playing

    # The comparison's feedback, in words; a click seeks both players too.
    texts = [view.feedback.item(k).text() for k in range(view.feedback.count())]
    assert texts == [feedback_text(entry) for entry in data.feedback] and texts
    earlier = min(data.feedback, key=lambda entry: entry["time_ms"])
    assert student.result.frame_at(float(earlier["time_ms"])) != student.index
    view.lower_tabs.setCurrentWidget(view.feedback)
    item = view.feedback.item(data.feedback.index(earlier))
    item_rect = view.feedback.visualItemRect(item)
    qtbot.mouseClick(view.feedback.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    earlier_ms = float(earlier["time_ms"])
    qtbot.waitUntil(lambda: student.index == student.result.frame_at(earlier_ms), timeout=5_000)
    qtbot.waitUntil(lambda: teacher.index == teacher_frame_for(view), timeout=5_000)
    playing = [k for k, seg in enumerate(segments) if seg["start_ms"] <= student.current_ms]
    assert sheet.marked_row == (playing[-1] if playing else -1)
    view.lower_tabs.setCurrentWidget(view.sheet)

    view.ghost_box.setChecked(True)  # the picture in the docs shows the ghost too
    window.resize(1400, 900)
    picture = window.grab()
    assert picture.save(str(tmp_path / "desktop-compare.png"))
    folder = os.environ.get("DANCE_DOCS_IMAGES")
    if folder:
        shutil.copyfile(tmp_path / "desktop-compare.png", Path(folder) / "desktop-compare.png")


def ghost_colored_pixels(canvas: Any) -> int:
    image = canvas.grab().toImage()  # the grab paints, which records the drawn points
    target = canvas.ghost_color.rgb()
    return sum(
        image.pixel(x, y) == target
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    )


def test_ghost_toggle_draws_the_teachers_skeleton_over_the_student(
    qtbot: Any, compared: Any
) -> None:
    view: CompareView = compared.window.compare_view
    data = view.data
    assert data is not None and data.ghost is not None
    assert data.ghost.shape == (data.student.frame_count, 33, 2)
    student, canvas = view.student, view.student.canvas
    assert view.ghost_box.isEnabled() and not view.ghost_box.isChecked()
    student.slider.setValue(30)
    qtbot.waitUntil(lambda: student.index == 30, timeout=5_000)
    assert ghost_colored_pixels(canvas) == 0 and canvas.drawn_ghost_points == []
    own = [(p.x(), p.y()) for p in canvas.drawn_points]
    assert own  # the student's own skeleton

    view.ghost_box.setChecked(True)
    width, height = canvas.image.width(), canvas.image.height()
    for index in (30, 31):
        if index == 31:
            student.step(1)  # the ghost follows the frame on screen
            qtbot.waitUntil(lambda: student.index == 31, timeout=5_000)
        assert ghost_colored_pixels(canvas) > 20
        ghost = np.array([(p.x(), p.y()) for p in canvas.drawn_ghost_points])
        expected = expected_points(canvas, data.ghost[index], width, height)
        assert len(ghost) == len(expected) > 20
        np.testing.assert_allclose(ghost, expected, atol=0.5)
        assert canvas.drawn_points  # drawn beside the student's skeleton, not instead
    assert not np.allclose(expected, expected_points(canvas, data.ghost[30], width, height))
    assert [(p.x(), p.y()) for p in canvas.drawn_points] != own  # frame 31 now

    view.ghost_box.setChecked(False)
    assert ghost_colored_pixels(canvas) == 0 and canvas.drawn_ghost_points == []
    assert canvas.drawn_points


def test_right_click_compares_and_deleting_a_clip_closes_the_comparison(
    qtbot: Any, compared: Any
) -> None:
    window = compared.window
    view: CompareView = window.compare_view
    assert view.data is not None
    student_id, teacher_id = view.data.student_id, view.data.teacher_id
    tree = window.library.tree
    item = window.library.item_for(student_id)
    window.library.select_job(teacher_id)  # the right click makes the clip under it current
    chosen = choose_in_next_popup("Compare with…")
    point = tree.visualItemRect(item).center()
    # What the platform sends on a right click (a synthetic click sends no menu event).
    viewport = tree.viewport()
    menu_event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point)
    )
    QApplication.sendEvent(viewport, menu_event)
    qtbot.waitUntil(lambda: chosen == ["Compare with…"], timeout=5_000)
    assert window.library.current_job().id == student_id
    chooser = window.teacher_chooser
    assert chooser is not None and chooser.names() == [TEACHER_NAME]
    chooser.reject()

    window.delete_job(teacher_id)
    assert view.data is None and view.sheet.rowCount() == 0
    assert view.student.frame_count == 0 and view.teacher.frame_count == 0
    assert "deleted" in view.title.text()
    qtbot.waitUntil(lambda: window.library.item_for(teacher_id) is None, timeout=10_000)
    window.library.select_job(student_id)
    assert not window.library.compare_button.isEnabled()  # no other finished clip left


def test_a_failed_comparison_job_says_why_on_the_tab(
    qtbot: Any, open_desktop: Any, compare_library: Path, tmp_path: Path
) -> None:
    """The teacher's result.json is gone from the store: the comparison job fails, and
    the tab and the banner say so in words instead of waiting for ever."""
    desktop, student, teacher = _open_pair(qtbot, open_desktop, compare_library, tmp_path)
    window = desktop.window
    teacher_result = desktop.service.open_artifact(teacher.id, "result").local_path
    assert teacher_result is not None
    Path(teacher_result).unlink()

    window.start_comparison(student, teacher)
    view: CompareView = window.compare_view
    qtbot.waitUntil(lambda: "was not compared" in view.title.text(), timeout=60_000)
    assert "result.json is missing" in view.title.text()
    assert view.data is None and view.sheet.rowCount() == 0
    failed = [j for j in desktop.service.list() if j.kind == "comparison"]
    assert [(j.status, j.reason) for j in failed] == [("failed", "object_missing")]
    assert any("pose_squats.mp4" in m for m in window.banner.messages)


def test_score_colours_and_words() -> None:
    assert score_color(80.0) == SCORE_COLORS["good"] == score_color(97.5)
    assert score_color(79.9) == SCORE_COLORS["fair"] == score_color(60.0)
    assert score_color(59.9) == SCORE_COLORS["poor"] == score_color(0.0)
    assert score_color(None) is None
    assert timing_text(120.4) == "120 ms behind"
    assert timing_text(-80.0) == "80 ms ahead"
    assert timing_text(0.2) == "on time"
    assert timing_text(None) == "–"
    assert segment_title("counts 9–16") == "Counts 9–16 of phrase 2"
    assert segment_title("0:04–0:08") == "0:04–0:08"


def test_a_comparison_job_is_not_listed_as_a_clip(
    qtbot: Any, open_desktop: Any, compare_library: Path, tmp_path: Path
) -> None:
    """A phone's or the API's comparison plays the student's clip: listing it would show
    the same clip twice. Its job ends, and the library still lists the two clips."""
    desktop, student, teacher = _open_pair(qtbot, open_desktop, compare_library, tmp_path)
    library = desktop.window.library
    comparison = desktop.service.compare(student.id, teacher.id)
    qtbot.waitUntil(
        lambda: (
            library.views.get(comparison.id) is None
            and desktop.service.get(comparison.id).status == "finished"
        ),
        timeout=60_000,
    )
    assert comparison.id not in library.views

    # The phone's comparison opens on the desktop from the student's clip, not made again.
    library.select_job(teacher.id)
    assert not library.open_comparison_action.isEnabled()  # the teacher was not compared
    library.select_job(student.id)
    qtbot.waitUntil(library.open_comparison_action.isEnabled, timeout=10_000)
    view: CompareView = desktop.window.compare_view
    with qtbot.waitSignal(view.comparison_shown, timeout=30_000):
        library.open_comparison_action.trigger()
    assert view.data is not None and view.data.job_id == comparison.id
    assert view.sheet.rowCount() == len(view.data.segments) > 0
    assert [j.id for j in desktop.service.list() if j.kind == "comparison"] == [comparison.id]
    assert {view.filename for view in library.finished_jobs()} == {
        "pose_squats.mp4", TEACHER_NAME,
    }  # fmt: skip
