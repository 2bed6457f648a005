"""The library: every clip and its job, live status, thumbnail, duration, date.

Clips are grouped by student (and class) once any clip names one: a header per
student, newest clips first under it, and "No student" for the rest; "Group by
student" turns the grouping off. The job service's list is the only store; this view
mirrors it. It is filled once
from :meth:`JobService.list` (on a background thread) and then kept current by job
events (:class:`gui.tasks.JobEventBridge`), so a clip a phone uploads appears by
itself. Thumbnails and durations are read from the stored clip in the background.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dance_analysis.jobs.states import ENDED, JobStatus
from dance_analysis.stages import Stage

THUMB_PX = 64
MINIMUM_WIDTH_PX = 440
HIDDEN_STATES = frozenset({JobStatus.AWAITING_UPLOAD})  # an upload on its way: not a clip yet
_ID_ROLE = Qt.ItemDataRole.UserRole
_GROUP_ROLE = Qt.ItemDataRole.UserRole + 1  # a student header's key (name_key; "": nobody)
NO_STUDENT = "No student"
_STAGES: dict[str, str] = {
    Stage.PROBE: "reading", Stage.POSE: "finding the dancer", Stage.MEASURE: "measuring",
    Stage.WRITE: "writing results",
}  # fmt: skip


def status_text(view: Any) -> str:
    """A job's state in a coach's words, short enough to leave room for the clip's name."""
    if view.status == JobStatus.QUEUED:
        return "Waiting"
    if view.status == JobStatus.STARTED:
        return f"Analysing {view.progress}%"
    if view.status == JobStatus.FINISHED:
        return "Ready"
    if view.status == JobStatus.CANCELED:
        return "Canceled"
    if view.status == JobStatus.FAILED:
        return "Not analysed"
    return str(view.status)


def status_detail(view: Any) -> str:
    """The whole story, for the tooltip: the stage, or why it failed."""
    if view.status == JobStatus.STARTED:
        stage = _STAGES.get(view.stage or "", view.stage or "analysing")
        return f"Analysing: {stage} {view.progress}%"
    if view.status == JobStatus.FAILED:
        return f"Not analysed: {view.message or view.reason or 'unknown error'}"
    return status_text(view)


def read_thumbnail(path: Path) -> tuple[QImage, float]:
    """(first frame scaled to a thumbnail, duration in s); runs on a pool thread."""
    from gui.frames import open_decoder, to_qimage

    with open_decoder(path) as decoder:
        image = to_qimage(decoder.frame(0))
        duration = decoder.info.duration_s
    return image.scaled(THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation), duration  # fmt: skip


