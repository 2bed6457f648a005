"""The coach's marks in the player (issue 12): an angle, a line or a note drawn on the
paused frame, shown again on replay, listed with their times, saved with the job.

A mark lives on the picture (:mod:`dance_analysis.marks`): its points are normalised
0–1 on the upright frame, so a click is mapped through the canvas's fitted picture
(the bars beside or above it are not the picture, and mirroring is undone) and a
mark is drawn back through the same mapping at any window size. An angle's degrees
are measured on the picture's pixels (the clip's width and height), not on the
normalised square, so they are the angle the coach sees.

On replay a mark shows at full strength on its own frame and then fades out over
:data:`HOLD_MS` (one second), like Kinovea's drawings that persist a little past
their key frame: at normal speed a mark on a single frame would flash by unseen. It
never shows before its frame.

:class:`MarksEditor` owns the marks of the clip on screen and the drawing under way;
it only paints on, and takes clicks from, the player's canvas, so the comparison's
players have no marks. It emits ``edited`` with the whole set after each change: the
window saves that through the job service on its task pool (the set replaces the
saved one, so the last save wins).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dance_analysis.marks import MAX_TEXT, POINTS_PER_KIND, Mark, new_mark_id, parse_mark
from gui.player import PlayerView, format_ms

#: How long a mark stays on screen after its frame, fading (ms on the clip's clock).
HOLD_MS = 1000.0
#: Faintest a mark gets before it goes (its opacity at the end of HOLD_MS).
_FAINTEST = 0.25
MARK_COLOR = QColor(255, 214, 10)  # far from the skeleton's warm/cool sides and the ghost
OUTLINE = QColor(20, 20, 24, 170)
NOTE_BACKGROUND = QColor(20, 20, 24, 200)
KIND_NAMES = {"angle": "Angle", "line": "Line", "note": "Note"}
TOOL_TIPS = {
    "angle": "Measure an angle: click three points on the paused frame, the vertex second",
    "line": "Draw a line: click its two ends on the paused frame",
    "note": "Write a note: click where it goes on the paused frame, then type it",
}


class MarksEditor(QObject):
    """The marks of the clip in ``player`` and the one being drawn.

    ``changed()``: the marks or the drawing under way changed (views redraw).
    ``edited(list[Mark])``: the coach changed the set: the whole set, to save.
    ``tool_changed(str)``: the tool in hand, "" for none.
    """

    changed = Signal()
    edited = Signal(object)
    tool_changed = Signal(str)

    def __init__(self, player: PlayerView) -> None:
        super().__init__(player)
        self._player = player
        self._marks: list[Mark] = []
        self._history: list[list[Mark]] = []  # the sets before each change (undo)
        self._tool = ""
        self._pending: list[tuple[float, float]] = []  # points of the mark being drawn
        self.editable = False  # a finished analysis is on screen: its marks can change
        player.canvas.drawings = self.paint
        player.canvas.click_taker = self.take_click

    # --- the set ----------------------------------------------------------------------

    @property
    def marks(self) -> list[Mark]:
        return list(self._marks)

    @property
    def tool(self) -> str:
        return self._tool

    def set_marks(self, marks: Sequence[Mark]) -> None:
        """The saved marks of the finished job on screen; editing is now allowed."""
        self._marks = sorted(
            marks, key=lambda mark: mark.t_ms
        )  # stable: drawn order within a frame
        self._history.clear()
        self.editable = True
        self._drop_drawing()
        self.changed.emit()

    def reset(self) -> None:
        """Another clip, or none: no marks, nothing to edit until its marks arrive."""
        self._marks = []
        self._history.clear()
        self.editable = False
        self._drop_drawing()
        self.changed.emit()

    def delete(self, mark_id: str) -> None:
        kept = [mark for mark in self._marks if mark.id != mark_id]
        if len(kept) != len(self._marks):
            self._commit(kept)

    def clear(self) -> None:
        if self._marks:
            self._commit([])

    def undo(self) -> None:
        """The set as it was before the last change (an added mark goes, a delete returns)."""
        if self._history:
            self._marks = self._history.pop()
            self._emit_edited()

    @property
    def can_undo(self) -> bool:
        return bool(self._history)

    def degrees(self, mark: Mark) -> float | None:
        """An angle mark's degrees on the clip's pixels."""
        return mark.degrees(*self.picture_size())

    def picture_size(self) -> tuple[float, float]:
        """The clip's upright width and height: the result's, else the picture's."""
        result = self._player.result
        video = result.video if result is not None else {}
        if video.get("width") and video.get("height"):
            return float(video["width"]), float(video["height"])
        image = self._player.canvas.image
        if image is not None and not image.isNull():
            return float(image.width()), float(image.height())
        return 1.0, 1.0

    def visible(self, t_ms: float) -> list[tuple[Mark, float]]:
        """The marks on screen at ``t_ms`` with their opacity (1 on their own frame)."""
        shown = []
        for mark in self._marks:
            since = t_ms - mark.t_ms
            if -0.5 <= since < HOLD_MS:  # half a ms: a frame's time read back from JSON
                fading = max(since, 0.0) / HOLD_MS
                shown.append((mark, 1.0 if since < 0.5 else 1.0 - (1.0 - _FAINTEST) * fading))
        return shown

    # --- drawing a mark ---------------------------------------------------------------

    def choose(self, tool: str) -> None:
        """Take ``tool`` (angle, line, note) in hand, pausing the player; the tool in
        hand again, or "", puts it down."""
        if tool and not self.editable:
            return
        if tool == self._tool:
            tool = ""
        self._pending = []
        self._tool = tool
        if tool:
            self._player.pause()
        self.tool_changed.emit(tool)
        self.changed.emit()

    def take_click(self, where: QPointF) -> bool:
        """A left click on the canvas: a point of the mark in hand (True), or not ours."""
        if not self._tool:
            return False
        if self._player.playing:
            self._player.pause()
        point = self._player.canvas.to_picture(where)
        if point is None:
            return True  # on the bars beside the picture: nothing to mark, nothing else
        self._pending.append(point)
        if len(self._pending) == POINTS_PER_KIND[self._tool]:
            self._finish()
        self.changed.emit()
        return True

    def _finish(self) -> None:
        kind, points = self._tool, tuple(self._pending)
        text = ""
        if kind == "note":
            text = self._ask_note_text()
            if not text:  # canceled or left empty: no note
                self._drop_drawing()
                return
        drawn = Mark(new_mark_id(), kind, self._player.current_ms, points, text)
        mark = parse_mark(drawn.to_dict())  # rounded as marks.json keeps it
        self._drop_drawing()
        self._commit([*self._marks, mark])

    def _ask_note_text(self) -> str:
        text, accepted = QInputDialog.getText(
            self._player, "Note", f"Note at {format_ms(self._player.current_ms)}:"
        )
        return text.strip()[:MAX_TEXT] if accepted else ""

    def _drop_drawing(self) -> None:
        self._pending = []
        if self._tool:
            self._tool = ""
            self.tool_changed.emit("")

    def _commit(self, marks: list[Mark]) -> None:
        self._history.append(self._marks)
        self._marks = sorted(
            marks, key=lambda mark: mark.t_ms
        )  # stable: drawn order within a frame
        self._emit_edited()

    def _emit_edited(self) -> None:
        self._player.canvas.update()
        self.changed.emit()
        self.edited.emit(list(self._marks))

    # --- painting -----------------------------------------------------------------------

    def paint(self, painter: QPainter) -> None:
        """The marks due at the frame on screen, then the one being drawn (the canvas
        calls this after the picture and the skeleton)."""
        canvas = self._player.canvas
        rect = canvas.image_rect()
        width = max(2.0, rect.width() / 250.0)
        font = QFont(painter.font())
        font.setPixelSize(max(11, round(rect.height() / 40.0)))
        font.setBold(True)
        painter.setFont(font)
        for mark, opacity in self.visible(self._player.current_ms):
            painter.setOpacity(opacity)
            points = [canvas.to_widget(x, y) for x, y in mark.points]
            if mark.kind == "note":
                self._paint_note(painter, points[0], mark.text, width)
            else:
                self._paint_lines(painter, points, width)
                if mark.kind == "angle":
                    self._paint_angle(painter, points, self.degrees(mark) or 0.0, width)
        painter.setOpacity(1.0)
        if self._pending:
            self._paint_lines(painter, [canvas.to_widget(x, y) for x, y in self._pending], width)

    @staticmethod
    def _paint_lines(painter: QPainter, points: list[QPointF], width: float) -> None:
        """Segments through ``points`` with a dot on each, edged in dark so they stay
        apart from the skeleton's bright bones and from a light picture."""
        for color, extra in ((OUTLINE, width), (MARK_COLOR, 0.0)):
            pen = QPen(color, width + extra, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            for a, b in pairwise(points):
                painter.drawLine(a, b)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            for point in points:
                radius = width * 1.6 + extra / 2
                painter.drawEllipse(point, radius, radius)

    @staticmethod
    def _paint_angle(
        painter: QPainter, points: list[QPointF], degrees: float, width: float
    ) -> None:
        """An arc between the arms at the vertex, and the degrees beside it."""
        a, vertex, c = points
        radius = max(12.0, 0.3 * min(_length(a, vertex), _length(c, vertex)))
        start = _screen_degrees(vertex, a)
        span = (_screen_degrees(vertex, c) - start + 540.0) % 360.0 - 180.0
        painter.setBrush(Qt.BrushStyle.NoBrush)
        box = QRectF(vertex.x() - radius, vertex.y() - radius, 2 * radius, 2 * radius)
        for color, pen_width in ((OUTLINE, width * 1.5), (MARK_COLOR, max(1.0, width / 2))):
            painter.setPen(QPen(color, pen_width))
            painter.drawArc(box, round(start * 16), round(span * 16))
        # The degrees sit opposite the opening, clear of both arms (and of a line
        # drawn through the angle, as a plumb line from a knee is).
        away = math.radians(start + span / 2 + 180.0)
        distance = radius * 0.6 + painter.fontMetrics().horizontalAdvance("000°") * 0.6
        label = QPointF(
            vertex.x() + distance * math.cos(away), vertex.y() - distance * math.sin(away)
        )
        _paint_label(painter, label, f"{degrees:.0f}°", centred=True)

    @staticmethod
    def _paint_note(painter: QPainter, point: QPointF, text: str, width: float) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(MARK_COLOR)
        painter.drawEllipse(point, width * 2, width * 2)
        _paint_label(painter, QPointF(point.x() + width * 3, point.y()), text)


def _length(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())


def _screen_degrees(origin: QPointF, to: QPointF) -> float:
    """The direction ``origin`` → ``to`` as Qt's arcs count it: counter-clockwise from
    three o'clock, with y up (the widget's y grows downward)."""
    return math.degrees(math.atan2(origin.y() - to.y(), to.x() - origin.x()))


def _paint_label(painter: QPainter, at: QPointF, text: str, *, centred: bool = False) -> None:
    """``text`` in a dark box, readable over any picture: centred on ``at``, or with its
    left middle there."""
    metrics = painter.fontMetrics()
    box = QRectF(metrics.boundingRect(text)).adjusted(-5, -3, 5, 3)
    left = at.x() - box.width() / 2 if centred else at.x()
    box.moveTopLeft(QPointF(left, at.y() - box.height() / 2))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(NOTE_BACKGROUND)
    painter.drawRoundedRect(box, 4, 4)
    painter.setPen(MARK_COLOR)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def describe(mark: Mark, degrees: float | None) -> str:
    """One line of the marks list: time, kind, and the degrees or the note's words."""
    what = KIND_NAMES[mark.kind]
    if mark.kind == "angle" and degrees is not None:
        what = f"{what} {degrees:.0f}°"
    elif mark.kind == "note":
        what = f"{what}: {mark.text}"
    return f"{format_ms(mark.t_ms)}  {what}"


class MarksToolbar(QWidget):
    """Angle, Line, Note (each a tool to take in hand) and Undo, under the player."""

    def __init__(self, editor: MarksEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._editor = editor
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Marks:"))
        self.tool_buttons: dict[str, QPushButton] = {}
        for kind, name in KIND_NAMES.items():
            button = QPushButton(name)
            button.setCheckable(True)
            button.setToolTip(TOOL_TIPS[kind])
            button.clicked.connect(lambda _checked=False, k=kind: editor.choose(k))
            self.tool_buttons[kind] = button
            layout.addWidget(button)
        self.undo_button = QPushButton("Undo mark")
        self.undo_button.setToolTip("Take back the last change to the marks")
        self.undo_button.clicked.connect(editor.undo)
        layout.addWidget(self.undo_button)
        self.hint = QLabel("")
        self.hint.setStyleSheet("color: #666")
        layout.addWidget(self.hint, 1)
        for button in (*self.tool_buttons.values(), self.undo_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the player's
        editor.changed.connect(self._on_editor_changed)
        self._on_editor_changed()

    def _on_editor_changed(self) -> None:
        editor = self._editor
        for kind, button in self.tool_buttons.items():
            button.setEnabled(editor.editable)
            button.setChecked(editor.tool == kind)
        self.undo_button.setEnabled(editor.editable and editor.can_undo)
        hints = {
            "angle": "Click three points: an arm's end, the vertex, the other end",
            "line": "Click the line's two ends",
            "note": "Click where the note goes",
        }
        self.hint.setText(hints.get(editor.tool, ""))


class MarksList(QWidget):
    """The marks by time; a click seeks the player to one, Delete and Clear change the set."""

    seek_requested = Signal(float)  # ms

    def __init__(self, editor: MarksEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._editor = editor
        self.list = QListWidget()
        self.list.itemClicked.connect(self._on_list_item_clicked)
        self.list.itemActivated.connect(self._on_list_item_clicked)
        self.delete_button = QPushButton("Delete mark")
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.clear_button = QPushButton("Clear all")
        self.clear_button.setToolTip("Remove every mark of this clip (Undo brings them back)")
        self.clear_button.clicked.connect(editor.clear)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        editor.changed.connect(self._on_editor_changed)
        self._on_editor_changed()

    def _on_editor_changed(self) -> None:
        editor = self._editor
        self.list.clear()
        for mark in editor.marks:
            item = QListWidgetItem(describe(mark, editor.degrees(mark)))
            item.setData(Qt.ItemDataRole.UserRole, mark.id)
            item.setToolTip("Click to see this frame")
            self.list.addItem(item)
        if editor.editable and not editor.marks:
            self.list.addItem(QListWidgetItem("No marks yet: pause on a frame and draw one."))
        self.delete_button.setEnabled(editor.editable and bool(editor.marks))
        self.clear_button.setEnabled(editor.editable and bool(editor.marks))

    def _mark_of(self, item: QListWidgetItem | None) -> Mark | None:
        mark_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((mark for mark in self._editor.marks if mark.id == mark_id), None)

    def _on_list_item_clicked(self, item: QListWidgetItem) -> None:
        mark = self._mark_of(item)
        if mark is not None:
            self.seek_requested.emit(mark.t_ms)

    def _on_delete_clicked(self) -> None:
        mark = self._mark_of(self.list.currentItem())
        if mark is not None:
            self._editor.delete(mark.id)
