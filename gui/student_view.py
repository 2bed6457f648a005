"""A student's page: their progress over lessons, and the dialog that names a clip's student.

The page plots one point per lesson (a finished analysis of the student's clip, see
:mod:`dance_analysis.jobs.students`) at its date: the overall comparison score, the
timing offset to the beat, and a chosen joint angle's range of motion (or its lowest,
highest or mean value). Clicking a point, or a row of the list under the plots, asks
the window to open that lesson. The page is fed by the window (``set_students``,
``show_progress``), which reads the service on its task pool: nothing here blocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.wording import curve_label

MAX_NAME_CHARS = 80  # as the engine's (dance_analysis.jobs.students): it says why beyond
DEFAULT_ANGLE = "left_knee"
STATISTICS = {"range": "range of motion", "min": "lowest", "max": "highest", "mean": "mean"}
# The angle plot's axis title: short enough to fit beside a plot at its least height
# (the pickers above it name the joint and the statistic in full).
AXIS_TITLES = {"range": "Range", "min": "Lowest", "max": "Highest", "mean": "Mean"}
POINT_COLOURS = {"score": "#1a5fb4", "timing": "#c64600", "angle": "#26a269"}
AXIS_WIDTH_PX = 58
DAY_S = 86_400.0
_JOB_ROLE = Qt.ItemDataRole.UserRole


def _timestamp(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def _local_date(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone().strftime("%d %b %Y %H:%M")


def _number(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:.0f}{unit}"


def _timing(offset_ms: float | None) -> str:
    """The offset to the beat in words: "127 ms" alone did not say late or early."""
    if offset_ms is None:
        return "–"
    if round(offset_ms) == 0:
        return "on the beat"
    return f"{abs(offset_ms):.0f} ms {'late' if offset_ms > 0 else 'early'}"


class ProgressPlot(pg.PlotWidget):
    """One measure over lessons: a point per lesson at its date, joined by a line.

    ``point_clicked(job_id)`` when a point is clicked.
    """

    point_clicked = Signal(str)

    def __init__(
        self,
        title: str,
        units: str,
        colour: str,
        parent: QWidget | None = None,
        *,
        y_range: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.setBackground("w")
        self.setMinimumHeight(140)
        self.colour = colour
        item = self.getPlotItem()
        item.setLabel("left", title, units=units)
        item.getAxis("left").setWidth(AXIS_WIDTH_PX)
        item.showGrid(x=True, y=True, alpha=0.3)
        item.hideButtons()
        self.line = item.plot(pen=pg.mkPen(colour, width=1.5), connect="finite")
        self.points = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(colour), pen=pg.mkPen("w"))
        self.points.sigClicked.connect(self._on_points_clicked)
        item.addItem(self.points)
        self.empty = pg.TextItem("", color="#666666", anchor=(0.5, 0.5))
        item.addItem(self.empty, ignoreBounds=True)
        self.job_ids: list[str] = []  # the points', in date order
        self.y_range = y_range  # fixed (a score's 0–100), or None: fitted to the points

    def set_points(self, points: Sequence[tuple[float, float | None, str]], empty: str) -> None:
        """``points``: (timestamp s, value or None, job id) in date order; a lesson
        without a value leaves a gap. ``empty``: the note when no lesson has one."""
        shown = [(x, y, job) for x, y, job in points if y is not None]
        self.job_ids = [job for _, _, job in shown]
        self.line.setData([x for x, _, _ in points], [_nan(y) for _, y, _ in points])
        self.points.setData([{"pos": (x, y), "data": job} for x, y, job in shown])
        self.empty.setText("" if shown else empty)
        view_box = self.getPlotItem().getViewBox()
        low, high = self.y_range or ((0.0, 1.0) if not shown else (None, None))
        if low is None or high is None:
            view_box.enableAutoRange(axis=pg.ViewBox.YAxis)
        else:
            view_box.setYRange(low, high, padding=0.05)
        if not shown and points:
            middle = (points[0][0] + points[-1][0]) / 2
            self.empty.setPos(middle, ((low or 0.0) + (high or 1.0)) / 2)

    def values(self) -> list[float]:
        """The values drawn, in date order (for the tests and a reader's check)."""
        return [float(point.pos().y()) for point in self.points.points()]

    def _on_points_clicked(self, _item: Any, points: Iterable[Any], *_rest: Any) -> None:
        for point in points:
            self.point_clicked.emit(str(point.data()))
            return


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


class StudentView(QWidget):
    """The Students tab: a student picker, three progress plots and their lessons.

    ``student_chosen(name)``: the window reads that student's progress and calls
    :meth:`show_progress`; ``lesson_open_requested(job_id)``: open that lesson's clip.
    """

    student_chosen = Signal(str)
    lesson_open_requested = Signal(str)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.students: list[Any] = []
        self.lessons: list[Any] = []
        self.shown_student: str | None = None
        self.picker = QComboBox()
        self.picker.setMinimumWidth(220)
        self.picker.setPlaceholderText("No students yet")
        self.picker.activated.connect(self._on_picker_activated)
        self.about = QLabel("Name a clip's student in the library (right click → Student…).")
        self.about.setStyleSheet("color: #555")
        self.angle_picker = QComboBox()
        self.angle_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.angle_picker.currentIndexChanged.connect(self._on_angle_changed)
        self.statistic_picker = QComboBox()
        for key, label in STATISTICS.items():
            self.statistic_picker.addItem(label, key)
        self.statistic_picker.currentIndexChanged.connect(self._on_angle_changed)

        self.score_plot = ProgressPlot(
            "Overall score", "", POINT_COLOURS["score"], y_range=(0.0, 100.0)
        )
        self.timing_plot = ProgressPlot("Timing offset", "ms", POINT_COLOURS["timing"])
        self.angle_plot = ProgressPlot("Angle", "°", POINT_COLOURS["angle"])
        for plot in (self.timing_plot, self.angle_plot):
            plot.setXLink(self.score_plot)  # one time axis for the three
        for plot in (self.score_plot, self.timing_plot, self.angle_plot):
            plot.point_clicked.connect(self.lesson_open_requested)

        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Lesson", "Clip", "Score", "Timing", "Tempo"])
        self.table.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemActivated.connect(self._on_table_item_activated)
        self.table.setMaximumHeight(170)

        top = QHBoxLayout()
        top.addWidget(QLabel("Student"))
        top.addWidget(self.picker)
        top.addWidget(self.about, 1)
        angle_row = QHBoxLayout()
        angle_row.addWidget(QLabel("Joint angle"))
        angle_row.addWidget(self.angle_picker)
        angle_row.addWidget(self.statistic_picker)
        angle_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.score_plot, 1)
        layout.addWidget(self.timing_plot, 1)
        layout.addLayout(angle_row)
        layout.addWidget(self.angle_plot, 1)
        layout.addWidget(self.table)

    # --- fed by the window ----------------------------------------------------------

    def set_students(self, students: list[Any]) -> None:
        """Every student (name, class_name, lessons, …); the one shown stays chosen."""
        self.students = list(students)
        self.picker.blockSignals(True)
        try:
            self.picker.clear()
            for student in self.students:
                text = (
                    student.name
                    if not student.class_name
                    else (f"{student.name} · {student.class_name}")
                )
                self.picker.addItem(f"{text} ({student.lessons})", student.name)
            index = self._index_of(self.shown_student)
            self.picker.setCurrentIndex(index)
        finally:
            self.picker.blockSignals(False)

    def show_progress(self, name: str, lessons: list[Any]) -> None:
        """``lessons`` in date order (the service's ``progress(name)``)."""
        self.shown_student = name
        self.lessons = list(lessons)
        index = self._index_of(name)
        if index >= 0:
            self.picker.setCurrentIndex(index)
        count = len(self.lessons)
        self.about.setText(
            f"{count} lesson{'s' if count != 1 else ''}. Click a point to open that lesson."
            if count
            else f"No finished lesson of {name} yet."
        )
        self._fill_angle_picker()
        self._fill_table()
        self._plot()

    def release(self) -> None:
        """Drop the plots' items while Qt is alive (see ``AnglesPlot.release``)."""
        for plot in (self.score_plot, self.timing_plot, self.angle_plot):
            plot.set_points([], "")
            plot.getPlotItem().clear()

    @property
    def chosen_angle(self) -> str | None:
        data = self.angle_picker.currentData()
        return None if data is None else str(data)

    @property
    def chosen_statistic(self) -> str:
        return str(self.statistic_picker.currentData())

    def choose_angle(self, name: str, statistic: str = "range") -> None:
        self.statistic_picker.setCurrentIndex(self.statistic_picker.findData(statistic))
        self.angle_picker.setCurrentIndex(self.angle_picker.findData(name))

    # --- internals ------------------------------------------------------------------

    def _index_of(self, name: str | None) -> int:
        if name is None:
            return -1
        key = " ".join(name.split()).casefold()
        for index, student in enumerate(self.students):
            if " ".join(student.name.split()).casefold() == key:
                return index
        return -1

    def _fill_angle_picker(self) -> None:
        names = sorted({name for lesson in self.lessons for name in lesson.angles})
        previous = self.chosen_angle or DEFAULT_ANGLE
        self.angle_picker.blockSignals(True)
        try:
            self.angle_picker.clear()
            for name in names:
                self.angle_picker.addItem(curve_label(name), name)
            index = self.angle_picker.findData(previous)
            self.angle_picker.setCurrentIndex(index if index >= 0 else 0)
        finally:
            self.angle_picker.blockSignals(False)

    def _fill_table(self) -> None:
        self.table.clear()
        for lesson in self.lessons:
            item = QTreeWidgetItem(
                [
                    _local_date(lesson.created_at),
                    lesson.filename,
                    _number(lesson.overall_score),
                    _timing(lesson.timing_offset_ms),
                    _number(lesson.tempo_bpm, " BPM"),
                ]
            )
            item.setData(0, _JOB_ROLE, lesson.job_id)
            self.table.addTopLevelItem(item)
        for column in (0, 2, 3, 4):
            self.table.resizeColumnToContents(column)

    def _plot(self) -> None:
        times = [_timestamp(lesson.created_at) for lesson in self.lessons]
        if times:  # the lessons' dates with a margin; a day or more, so one lesson reads too
            margin = max((times[-1] - times[0]) * 0.06, DAY_S)
            self.score_plot.setXRange(times[0] - margin, times[-1] + margin, padding=0)
        ids = [lesson.job_id for lesson in self.lessons]
        scores = [lesson.overall_score for lesson in self.lessons]
        self.score_plot.set_points(
            list(zip(times, scores, ids, strict=True)),
            "No lesson compared with a teacher's clip yet.",
        )
        offsets = [lesson.timing_offset_ms for lesson in self.lessons]
        self.timing_plot.set_points(
            list(zip(times, offsets, ids, strict=True)), "No timing: no lesson had music."
        )
        self._plot_angle()

    def _plot_angle(self) -> None:
        name, statistic = self.chosen_angle, self.chosen_statistic
        label = "Angle" if name is None else AXIS_TITLES[statistic]
        self.angle_plot.getPlotItem().setLabel("left", label, units="°")
        times = [_timestamp(lesson.created_at) for lesson in self.lessons]
        values = [
            None if name is None else (lesson.angles.get(name) or {}).get(statistic)
            for lesson in self.lessons
        ]
        ids = [lesson.job_id for lesson in self.lessons]
        self.angle_plot.set_points(
            list(zip(times, values, ids, strict=True)), "The dancer was not seen."
        )

    def _on_angle_changed(self, _index: int) -> None:
        self._plot_angle()

    def _on_picker_activated(self, index: int) -> None:
        name = self.picker.itemData(index)
        if name:
            self.student_chosen.emit(str(name))

    def _on_table_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        self.lesson_open_requested.emit(str(item.data(0, _JOB_ROLE)))


class StudentDialog(QDialog):
    """Whose lesson a clip is: the student's name and class, with known names offered."""

    def __init__(
        self,
        student: str | None,
        class_name: str | None,
        known: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Student")
        self.student = QLineEdit(student or "")
        self.student.setMaxLength(MAX_NAME_CHARS)
        self.student.setPlaceholderText("Empty: nobody's lesson")
        self.student.setCompleter(QCompleter(list(known), self))
        self.class_name = QLineEdit(class_name or "")
        self.class_name.setMaxLength(MAX_NAME_CHARS)
        self.class_name.setPlaceholderText("Optional")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Student", self.student)
        form.addRow("Class", self.class_name)
        form.addRow(buttons)

    def names(self) -> tuple[str | None, str | None]:
        """(student, class) as typed, blank as None: the engine trims and checks them."""
        return self.student.text().strip() or None, self.class_name.text().strip() or None
