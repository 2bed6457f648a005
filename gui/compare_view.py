"""The student beside the teacher: two players on one transport, the ghost, the count sheet.

A comparison is a job of the job service, as it is for a phone or the API
(:func:`request_comparison`); its result arrives as :class:`ComparisonData` (read on a
pool thread by :func:`load_comparison`). :class:`CompareView` shows it: the student's
player (left) is the master and keeps the only transport; every frame it shows moves
the teacher's player (right) to the teacher's time through the comparison's time map.
The count sheet lists the segments with their scores, coloured; a click seeks both.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dance_analysis.compare.features import PART_NAMES
from dance_analysis.compare.ghost import ghost_points
from dance_analysis.jobs.states import ENDED, JobStatus
from gui.analysis_views import FeedbackList
from gui.player import PlayerView
from gui.result import ClipResult

FloatArray = npt.NDArray[np.float64]

PART_LABELS = {
    "head": "Head", "torso": "Torso", "left_arm": "Left arm", "right_arm": "Right arm",
    "left_leg": "Left leg", "right_leg": "Right leg",
}  # fmt: skip
SHEET_COLUMNS = ("Segment", "Score", "Timing", *(PART_LABELS[p] for p in PART_NAMES))
GOOD_SCORE = 80.0  # green from here …
FAIR_SCORE = 60.0  # … amber from here, red below
# Light backgrounds with dark text: readable in a light or a dark theme alike.
SCORE_COLORS = {"good": QColor("#bfe5b5"), "fair": QColor("#ffdc8f"), "poor": QColor("#f4aaa4")}
SCORE_TEXT = QColor("#1b1b1b")
_COUNTS_LABEL = re.compile(r"counts (\d+)–(\d+)")


def score_color(score: float | None) -> QColor | None:
    """Green at 80 and above, amber from 60, red below; None where nothing was scored."""
    if score is None:
        return None
    if score >= GOOD_SCORE:
        return SCORE_COLORS["good"]
    if score >= FAIR_SCORE:
        return SCORE_COLORS["fair"]
    return SCORE_COLORS["poor"]


def segment_title(label: str) -> str:
    """ "counts 9–16" → "Counts 9–16 of phrase 2"; a time window ("0:04–0:08") as it is."""
    match = _COUNTS_LABEL.fullmatch(label)
    if match is None:
        return label
    first, last = int(match[1]), int(match[2])
    phrase = (first - 1) // max(last - first + 1, 1) + 1
    return f"Counts {first}–{last} of phrase {phrase}"


def timing_text(timing_ms: float | None) -> str:
    """The student's lag in words: positive is behind the teacher, negative ahead."""
    if timing_ms is None:
        return "–"
    rounded = round(timing_ms)
    if rounded == 0:
        return "on time"
    return f"{abs(rounded)} ms {'behind' if rounded > 0 else 'ahead'}"


@dataclass(frozen=True, eq=False)
class ComparisonData:
    """One comparison, ready to show: both clips (file and result) and ``comparison``.

    ``comparison`` is ``result.json``'s block of that name (see issue 9's format).
    ``segment_parts``: per segment, body part → score (0–100, None where unseen), when
    known: the result format keeps only each segment's score and worst part.
    ``ghost``: (n_student, 33, 2) the teacher's skeleton on the student's picture,
    normalised like the landmarks, or None.
    """

    student_id: str
    teacher_id: str
    student_name: str
    teacher_name: str
    student_source: Path | None
    teacher_source: Path | None
    student: ClipResult
    teacher: ClipResult
    comparison: dict[str, Any]
    feedback: list[dict[str, Any]]
    segment_parts: list[dict[str, float | None]] | None = None
    ghost: FloatArray | None = None
    job_id: str | None = None  # the comparison job whose result this is

    @property
    def segments(self) -> list[dict[str, Any]]:
        return list(self.comparison.get("segments") or [])

    @cached_property
    def map_ms(self) -> FloatArray:
        """(k, 2) ``[student_ms, teacher_ms]`` pairs, student times increasing (read once:
        the teacher's player asks for every frame the student's shows)."""
        pairs = (self.comparison.get("alignment") or {}).get("map") or []
        return np.asarray(pairs, dtype=np.float64).reshape(-1, 2)

    def teacher_ms(self, student_ms: float) -> float:
        """The teacher's time shown beside the student's ``student_ms`` (held at the ends)."""
        pairs = self.map_ms
        if len(pairs) == 0:
            return student_ms
        return float(np.interp(student_ms, pairs[:, 0], pairs[:, 1]))

    def parts_of(self, row: int) -> dict[str, float | None]:
        """Segment ``row``'s part scores; empty when the comparison does not hold them."""
        given = self.segments[row].get("parts")
        if isinstance(given, dict):
            return dict(given)
        if self.segment_parts is not None and row < len(self.segment_parts):
            return dict(self.segment_parts[row])
        return {}