class LibraryView(QWidget):
    """Clips with their jobs. Emits what the user asked for; the window does the work."""

    job_selected = Signal(object)  # JobView
    import_requested = Signal()
    delete_requested = Signal(object)  # JobView
    reanalyse_requested = Signal(object)  # JobView
    thumbnail_wanted = Signal(object)  # JobView: the window reads it in the background
    compare_requested = Signal(object)  # JobView: the student's; the window asks for the teacher
    comparison_open_requested = Signal(object)  # JobView: a finished comparison of the clip
    share_requested = Signal(object)  # JobView: a finished job with a report (issue 12)
    student_edit_requested = Signal(object)  # JobView: the window asks whose lesson it is
    student_page_requested = Signal(str)  # a student's name: show their progress

    COLUMNS = ("Clip", "Status", "Duration", "Added")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views: dict[str, Any] = {}
        # The newest finished comparison of each student's clip (a phone's, the API's or
        # the desktop's own): not listed, opened with "Open comparison".
        self.comparisons: dict[str, Any] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._headers: dict[str, QTreeWidgetItem] = {}  # name_key ("": no student) → header
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search clips by name")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.group_toggle = QCheckBox("Group by student")
        self.group_toggle.setChecked(True)
        self.group_toggle.toggled.connect(self._on_group_toggle_toggled)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(list(self.COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(QSize(THUMB_PX, THUMB_PX))
        # Not uniform: a student's header (text only) sets no height for the clips'
        # thumbnail rows (with it first, every thumbnail was cut to a sliver).
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keeps the extension
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # The name column takes what the others leave; the panel is kept wide enough
        # for the others at their widest ("Analysing 100%") and a name beside them
        # (and for the row of buttons below: see the end of __init__).
        self.tree.currentItemChanged.connect(self._on_tree_current_item_changed)
        self.import_button = QPushButton("Import clip…")
        self.import_button.clicked.connect(self.import_requested)
        self.reanalyse_button = QPushButton("Analyse again")
        self.reanalyse_button.clicked.connect(
            lambda: self._emit_for_current(self.reanalyse_requested)
        )
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(lambda: self._emit_for_current(self.delete_requested))
        self.compare_button = QPushButton("Compare with…")
        self.compare_button.setToolTip("Set this clip beside a teacher's clip from the library")
        self.compare_button.clicked.connect(lambda: self._emit_for_current(self.compare_requested))
        # The same action on a right click, with the clip under the mouse made current.
        self.compare_action = QAction("Compare with…", self)
        self.compare_action.triggered.connect(
            lambda: self._emit_for_current(self.compare_requested)
        )
        self.open_comparison_action = QAction("Open comparison", self)
        self.open_comparison_action.setToolTip(
            "Show this clip's latest comparison with a teacher (made here or by a phone)"
        )
        self.open_comparison_action.triggered.connect(self._on_open_comparison_triggered)
        self.share_action = QAction("Share report…", self)
        self.share_action.setToolTip("A link and QR code the student opens without pairing")
        self.share_action.triggered.connect(lambda: self._emit_for_current(self.share_requested))
        # And as a button: the report is what a coach sends after most lessons.
        self.share_button = QPushButton("Share…")
        self.share_button.setToolTip("Send the student their report: a link and a QR code")
        self.share_button.clicked.connect(lambda: self._emit_for_current(self.share_requested))
        self.context_menu = QMenu(self)
        self.context_menu.addAction(self.compare_action)
        self.context_menu.addAction(self.open_comparison_action)
        self.context_menu.addAction(self.share_action)
        self.student_action = QAction("Student…", self)
        self.student_action.setToolTip("Name the student (and class) whose lesson this clip is")
        self.student_action.triggered.connect(
            lambda: self._emit_for_current(self.student_edit_requested)
        )
        self.progress_action = QAction("Show progress", self)
        self.progress_action.setToolTip("This student's lessons over time, as plots")
        self.progress_action.triggered.connect(self._on_progress_action_triggered)
        self.context_menu.addSeparator()
        self.context_menu.addAction(self.student_action)
        self.context_menu.addAction(self.progress_action)
        self.tree.itemDoubleClicked.connect(self._on_tree_item_double_clicked)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.share_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reanalyse_button)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.group_toggle)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        # Never narrower than the buttons' row: every label stays whole.
        self.setMinimumWidth(max(MINIMUM_WIDTH_PX, buttons.minimumSize().width()))
        self._update_buttons()

    # --- fed by the window ----------------------------------------------------------

    def set_jobs(self, views: list[Any]) -> None:
        for view in sorted(views, key=lambda v: v.created_at):
            self._update_job(view, arrange=False)
        self._arrange()  # once for the whole list

    def update_job(self, view: Any) -> None:
        self._update_job(view, arrange=True)

    def _update_job(self, view: Any, *, arrange: bool) -> None:
        # A comparison job (made by a phone or the API) is not a clip of its own: it plays
        # the student's clip, which is listed already; the Compare tab shows comparisons.
        if getattr(view, "is_comparison", False):
            self._keep_comparison(view)
            return
        if view.status in HIDDEN_STATES:
            return
        item = self._items.get(view.id)
        known = self.views.get(view.id)
        self.views[view.id] = view
        if item is None:
            item = QTreeWidgetItem()
            item.setData(0, _ID_ROLE, view.id)
            self._items[view.id] = item
            self.thumbnail_wanted.emit(view)
        item.setText(0, view.filename)
        item.setToolTip(0, _clip_tooltip(view))
        item.setText(1, status_text(view))
        item.setToolTip(1, status_detail(view))
        item.setText(3, _local_time(view.created_at))
        item.setHidden(not self._matches(view))
        renamed = known is not None and (known.student, known.class_name) != (
            view.student, view.class_name,
        )  # fmt: skip
        if arrange and (renamed or not self._placed_new(item, view)):
            self._arrange()
        self._update_buttons()  # another clip finishing can make "Compare with…" possible

    def set_thumbnail(self, job_id: str, image: QImage, duration_s: float) -> None:
        item = self._items.get(job_id)
        if item is None:
            return
        item.setIcon(0, QIcon(QPixmap.fromImage(image)))
        minutes, seconds = divmod(duration_s, 60)
        item.setText(2, f"{int(minutes)}:{seconds:04.1f}")

    def _keep_comparison(self, view: Any) -> None:
        if view.status != JobStatus.FINISHED or view.student_job_id is None:
            return
        known = self.comparisons.get(view.student_job_id)
        if known is None or known.id == view.id or view.created_at >= known.created_at:
            self.comparisons[view.student_job_id] = view
            self._update_buttons()

    def comparison_of(self, job_id: str) -> Any | None:
        """The newest finished comparison with ``job_id`` as the student, whose teacher's
        clip is still in the library."""
        view = self.comparisons.get(job_id)
        if view is None or view.reference_job_id not in self.views:
            return None
        return view

    def _on_open_comparison_triggered(self) -> None:
        current = self.current_job()
        comparison = None if current is None else self.comparison_of(current.id)
        if comparison is not None:
            self.comparison_open_requested.emit(comparison)

    def remove_job(self, job_id: str) -> None:
        item = self._items.pop(job_id, None)
        self.views.pop(job_id, None)
        self.comparisons.pop(job_id, None)
        if item is not None:
            self._detach(item)
            self._arrange()
        self._update_buttons()

    def select_job(self, job_id: str) -> None:
        item = self._items.get(job_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def current_job(self) -> Any | None:
        item = self.tree.currentItem()
        return None if item is None else self.views.get(item.data(0, _ID_ROLE))

    def finished_jobs(self, *, excluding: str | None = None) -> list[Any]:
        """The clips with a result (newest first), those a comparison can use."""
        views = [
            view
            for view in self.views.values()
            if view.status == JobStatus.FINISHED and view.id != excluding
        ]
        return sorted(views, key=lambda v: v.created_at, reverse=True)

    def visible_names(self) -> list[str]:
        return [item.text(0) for item in self._clip_items() if not item.isHidden()]

    @property
    def grouped(self) -> bool:
        """Whether clips are shown under student headers now."""
        return self.group_toggle.isChecked() and any(v.student for v in self.views.values())

    def groups(self) -> dict[str, list[str]]:
        """Header text → the clip names under it, as shown (empty when not grouped)."""
        return {
            header.text(0): [child.text(0) for child in _children(header)]
            for header in self._top_items()
            if header.data(0, _GROUP_ROLE) is not None
        }

    def header_for(self, student: str | None) -> QTreeWidgetItem | None:
        return self._headers.get(_group_key(student))

    def students(self) -> list[str]:
        """Every student's name the clips carry (their newest clip's spelling)."""
        names: dict[str, str] = {}
        for view in sorted(self.views.values(), key=lambda v: v.created_at):
            if view.student:
                names[_group_key(view.student)] = view.student
        return sorted(names.values(), key=str.casefold)

    def item_for(self, job_id: str) -> QTreeWidgetItem | None:
        return self._items.get(job_id)

    # --- internals ------------------------------------------------------------------

    def _top_items(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(row) for row in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _clip_items(self) -> list[QTreeWidgetItem]:
        """Every clip's row, top to bottom."""
        rows: list[QTreeWidgetItem] = []
        for item in self._top_items():
            if item.data(0, _GROUP_ROLE) is None:
                rows.append(item)
            else:
                rows.extend(_children(item))
        return rows

    def _detach(self, item: QTreeWidgetItem) -> None:
        parent = item.parent()
        if parent is not None:
            parent.removeChild(item)
        elif item.treeWidget() is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))

    def _placed_new(self, item: QTreeWidgetItem, view: Any) -> bool:
        """A new clip put on top of its place, when that place is there already (the
        common case: a phone's upload); False when the tree must be arranged anew."""
        if item.treeWidget() is not None:
            return True
        if not self.grouped:
            if self._headers:
                return False  # the grouping just ended (cannot happen by a new clip)
            self.tree.insertTopLevelItem(0, item)  # newest first
            return True
        header = self._headers.get(_group_key(view.student))
        if header is None:
            return False
        header.insertChild(0, item)
        header.setText(0, _header_text([self.views[i] for i in self._ids_under(header)]))
        if not item.isHidden():
            header.setHidden(False)
        return True

    def _arrange(self) -> None:
        """Put every clip where it belongs: under its student's header (newest first,
        students by name, "No student" last) or, not grouped, in one list, newest first.

        Items move without a word to the window: the clip that was current stays current
        and no ``job_selected`` is emitted for a move.
        """
        current = self.current_job()
        grouped = self.grouped
        self.tree.blockSignals(True)
        try:
            for item in self._items.values():
                self._detach(item)
            for header in self._headers.values():
                self._detach(header)
            clips = sorted(self.views.values(), key=lambda v: v.created_at, reverse=True)
            clips = [view for view in clips if view.id in self._items]
            if not grouped:
                self._headers.clear()
                self.tree.addTopLevelItems([self._items[view.id] for view in clips])
            else:
                self._group(clips)
            self.tree.setRootIsDecorated(grouped)
            if current is not None and current.id in self._items:
                self.tree.setCurrentItem(self._items[current.id])
        finally:
            self.tree.blockSignals(False)

    def _group(self, clips: list[Any]) -> None:
        members: dict[str, list[Any]] = {}
        for view in clips:
            members.setdefault(_group_key(view.student), []).append(view)
        for key in list(self._headers):
            if key not in members:
                del self._headers[key]
        order = sorted(members, key=lambda key: (key == "", key))
        for key in order:
            header = self._headers.get(key)
            if header is None:
                header = QTreeWidgetItem()
                header.setData(0, _GROUP_ROLE, key)
                header.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                font = header.font(0)
                font.setBold(True)
                header.setFont(0, font)
                self._headers[key] = header
            views = members[key]
            header.setText(0, _header_text(views))
            self.tree.addTopLevelItem(header)
            header.setFirstColumnSpanned(True)
            header.addChildren([self._items[view.id] for view in views])
            header.setExpanded(True)
            header.setHidden(all(self._items[view.id].isHidden() for view in views))

    def _header_student(self, item: QTreeWidgetItem | None) -> str | None:
        """The student a row stands for: a header's, or a clip's own."""
        if item is None:
            return None
        key = item.data(0, _GROUP_ROLE)
        if key is not None:
            views = [self.views[i] for i in self._ids_under(item)]  # newest first
            return next((v.student for v in views if v.student), None)
        view = self.views.get(item.data(0, _ID_ROLE))
        return None if view is None else view.student

    def _ids_under(self, header: QTreeWidgetItem) -> list[str]:
        return [str(child.data(0, _ID_ROLE)) for child in _children(header)]

    def _on_group_toggle_toggled(self, _checked: bool) -> None:
        self._arrange()

    def _on_progress_action_triggered(self) -> None:
        name = self._header_student(self.tree.currentItem())
        if name:
            self.student_page_requested.emit(name)

    def _on_tree_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, _GROUP_ROLE):
            name = self._header_student(item)
            if name:
                self.student_page_requested.emit(name)

    def _matches(self, view: Any) -> bool:
        words = self.search.text().lower().split()
        name = view.filename.lower()
        return all(word in name for word in words)

    def _on_search_text_changed(self, _text: str) -> None:
        for job_id, item in self._items.items():
            item.setHidden(not self._matches(self.views[job_id]))
        for header in self._headers.values():
            header.setHidden(all(child.isHidden() for child in _children(header)))

    def _on_tree_current_item_changed(
        self, current: QTreeWidgetItem | None, _previous: Any
    ) -> None:
        self._update_buttons()
        view = self.current_job()
        if view is not None:
            self.job_selected.emit(view)

    def _on_tree_context_menu_requested(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        self.tree.setCurrentItem(item)
        self.context_menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _emit_for_current(self, signal: Any) -> None:
        view = self.current_job()
        if view is not None:
            signal.emit(view)

    def _update_buttons(self) -> None:
        view = self.current_job()
        self.delete_button.setEnabled(view is not None)
        self.reanalyse_button.setEnabled(view is not None and view.status in ENDED)
        comparable = (
            view is not None
            and view.status == JobStatus.FINISHED
            and bool(self.finished_jobs(excluding=view.id))
        )
        self.compare_button.setEnabled(comparable)
        self.compare_action.setEnabled(comparable)
        self.open_comparison_action.setEnabled(
            view is not None and self.comparison_of(view.id) is not None
        )
        shareable = (
            view is not None
            and view.status == JobStatus.FINISHED
            and "report" in (view.artifacts or {})
        )
        self.share_action.setEnabled(shareable)
        self.share_button.setEnabled(shareable)
        self.student_action.setEnabled(view is not None)
        self.progress_action.setEnabled(bool(self._header_student(self.tree.currentItem())))


def _children(header: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    children = (header.child(i) for i in range(header.childCount()))
    return [child for child in children if child is not None]


def _group_key(student: str | None) -> str:
    """A student's header key: the name without case or repeated spaces; "": nobody."""
    return " ".join(student.split()).casefold() if student else ""


def _header_text(views: list[Any]) -> str:
    """``Anna Lee · Juniors (3 clips)``, as the newest clip names them (newest first)."""
    named = next((v for v in views if v.student), None)
    if named is None:
        name = NO_STUDENT
    else:
        class_name = next((v.class_name for v in views if v.class_name), None)
        name = named.student if not class_name else f"{named.student} · {class_name}"
    count = len(views)
    return f"{name} ({count} clip{'s' if count != 1 else ''})"


def _clip_tooltip(view: Any) -> str:
    if not view.student:
        return str(view.filename)
    whose = view.student if not view.class_name else f"{view.student}, {view.class_name}"
    return f"{view.filename}\n{whose}"


def _local_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone().strftime("%d %b %H:%M")
