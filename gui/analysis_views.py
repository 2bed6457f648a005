"""Analysis views: joint angles over time, the summaries, and the feedback list.

All three take a :class:`gui.result.ClipResult` and talk to the player only by
signals: ``seek_requested(t_ms)`` out, :meth:`AnglesPlot.set_cursor_ms` in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from dance_analysis.skeleton import SIDE_COLOURS, side_of
from gui.result import ClipResult, FloatArray, Music
from gui.wording import Row, curve_label, feedback_text, joint_words, summary_rows

SEVERITY_COLORS = {"info": "#2e7d32", "warning": "#ef6c00", "critical": "#c62828"}


# The skeleton's midline colour is near-white (drawn over video); on the plot's white
# background the trunk is drawn in dark grey instead.
MID_CURVE_COLOUR = (90, 90, 90)
BEAT_COLOUR = "#d3c7ec"  # lavender: apart from the grid, the curves and the red playhead
DOWNBEAT_COLOUR = "#a48fd6"
PLAYHEAD_COLOUR = "#d81b60"
# Body parts in the order a dance coach reads them (the legs carry most of the feedback).
PART_ORDER = ("knee", "hip", "ankle", "shoulder", "elbow", "trunk")
DEFAULT_PARTS = frozenset({"knee", "hip"})
_SIDE_RANK = {"left": 0, "right": 1, "mid": 2}
_SIDE_LETTER = {"left": "L", "right": "R", "mid": ""}
_KEY_WORDS = {"left": "orange, solid", "right": "blue, dashed", "mid": "grey"}
_LINE_REACH_DEG = 1000.0  # beyond any angle: a beat line crosses the whole view


@dataclass(frozen=True)
class AnglePart:
    """One entry of the joint picker: a body part and its series, left before right."""

    key: str  # "knee"; "trunk"
    label: str  # "Knee"; "Trunk lean"
    series: tuple[str, ...]  # ("left_knee", "right_knee"); ("trunk",)


def angle_parts(names: Iterable[str]) -> list[AnglePart]:
    """The angle series grouped by body part: a joint's left and right are one entry."""
    grouped: dict[str, list[str]] = {}
    for name in names:
        side = side_of(name)
        grouped.setdefault(name.removeprefix(f"{side}_"), []).append(name)

    def rank(key: str) -> tuple[int, str]:
        return (PART_ORDER.index(key) if key in PART_ORDER else len(PART_ORDER), key)

    return [
        AnglePart(
            key, curve_label(key), tuple(sorted(grouped[key], key=lambda n: _SIDE_RANK[side_of(n)]))
        )
        for key in sorted(grouped, key=rank)
    ]


def curve_pen(name: str) -> QPen:
    """The skeleton's side colours; right also dashed, so left and right differ without colour."""
    side = side_of(name)
    colour = MID_CURVE_COLOUR if side == "mid" else SIDE_COLOURS[side]
    style = Qt.PenStyle.DashLine if side == "right" else Qt.PenStyle.SolidLine
    pen: QPen = pg.mkPen(colour, width=2, style=style)
    return pen


def _key_pixmap(pen: QPen) -> QPixmap:
    """A short stroke of a curve's pen: the picker's colour key, the legend of the plot."""
    pixmap = QPixmap(22, 10)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(pen)
    painter.drawLine(1, 5, 21, 5)
    painter.end()
    return pixmap


def _beats_and_downbeats_s(music: Music) -> tuple[FloatArray, FloatArray]:
    """The beats that are not downbeats, and the downbeats, in s: each line drawn once."""
    beats_s, downbeats_s = music.beats_ms / 1000.0, music.downbeats_ms / 1000.0
    if downbeats_s.size:  # the nearest downbeat to each beat, by binary search
        ordered = np.sort(downbeats_s)
        after = np.clip(np.searchsorted(ordered, beats_s), 0, ordered.size - 1)
        before = np.clip(after - 1, 0, ordered.size - 1)
        nearest = np.minimum(np.abs(beats_s - ordered[after]), np.abs(beats_s - ordered[before]))
        beats_s = beats_s[nearest > 0.001]
    return beats_s, downbeats_s