class ComparisonFailed(Exception):
    """The comparison job ended without a result; ``message`` says why, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def request_comparison(service: Any, student_id: str, teacher_id: str) -> str:
    """The id of the comparison job of this pair (on a pool thread: it reads the database).

    The job service compares, as it does for a phone or the API (``JobService.compare``):
    a job of its own, which reuses both analyses, never runs the model, and writes the
    ghost and practice videos into the downloads. Always a new job: an earlier one may
    predate a moved "1" or an analysis made again, and comparing takes seconds.
    """
    return str(service.compare(student_id, teacher_id).id)


def load_comparison(service: Any, comparison_id: str) -> ComparisonData | None:
    """The comparison job's outcome, ready to show; None while it is still running.

    Raises :class:`ComparisonFailed` when the job failed or was canceled. The job's
    result.json is the student's result with ``comparison`` and its feedback merged in;
    the teacher's comes from the teacher's own job. The ghost is placed here, once,
    and drawn live by the student's player.
    """
    view = service.get(comparison_id)
    if view.status not in ENDED:
        return None
    if view.status != JobStatus.FINISHED:
        raise ComparisonFailed(view.message or f"the comparison {view.status}")
    student_dict = _read_result(service, comparison_id)
    teacher_dict = _read_result(service, view.reference_job_id)
    comparison = student_dict.get("comparison") or {}
    student = ClipResult.from_dict(student_dict)
    ghost: FloatArray | None = ghost_points(student_dict, teacher_dict, comparison)
    if ghost is not None and ghost.shape[1:] != student.landmarks.shape[1:]:
        ghost = None  # another skeleton than the ghost's 33 points: its bones would not fit
    own = [item for item in student_dict.get("feedback") or () if item.get("topic") == "comparison"]
    own.sort(key=lambda item: item.get("rank") or len(own) + 1)  # the engine's order
    return ComparisonData(
        student_id=view.student_job_id,
        teacher_id=view.reference_job_id,
        student_name=service.get(view.student_job_id).filename,
        teacher_name=service.get(view.reference_job_id).filename,
        student_source=service.source_path(comparison_id),
        teacher_source=service.source_path(view.reference_job_id),
        student=student,
        teacher=ClipResult.from_dict(teacher_dict),
        comparison=comparison,
        feedback=own,
        ghost=ghost,
        job_id=comparison_id,
    )


def _read_result(service: Any, job_id: str) -> dict[str, Any]:
    handle = service.open_artifact(job_id, "result")
    if handle.local_path is None:
        raise FileNotFoundError(f"the analysis of {job_id} is not on this computer")
    with Path(handle.local_path).open(encoding="utf-8") as stream:
        data: dict[str, Any] = json.load(stream)
    return data


class TeacherChooser(QDialog):
    """Pick the teacher's clip among the library's other finished clips."""

    teacher_chosen = Signal(object)  # JobView

    def __init__(self, student: Any, candidates: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare with…")
        self.student = student
        self.list = QListWidget()
        for view in candidates:
            item = QListWidgetItem(view.filename)
            item.setData(Qt.ItemDataRole.UserRole, view)
            self.list.addItem(item)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"The teacher's clip, to compare “{student.filename}” with:"))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        self._on_list_current_row_changed(self.list.currentRow())

    def names(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def choose(self, name: str) -> None:
        """Select the clip called ``name`` (as a click on it would)."""
        for row in range(self.list.count()):
            if self.list.item(row).text() == name:
                self.list.setCurrentRow(row)

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        super().accept()
        self.teacher_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def _on_list_current_row_changed(self, row: int) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(row >= 0)


class CountSheet(QTableWidget):
    """Segments × (score, timing, body parts), each score coloured; a click asks to seek.

    Only the segment's name is selectable: the row under the playhead is marked there,
    and the score cells keep their colours.
    """

    segment_clicked = Signal(float)  # the segment's start, student ms

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(SHEET_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(SHEET_COLUMNS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(SHEET_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._starts: list[float] = []
        self._ends: list[float] = []
        self.marked_row = -1  # the segment under the playhead, -1 for none
        self.cellClicked.connect(self._on_cell_clicked)

    def show_comparison(self, data: ComparisonData | None) -> None:
        self.clearContents()
        self._starts, self._ends = [], []
        self.marked_row = -1
        segments = data.segments if data is not None else []
        self.setRowCount(len(segments))
        if data is None:
            return
        for row, segment in enumerate(segments):
            self._starts.append(float(segment["start_ms"]))
            self._ends.append(float(segment["end_ms"]))
            parts = data.parts_of(row)
            self._put(row, 0, segment_title(str(segment.get("label") or "")), None)
            self._put(row, 1, _score_text(segment.get("score")), segment.get("score"))
            timing = self._put(row, 2, timing_text(segment.get("timing_ms")), None)
            timing.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for k, part in enumerate(PART_NAMES):
                score = parts.get(part)
                item = self._put(row, 3 + k, _score_text(score), score)
                if part == segment.get("worst_part"):  # named even without part scores
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                    item.setToolTip("The weakest part in this segment")
                    if not parts:
                        item.setText("worst")

    def mark_at(self, t_ms: float) -> None:
        """Select the segment playing at ``t_ms`` (student time), so the sheet follows."""
        row = next(
            (
                k
                for k, (a, b) in enumerate(zip(self._starts, self._ends, strict=True))
                if a <= t_ms < b
            ),
            -1,
        )
        if row == self.marked_row:
            return
        self.marked_row = row
        if row < 0:
            self.clearSelection()
        else:
            self.selectRow(row)

    def _put(self, row: int, column: int, text: str, score: Any) -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        # Coloured by the number shown: a cell reading "80" is green, never amber.
        color = score_color(None if score is None else float(round(float(score))))
        if color is not None:
            item.setBackground(QBrush(color))
            item.setForeground(QBrush(SCORE_TEXT))
        if column > 0:
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            # Only the segment's name shows the selection: the scores keep their colours.
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        self.setItem(row, column, item)
        return item

    def _on_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._starts):
            self.segment_clicked.emit(self._starts[row])


def _score_text(score: Any) -> str:
    return "–" if score is None else f"{float(score):.0f}"


class CompareView(QWidget):
    """The Compare tab. ``comparison_shown`` once both players have a comparison open."""

    comparison_shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ComparisonData | None = None
        self._pending: str | None = None  # what the title says while a comparison runs
        self.student = PlayerView()
        self.teacher = PlayerView()
        self.sheet = CountSheet()
        self.feedback = FeedbackList()  # the comparison's, ranked; a click seeks both
        self.title = QLabel("Choose a clip in the library, then “Compare with…”")
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.ghost_box = QCheckBox("Teacher's ghost")
        self.ghost_box.setToolTip(
            "The teacher's pose (green) on the student's body, over the student's video"
        )
        self.ghost_box.setEnabled(False)
        self.ghost_box.toggled.connect(self._on_ghost_box_toggled)
        self.student_label = QLabel("Student")
        self.teacher_label = QLabel("Teacher")

        # One transport: the teacher's player follows the student's and has none.
        for widget in (
            self.teacher.play_button, self.teacher.back_button, self.teacher.forward_button,
            self.teacher.slider, self.teacher.speed_box, self.teacher.a_button,
            self.teacher.b_button, self.teacher.clear_loop_button,
            self.teacher.count_loop_button, self.teacher.loop_label,
        ):  # fmt: skip
            widget.hide()
        self.teacher.mirror_box.setText("Mirror teacher")

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.ghost_box)
        student_side = _captioned(self.student_label, self.student)
        teacher_side = _captioned(self.teacher_label, self.teacher)
        players = QSplitter(Qt.Orientation.Horizontal)
        players.addWidget(student_side)
        players.addWidget(teacher_side)
        players.setChildrenCollapsible(False)
        players.setStretchFactor(0, 1)
        players.setStretchFactor(1, 1)
        players.setSizes([600, 600])
        sheet_side = QWidget()
        sheet_layout = QVBoxLayout(sheet_side)
        sheet_layout.setContentsMargins(0, 0, 0, 0)
        sheet_layout.addWidget(self.summary)
        self.lower_tabs = QTabWidget()
        self.lower_tabs.addTab(self.sheet, "Count sheet")
        self.lower_tabs.addTab(self.feedback, "Feedback")
        sheet_layout.addWidget(self.lower_tabs, 1)
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(players)
        vertical.addWidget(sheet_side)
        vertical.setStretchFactor(0, 3)
        vertical.setStretchFactor(1, 2)
        vertical.setSizes([480, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(vertical, 1)

        self.student.position_changed.connect(self._on_student_position_changed)
        self.sheet.segment_clicked.connect(self._on_sheet_segment_clicked)
        self.feedback.seek_requested.connect(self._on_sheet_segment_clicked)
        self.student.add_shortcuts(self)

    def shows(self, job_id: str) -> bool:
        """Whether ``job_id`` is one of the two clips on screen."""
        return self.data is not None and job_id in (self.data.student_id, self.data.teacher_id)

    def close_comparison(self, message: str) -> None:
        """Nothing to show (a clip was deleted, the comparison failed): say why."""
        self.data = None
        self._pending = None
        self.title.setText(message)
        self.summary.setText("")
        self.sheet.show_comparison(None)
        self.feedback.set_result(None)
        self.ghost_box.setEnabled(False)
        self.student.canvas.set_ghost(None)
        self.student.close_clip()
        self.teacher.close_clip()

    def show_pending(self, student_name: str, teacher_name: str) -> None:
        """A comparison was asked for: the old one goes, the new one is being computed."""
        self.data = None
        self._pending = f"Comparing {student_name} with {teacher_name}…"
        self.title.setText(self._pending)
        self.summary.setText("")
        self.sheet.show_comparison(None)
        self.feedback.set_result(None)
        self.ghost_box.setEnabled(False)
        self.student.canvas.set_ghost(None)
        self.student.show_loading(student_name)
        self.teacher.show_loading(teacher_name)

    def show_progress(self, stage: str | None, percent: int) -> None:
        """The comparison job's progress, while the tab waits for it."""
        if self.data is None and self._pending is not None:
            doing = f" {stage.replace('_', ' ')}" if stage else ""
            self.title.setText(f"{self._pending}{doing} {percent}%")

    def show_comparison(self, data: ComparisonData) -> None:
        self.data = data
        self._pending = None
        comparison = data.comparison
        self.title.setText(f"{data.student_name} beside {data.teacher_name}")
        self.student_label.setText(f"Student: {data.student_name}")
        self.teacher_label.setText(f"Teacher: {data.teacher_name}")
        self.summary.setText(summary_text(comparison))
        self.sheet.show_comparison(data)
        self.feedback.set_result(dataclasses.replace(data.student, feedback=data.feedback))
        self.teacher.mirror_box.setChecked(bool(comparison.get("mirrored")))
        self.ghost_box.setEnabled(data.ghost is not None)
        for player, source, result in (
            (self.student, data.student_source, data.student),
            (self.teacher, data.teacher_source, data.teacher),
        ):
            if source is None or not source.exists():
                player.close_clip()
                player.canvas.message = "This clip's video is not on this computer"
                continue
            has_audio = bool(result.video.get("has_audio"))
            player.open_clip(source, result, has_audio=has_audio)
        self.comparison_shown.emit()

    def shutdown(self) -> None:
        self.student.shutdown()
        self.teacher.shutdown()

    # --- internals ------------------------------------------------------------------

    def _ghost_at(self, index: int) -> FloatArray | None:
        ghost = self.data.ghost if self.data is not None else None
        if ghost is None or not self.ghost_box.isChecked() or not 0 <= index < len(ghost):
            return None
        return ghost[index]

    def _on_student_position_changed(self, index: int, t_ms: float) -> None:
        self.student.canvas.set_ghost(self._ghost_at(index))
        self.sheet.mark_at(t_ms)
        if self.data is not None:
            self.teacher.seek_ms(self.data.teacher_ms(t_ms))

    def _on_sheet_segment_clicked(self, start_ms: float) -> None:
        self.student.pause()
        self.student.seek_ms(start_ms)  # the teacher follows the frame it shows

    def _on_ghost_box_toggled(self, _checked: bool) -> None:
        self.student.canvas.set_ghost(self._ghost_at(self.student.index))


def summary_text(comparison: dict[str, Any]) -> str:
    """The line above the count sheet: the score, mirror, where and how fast."""
    overall = comparison.get("overall")
    parts = [f"Overall {_score_text(overall)} / 100"]
    parts.append(
        "mirrored: the student dances the teacher's mirror image"
        if comparison.get("mirrored")
        else "not mirrored"
    )
    offset_s = float(comparison.get("time_offset_ms") or 0.0) / 1000.0
    parts.append(f"the teacher's start falls at {offset_s:+.1f} s in the student's clip")
    ratio = comparison.get("tempo_ratio")
    if ratio is not None:
        parts.append(f"tempo {float(ratio):.2f}× the teacher's")
    method = (comparison.get("alignment") or {}).get("method")
    if method:
        parts.append("matched by the counts" if method == "counts" else "matched by the moves")
    return " · ".join(parts)


def _captioned(caption: QLabel, player: PlayerView) -> QWidget:
    side = QWidget()
    layout = QVBoxLayout(side)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(caption)
    layout.addWidget(player, 1)
    return side
