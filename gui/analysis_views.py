"""Analysis views: joint angles over time, the summaries, and the feedback list.

All three take a :class:`gui.result.ClipResult` and talk to the player only by
signals: ``seek_requested(t_ms)`` out, :meth:`AnglesPlot.set_cursor_ms` in.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.result import ClipResult
from gui.wording import Row, curve_label, feedback_text, summary_rows

SEVERITY_COLORS = {"info": "#2e7d32", "warning": "#ef6c00", "critical": "#c62828"}


class AnglesPlot(QWidget):
    """One curve per joint angle against time (s); a cursor line at the playhead."""

    seek_requested = Signal(float)  # ms

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setLabel("left", "angle", units="°")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.addLegend(
            offset=(10, 5), labelTextSize="8pt", colCount=6, labelTextColor="#333333",
            brush=pg.mkBrush(255, 255, 255, 200),
        )  # fmt: skip
        self.playhead = pg.InfiniteLine(
            pos=0.0, angle=90, movable=False, pen=pg.mkPen("#d81b60", width=2)
        )
        self.plot.addItem(self.playhead, ignoreBounds=True)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.curves: dict[str, Any] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def set_result(self, result: ClipResult | None) -> None:
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves.clear()
        if result is None:
            return
        seconds = result.t_ms / 1000.0
        for number, (name, values) in enumerate(sorted(result.angles.items())):
            pen = pg.mkPen(pg.intColor(number, hues=max(len(result.angles), 1)), width=1.5)
            curve = self.plot.plot(
                seconds, values, pen=pen, name=curve_label(name), connect="finite"
            )
            self.curves[name] = curve
        self.plot.enableAutoRange()

    def release(self) -> None:
        """Drop the curves while Qt is alive: left to the interpreter's exit, pyqtgraph's
        items crash PySide6 6.12 during finalisation (a refcount error on a bool)."""
        self.set_result(None)

    def set_cursor_ms(self, t_ms: float) -> None:
        self.playhead.setValue(t_ms / 1000.0)

    @property
    def cursor_ms(self) -> float:
        return float(self.playhead.value()) * 1000.0

    def _on_scene_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        legend = self.plot.getPlotItem().legend
        if legend is not None and legend.sceneBoundingRect().contains(event.scenePos()):
            # The legend shows and hides curves; a click on it is not a moment in time.
            if not event.isAccepted():  # on a name rather than its colour sample
                self._toggle_curve_named_at(legend, event.scenePos())
            return
        view_box = self.plot.getPlotItem().vb
        if not view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        seconds = view_box.mapSceneToView(event.scenePos()).x()
        self.seek_requested.emit(max(float(seconds), 0.0) * 1000.0)

    @staticmethod
    def _toggle_curve_named_at(legend: Any, scene_pos: Any) -> None:
        for sample, label in legend.items:
            if label.sceneBoundingRect().contains(scene_pos):
                sample.item.setVisible(not sample.item.isVisible())
                sample.update()


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
