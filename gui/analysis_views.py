"""Analysis views: joint angles over time, the summaries, and the feedback list.

All three take a :class:`gui.result.ClipResult` and talk to the player only by
signals: ``seek_requested(t_ms)`` out, :meth:`AnglesPlot.set_cursor_ms` in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.player import format_ms
from gui.result import ClipResult

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
        self.cursor = pg.InfiniteLine(
            pos=0.0, angle=90, movable=False, pen=pg.mkPen("#d81b60", width=2)
        )
        self.plot.addItem(self.cursor, ignoreBounds=True)
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
            curve = self.plot.plot(seconds, values, pen=pen, name=name, connect="finite")
            self.curves[name] = curve
        self.plot.enableAutoRange()

    def release(self) -> None:
        """Drop the curves while Qt is alive: left to the interpreter's exit, pyqtgraph's
        items crash PySide6 6.12 during finalisation (a refcount error on a bool)."""
        self.set_result(None)

    def set_cursor_ms(self, t_ms: float) -> None:
        self.cursor.setValue(t_ms / 1000.0)

    @property
    def cursor_ms(self) -> float:
        return float(self.cursor.value()) * 1000.0

    def _on_scene_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        view_box = self.plot.getPlotItem().vb
        if not view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        seconds = view_box.mapSceneToView(event.scenePos()).x()
        self.seek_requested.emit(max(float(seconds), 0.0) * 1000.0)


class SummaryTable(QTableWidget):
    """min / max / range / mean per angle, then the other metrics as name → value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setHorizontalHeaderLabels(["measure", "min", "max", "range", "mean"])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

    def set_result(self, result: ClipResult | None) -> None:
        self.setRowCount(0)
        if result is None:
            return
        rows: list[list[str]] = []
        for name, stats in sorted(result.summary.items()):
            rows.append(
                [f"{name} (°)"]
                + [_number(stats.get(key)) for key in ("min", "max", "range", "mean")]
            )
        for name, value in _flatten(result.metrics):
            rows.append([name, "", "", "", _number(value)])
        self.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.setItem(row, column, item)


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
        for entry in result.feedback:
            start = float(entry.get("time_ms") or 0.0)
            end = entry.get("end_ms")
            when = format_ms(start) + (f"–{format_ms(float(end))}" if end is not None else "")
            severity = str(entry.get("severity", "info"))
            joints = ", ".join(entry.get("joints") or [])
            text = f"{when}  [{severity}]  {entry.get('message', '')}"
            if joints:
                text += f"  ({joints})"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, start)
            item.setForeground(QBrush(QColor(SEVERITY_COLORS.get(severity, "#333333"))))
            self.addItem(item)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        t_ms = item.data(Qt.ItemDataRole.UserRole)
        if t_ms is not None:
            self.seek_requested.emit(float(t_ms))


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)


def _flatten(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested metric dictionaries as ``speed.mean``-style rows (lists are left out)."""
    rows: list[tuple[str, Any]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{name}."))
        elif isinstance(value, int | float | str | bool) or value is None:
            rows.append((name, value))
    return rows