def _vertical_lines(times_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """x, y for one item drawing a vertical line at each time (``connect="pairs"``)."""
    return np.repeat(times_s, 2), np.tile([-_LINE_REACH_DEG, _LINE_REACH_DEG], len(times_s))


class AnglesPlot(QWidget):
    """Joint angles against time (s): a row per body part the coach picks, values now.

    Beside the plot a picker lists the body parts, left and right as one entry in the
    skeleton's colours (the picker is the legend), with each picked part's angles at
    the playhead. Every picked part gets a row of its own sharing the time axis, so a
    knee's curves never tangle with a hip's. On a long clip the rows show a window that
    follows the playhead; the mouse wheel and drag zoom and pan time, and each row's
    angle axis fits its curves.
    """

    seek_requested = Signal(float)  # ms

    FOLLOW_ABOVE_S = 15.0  # clips up to this long are shown whole
    WINDOW_S = 8.0  # the time a longer clip is shown in
    PAGE_LEAD = 0.1  # after a page turn the playhead stands this far into the window
    PAGE_MARGIN = 0.05  # ... and the page turns when it comes this close to the edge
    AXIS_WIDTH_PX = 58  # the same for every row, so that their times line up

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setBackground("w")
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.empty_note = pg.LabelItem("Tick a joint on the left to plot it.", color="#666666")

        self.parts: list[AnglePart] = []
        self.rows: dict[str, Any] = {}  # part key -> its PlotItem, in the layout when picked
        self.curves: dict[str, Any] = {}  # series name -> its curve
        self.playheads: dict[str, Any] = {}  # part key -> its row's playhead line
        self.beat_lines: dict[str, tuple[Any, Any]] = {}  # part key -> (beats, downbeats)
        self.boxes: dict[str, QCheckBox] = {}  # part key -> its entry in the picker
        self.values: dict[str, QLabel] = {}  # series name -> its value at the playhead
        self.keys: dict[str, QLabel] = {}  # series name -> its colour key in the picker
        self._chosen = set(DEFAULT_PARTS)  # kept from clip to clip
        self._result: ClipResult | None = None
        self._cursor_ms = 0.0
        self._shown_index: int | None = None  # the frame the values are for
        self._x_range: tuple[float, float] | None = None  # the time shown, s
        self._syncing = False

        self.picker = QScrollArea()
        self.picker.setWidgetResizable(True)
        self.picker.setFrameShape(QFrame.Shape.NoFrame)
        self.picker.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.picker.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.picker.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrows stay the player's
        self._build_picker()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.picker)
        layout.addWidget(self.plot, 1)

    # --- what is shown --------------------------------------------------------------

    def set_result(self, result: ClipResult | None) -> None:
        self.plot.ci.clear()
        for store in (self.rows, self.curves, self.playheads, self.beat_lines):
            store.clear()
        self._result = result
        self._shown_index = None
        self._x_range = None
        self.parts = [] if result is None else angle_parts(result.angles)
        self._build_picker()
        if result is not None and result.frame_count:
            seconds = result.t_ms / 1000.0
            first, last = float(seconds[0]), float(seconds[-1])
            span = max(last - first, 0.001)
            shown = span if span <= self.FOLLOW_ABOVE_S else self.WINDOW_S
            self._x_range = (first, first + shown)
            for part in self.parts:
                self.rows[part.key] = self._make_row(part, result, (first, first + span))
            self._show_values_at(self._cursor_ms)
        self._lay_out()

    def release(self) -> None:
        """Drop the curves while Qt is alive: left to the interpreter's exit, pyqtgraph's
        items crash PySide6 6.12 during finalisation (a refcount error on a bool)."""
        self.set_result(None)

    def set_cursor_ms(self, t_ms: float) -> None:
        self._cursor_ms = float(t_ms)
        for playhead in self.playheads.values():
            playhead.setValue(t_ms / 1000.0)
        self._show_values_at(t_ms)
        self._keep_in_view(t_ms / 1000.0)

    @property
    def cursor_ms(self) -> float:
        return self._cursor_ms

    @property
    def shown_parts(self) -> list[str]:
        """The parts with a row in the plot now, top to bottom."""
        return [p.key for p in self.parts if p.key in self._chosen and p.key in self.rows]

    @property
    def x_range(self) -> tuple[float, float] | None:
        """The time shown, s (every row shows the same)."""
        return self._x_range

    def readout(self, key: str) -> str:
        """A picker entry as read: ``Knee  L 132°  R 128°`` (the tests and the clipboard)."""
        part = next(p for p in self.parts if p.key == key)
        texts = [self.values[name].text() for name in part.series]
        return "  ".join([part.label, *(text for text in texts if text)])

    # --- the rows -------------------------------------------------------------------

    def _make_row(self, part: AnglePart, result: ClipResult, limits: tuple[float, float]) -> Any:
        """A part's own plot: its curves, the beats under them and the playhead over them."""
        row = pg.PlotItem()
        row.setLabel("left", part.label, units="°")
        row.setLabel("bottom", "time", units="s")
        row.getAxis("left").setWidth(self.AXIS_WIDTH_PX)
        row.hideButtons()
        has_beats = result.music.present and result.music.beats_ms.size > 0
        row.showGrid(x=not has_beats, y=True, alpha=0.3)  # the beats are the time grid
        view_box = row.getViewBox()
        view_box.setMouseEnabled(x=True, y=False)  # the angle axis fits the curves
        view_box.setAutoVisible(y=True)
        view_box.setLimits(
            xMin=limits[0], xMax=limits[1], minXRange=min(0.5, limits[1] - limits[0])
        )
        view_box.enableAutoRange(axis=pg.ViewBox.YAxis)
        # All beats in one item and all downbeats in another: a 5-minute clip's 600
        # lines cost two paths, not 600 items.
        beats = pg.PlotDataItem(pen=pg.mkPen(BEAT_COLOUR, width=1))
        downbeats = pg.PlotDataItem(pen=pg.mkPen(DOWNBEAT_COLOUR, width=1.5))
        if has_beats:
            beats_s, downbeats_s = _beats_and_downbeats_s(result.music)
            beats.setData(*_vertical_lines(beats_s), connect="pairs")
            downbeats.setData(*_vertical_lines(downbeats_s), connect="pairs")
        for lines in (beats, downbeats):
            lines.setZValue(-10)  # under the curves
            row.addItem(lines, ignoreBounds=True)
        self.beat_lines[part.key] = (beats, downbeats)
        seconds = result.t_ms / 1000.0
        for name in part.series:
            curve = row.plot(seconds, result.angles[name], pen=curve_pen(name), connect="finite")
            # Draw only the time shown. Set once the curve is in its view: given to
            # plot(), pyqtgraph 0.14 asks the wrong object for the range and fails.
            curve.setClipToView(True)
            self.curves[name] = curve
        playhead = pg.InfiniteLine(
            pos=self._cursor_ms / 1000.0, angle=90, movable=False,
            pen=pg.mkPen(PLAYHEAD_COLOUR, width=2),
        )  # fmt: skip
        row.addItem(playhead, ignoreBounds=True)
        self.playheads[part.key] = playhead
        view_box.sigXRangeChanged.connect(partial(self._on_row_x_range_changed, part.key))
        return row

    def _lay_out(self) -> None:
        """The picked parts' rows top to bottom; only the lowest names the time axis."""
        layout = self.plot.ci
        layout.clear()
        shown = self.shown_parts
        for index, key in enumerate(shown):
            row = self.rows[key]
            lowest = index == len(shown) - 1
            row.getAxis("bottom").setStyle(showValues=lowest)
            row.getAxis("bottom").showLabel(lowest)
            layout.addItem(row, row=index, col=0)
        if self.rows and not shown:
            layout.addItem(self.empty_note, row=0, col=0)
        if self._x_range is not None:
            self._show_time(*self._x_range)

    def _show_time(self, start: float, end: float) -> None:
        self._x_range = (start, end)
        self._syncing = True
        try:
            for key in self.shown_parts:
                self.rows[key].getViewBox().setXRange(start, end, padding=0)
        finally:
            self._syncing = False

    def _on_row_x_range_changed(self, key: str, _view_box: Any, x_range: Any) -> None:
        """The coach zoomed or panned one row: the others show the same time."""
        if self._syncing or key not in self.shown_parts:
            return
        self._show_time(float(x_range[0]), float(x_range[1]))

    def _keep_in_view(self, t_s: float) -> None:
        """Turn the page when the playhead leaves the time shown (keeping the zoom)."""
        result = self._result
        if result is None or self._x_range is None:
            return
        left, right = self._x_range
        width = right - left
        if left <= t_s <= right - self.PAGE_MARGIN * width:
            return
        first, last = float(result.t_ms[0]) / 1000.0, float(result.t_ms[-1]) / 1000.0
        start = max(min(t_s - self.PAGE_LEAD * width, last - width), first)
        if abs(start - left) > 1e-9:
            self._show_time(start, start + width)

    def _on_scene_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        for key in self.shown_parts:
            view_box = self.rows[key].getViewBox()
            if view_box.sceneBoundingRect().contains(event.scenePos()):
                seconds = view_box.mapSceneToView(event.scenePos()).x()
                self.seek_requested.emit(max(float(seconds), 0.0) * 1000.0)
                return

    # --- the picker -----------------------------------------------------------------

    def _build_picker(self) -> None:
        """One line per body part: its checkbox, then per side a colour key and the value."""
        panel = QWidget()
        grid = QGridLayout(panel)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        heading = QLabel("At the red line")
        heading.setStyleSheet("color: #666666")
        grid.addWidget(heading, 0, 0, 1, 5)
        self.boxes.clear()
        self.values.clear()
        self.keys.clear()
        value_width = panel.fontMetrics().horizontalAdvance("R 188°")
        for row, part in enumerate(self.parts, start=1):
            box = QCheckBox(part.label)
            box.setChecked(part.key in self._chosen)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            box.toggled.connect(partial(self._on_part_toggled, part))
            grid.addWidget(box, row, 0)
            self.boxes[part.key] = box
            for column, name in enumerate(part.series):
                key = QLabel()
                key.setPixmap(_key_pixmap(curve_pen(name)))
                key.setToolTip(f"{joint_words(name).capitalize()}: {_KEY_WORDS[side_of(name)]}")
                value = QLabel()
                value.setMinimumWidth(value_width)
                grid.addWidget(key, row, 1 + 2 * column)
                grid.addWidget(value, row, 2 + 2 * column)
                self.values[name] = value
                self.keys[name] = key
        grid.setRowStretch(len(self.parts) + 1, 1)
        self.picker.setWidget(panel)  # the old panel is deleted with its widgets
        scroll_bar = self.picker.verticalScrollBar().sizeHint().width()
        self.picker.setFixedWidth(panel.sizeHint().width() + scroll_bar)
        if (layout := self.layout()) is not None:
            layout.activate()  # the plot moves over now, not on the next pass of events

    def _on_part_toggled(self, part: AnglePart, checked: bool) -> None:
        if checked:
            self._chosen.add(part.key)
        else:
            self._chosen.discard(part.key)
        self._lay_out()
        self._shown_index = None
        self._show_values_at(self._cursor_ms)

    def _show_values_at(self, t_ms: float) -> None:
        """The picked parts' angles at the frame shown at ``t_ms``; '–' where unmeasured."""
        result = self._result
        if result is None or result.frame_count == 0:
            return
        index = result.frame_at(t_ms)  # a binary search: cheap on every frame
        if index == self._shown_index:
            return
        self._shown_index = index
        for part in self.parts:
            chosen = part.key in self._chosen
            for name in part.series:
                text = ""
                if chosen:
                    degrees = float(result.angles[name][index])
                    value = f"{degrees:.0f}°" if np.isfinite(degrees) else "–"
                    text = f"{_SIDE_LETTER[side_of(name)]} {value}".strip()
                label = self.values[name]
                if label.text() != text:
                    label.setText(text)


