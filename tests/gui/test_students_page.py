"""Students in the desktop app (issue 12, point 3): the library grouped by student, the
"Student…" dialog, and a student's page of progress plots (offscreen, pytest-qt).

The library and the page are fed the engine's own ``JobView`` and ``Lesson`` values,
made here with numbers checked by eye; one window test runs the real service (the
documented mock pose backend) behind them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from dance_analysis.jobs.states import JobStatus
from dance_analysis.jobs.students import Lesson
from dance_analysis.jobs.views import JobView
from gui.library import THUMB_PX, LibraryView
from gui.student_view import StudentView
from tests.gui.conftest import choose_in_next_popup
from tests.media import make_clip

DAY = dt.timedelta(days=1)
START = dt.datetime(2026, 9, 1, 17, 0, tzinfo=dt.timezone.utc)


def _view(n: int, student: str | None = None, class_name: str | None = None) -> JobView:
    return JobView(
        id=f"00000000-0000-4000-8000-{n:012d}", status=JobStatus.FINISHED, stage=None,
        progress=100, filename=f"clip{n}.mp4", source_key=f"uploads/{n}/clip{n}.mp4",
        size_bytes=1, sha256=None, reason=None, message=None, attempts=1,
        created_at=START + n * DAY, started_at=None, ended_at=None, num_frames=10,
        student=student, class_name=class_name,
    )  # fmt: skip


def _lesson(n: int, score: float | None, offset: float | None, knee: float) -> Lesson:
    return Lesson(
        job_id=_view(n).id, created_at=START + n * DAY, filename=f"clip{n}.mp4",
        class_name="Juniors", overall_score=score, comparison_job_id=None,
        timing_offset_ms=offset, tempo_bpm=120.0, coverage=1.0,
        angles={
            "left_knee": {"min": 90.0, "max": 90.0 + knee, "range": knee, "mean": 120.0},
            "right_hip": {"min": 100.0, "max": 150.0, "range": 50.0, "mean": 125.0},
        },
    )  # fmt: skip


def test_the_library_groups_clips_by_student(qtbot: Any) -> None:
    library = LibraryView()
    qtbot.addWidget(library)
    library.set_jobs([_view(1), _view(2)])
    assert not library.grouped and library.groups() == {}  # nobody named: one plain list
    assert library.visible_names() == ["clip2.mp4", "clip1.mp4"]

    library.set_jobs([_view(3, "Anna Lee", "Juniors"), _view(4, "ben")])
    library.update_job(_view(5, "anna LEE"))  # a new clip of Anna's, another spelling
    assert library.grouped
    assert library.groups() == {
        "anna LEE · Juniors (2 clips)": ["clip5.mp4", "clip3.mp4"],
        "ben (1 clip)": ["clip4.mp4"],
        "No student (2 clips)": ["clip2.mp4", "clip1.mp4"],
    }
    assert library.students() == ["anna LEE", "ben"]

    # Naming a clip moves it under its student; the current clip stays current, quietly.
    library.select_job(_view(1).id)
    selected: list[Any] = []
    library.job_selected.connect(selected.append)
    library.update_job(_view(1, "Ben"))
    assert library.groups()["ben (2 clips)"] == ["clip4.mp4", "clip1.mp4"]  # newest's name
    current = library.current_job()
    assert current is not None and current.id == _view(1).id and selected == []

    # Under a header each clip's row still shows its whole thumbnail.
    library.show()
    picture = QImage(36, 64, QImage.Format.Format_RGB32)
    picture.fill(QColor("teal"))
    library.set_thumbnail(_view(3).id, picture, 6.0)
    row = library.tree.visualItemRect(library.item_for(_view(3).id))
    assert row.height() >= THUMB_PX, row

    library.search.setText("clip4")
    header = library.header_for("anna lee")
    assert header is not None and header.isHidden()
    assert library.visible_names() == ["clip4.mp4"]
    library.search.clear()

    library.group_toggle.setChecked(False)  # one list again, newest first
    assert library.groups() == {} and library.visible_names() == [
        f"clip{n}.mp4" for n in (5, 4, 3, 2, 1)
    ]
    library.group_toggle.setChecked(True)
    library.remove_job(_view(4).id)
    assert "Ben (1 clip)" in library.groups()

    # A right click on a clip offers "Student…"; on a header, "Show progress".
    asked: list[Any] = []
    library.student_edit_requested.connect(asked.append)
    item = library.item_for(_view(2).id)
    assert item is not None
    library.tree.scrollToItem(item)
    chosen = choose_in_next_popup("Student…")
    library.tree.customContextMenuRequested.emit(library.tree.visualItemRect(item).center())
    qtbot.waitUntil(lambda: chosen == ["Student…"], timeout=5_000)
    assert [view.id for view in asked] == [_view(2).id]
    pages: list[str] = []
    library.student_page_requested.connect(pages.append)
    header = library.header_for("Anna Lee")
    assert header is not None
    library.tree.itemDoubleClicked.emit(header, 0)
    assert pages == ["anna LEE"]


def test_the_student_page_plots_progress_and_opens_a_lesson(qtbot: Any) -> None:
    page = StudentView()
    qtbot.addWidget(page)
    page.resize(900, 700)
    page.show()
    lessons = [
        _lesson(1, 60.0, 80.0, 40.0),
        _lesson(2, None, 40.0, 50.0),
        _lesson(3, 75.5, -5.0, 65.0),
    ]
    page.show_progress("Anna Lee", lessons)
    assert page.score_plot.values() == [60.0, 75.5]  # a lesson never compared: no point
    assert page.timing_plot.values() == [80.0, 40.0, -5.0]
    assert page.chosen_angle == "left_knee" and page.chosen_statistic == "range"
    assert page.angle_plot.values() == [40.0, 50.0, 65.0]
    page.choose_angle("left_knee", "max")
    assert page.angle_plot.values() == [130.0, 140.0, 155.0]
    page.choose_angle("right_hip")
    assert page.angle_plot.values() == [50.0, 50.0, 50.0]
    assert page.table.topLevelItemCount() == 3
    assert page.table.topLevelItem(1).text(2) == "–"  # type: ignore[union-attr]
    timing = [page.table.topLevelItem(row).text(3) for row in range(3)]  # type: ignore[union-attr]
    assert timing == ["80 ms late", "40 ms late", "5 ms early"]  # was "80 ms", "-5 ms"

    # A click on a point opens that lesson.
    opened: list[str] = []
    page.lesson_open_requested.connect(opened.append)
    plot = page.timing_plot
    QApplication.processEvents()
    x = lessons[2].created_at.timestamp()
    scene = plot.getPlotItem().vb.mapViewToScene(QPointF(x, -5.0))
    where = plot.mapFromScene(scene)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: opened == [lessons[2].job_id], timeout=5_000)
    page.release()


@pytest.fixture
def short_clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "lesson.mp4", seconds=1.0)


def test_the_window_names_a_student_and_shows_their_page(
    qtbot: Any, open_desktop: Any, short_clip: Path
) -> None:
    desktop = open_desktop()
    window, service = desktop.window, desktop.service
    lesson = service.submit("lesson.mp4", [short_clip.read_bytes()])
    qtbot.waitUntil(lambda: service.get(lesson.id).status == "finished", timeout=60_000)
    qtbot.waitUntil(lambda: lesson.id in window.library.views, timeout=10_000)
    assert not window.library.grouped  # nobody named yet: one plain list

    # The library's "Student…" names the clip: a dialog, then the service (off this thread).
    dialog = window.edit_student(window.library.views[lesson.id])
    dialog.student.setText("  anna lee ")
    dialog.class_name.setText("Juniors")
    dialog.accept()
    qtbot.waitUntil(
        lambda: window.library.groups() == {"anna lee · Juniors (1 clip)": ["lesson.mp4"]},
        timeout=10_000,
    )
    assert (service.get(lesson.id).student, service.get(lesson.id).class_name) == (
        "anna lee", "Juniors",
    )  # fmt: skip

    window.show_student("Anna Lee")
    assert window.tabs.currentWidget() is window.student_view
    page = window.student_view
    qtbot.waitUntil(lambda: len(page.lessons) == 1, timeout=10_000)
    assert page.lessons[0].job_id == lesson.id
    assert page.picker.currentText() == "anna lee · Juniors (1)"
    knee = page.lessons[0].angles["left_knee"]["range"]
    assert page.angle_plot.values() == [pytest.approx(knee)]

    # A lesson opened from the page: the studio with that clip.
    page.lesson_open_requested.emit(lesson.id)
    assert window.tabs.currentIndex() == 0
    current = window.library.current_job()
    assert current is not None and current.id == lesson.id
    dialog = window.edit_student(window.library.views[lesson.id])
    dialog.student.setText("x" * 81)  # the field holds what the engine allows
    assert dialog.names() == ("x" * 80, "Juniors")
    dialog.reject()


def test_every_axis_title_fits_beside_its_plot(qtbot: Any) -> None:
    """The angle plot's title was "Left knee range of motion (°)": cut to "Left knee
    range of m" beside a plot of ordinary height."""
    page = StudentView()
    qtbot.addWidget(page)
    page.resize(1000, 640)
    page.show()
    page.show_progress("Anna Lee", [_lesson(1, 60.0, 80.0, 40.0), _lesson(2, 70.0, 40.0, 50.0)])
    for statistic in ("range", "min", "max", "mean"):
        page.choose_angle("right_hip", statistic)
        QApplication.processEvents()
        for plot in (page.score_plot, page.timing_plot, page.angle_plot):
            axis = plot.getPlotItem().getAxis("left")
            title = axis.label.boundingRect().width()  # drawn turned a quarter
            assert title <= axis.geometry().height(), (axis.labelText, axis.geometry())
    page.release()