class SummaryTable(QTableWidget):
    """The clip in numbers a coach reads: one measure per line, named, with its unit."""

    COLUMNS = ("Measure", "What", "Value")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        # One line of text per row: more of the table fits under the player.
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.rows: list[Row] = []

    def set_result(self, result: ClipResult | None) -> None:
        self.clearSpans()
        self.setRowCount(0)
        self.rows = [] if result is None else summary_rows(result.summary, result.metrics)
        self.setRowCount(len(self.rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for number, row in enumerate(self.rows):
            if row.is_heading:
                item = QTableWidgetItem(row.measure)
                item.setFont(bold)
                item.setBackground(QBrush(QColor("#eef1f5")))
                self.setItem(number, 0, item)
                self.setSpan(number, 0, 1, len(self.COLUMNS))
                continue
            for column, text in enumerate((row.measure, row.what, row.value)):
                self.setItem(number, column, QTableWidgetItem(text))

    def line(self, row: int) -> str:
        """What a row says, cells joined by " | " (for the tests and the clipboard)."""
        return " | ".join(
            item.text() for column in range(self.columnCount())
            if (item := self.item(row, column)) is not None and item.text()
        )  # fmt: skip


class FeedbackList(QListWidget):
    """Timestamped feedback; clicking an item seeks the player to its moment."""

    seek_requested = Signal(float)  # ms

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.itemClicked.connect(self._on_item_clicked)
        self.itemActivated.connect(self._on_item_clicked)

    def set_result(self, result: ClipResult | None) -> None:
        self.clear()
        if result is None:
            return
        if not result.feedback:
            self.addItem(QListWidgetItem("No feedback for this clip."))
            return
        icons = {
            "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
            "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
            "critical": QStyle.StandardPixmap.SP_MessageBoxCritical,
        }
        for entry in result.feedback:
            severity = str(entry.get("severity", "info"))
            item = QListWidgetItem(feedback_text(entry))
            item.setData(Qt.ItemDataRole.UserRole, float(entry.get("time_ms") or 0.0))
            item.setIcon(self.style().standardIcon(icons.get(severity, icons["info"])))
            item.setToolTip(f"{severity.capitalize()}. Click to see this moment.")
            item.setForeground(QBrush(QColor(SEVERITY_COLORS.get(severity, "#333333"))))
            self.addItem(item)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        t_ms = item.data(Qt.ItemDataRole.UserRole)
        if t_ms is not None:
            self.seek_requested.emit(float(t_ms))
