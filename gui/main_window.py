"""The main window: library, player, analysis views, phones and settings.

It is handed the services by the composition root (``main.py``) and never builds
them. Calls into them run on :class:`gui.tasks.Tasks`; job events arrive through
:class:`gui.tasks.JobEventBridge`; decoded frames through the player's decoder
thread. Nothing here blocks the GUI thread on a database, a file or the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dance_analysis.jobs.states import ENDED, JobStatus
from gui.analysis_views import AnglesPlot, FeedbackList, SummaryTable
from gui.compare_view import (
    CompareView,
    ComparisonData,
    TeacherChooser,
    load_comparison,
    request_comparison,
)
from gui.library import LibraryView, read_thumbnail
from gui.marks import MarksEditor, MarksList, MarksToolbar
from gui.phones import PhonesPanel, s3_status_of
from gui.player import PlayerView
from gui.result import ClipResult
from gui.settings_view import SettingsView
from gui.share import DEFAULT_LIFETIME_S, ShareDialog
from gui.student_view import StudentDialog, StudentView
from gui.tasks import JobEventBridge, Tasks

log = logging.getLogger(__name__)

MINIMUM_SIZE = QSize(1000, 640)
VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.avi *.mkv *.webm);;All files (*)"
_CHUNK = 1 << 20


class ErrorBanner(QFrame):
    """Problems a coach can act on, at the top of the window (not only in a log)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(
            "ErrorBanner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }"
            "QLabel { color: #8a1c14; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        close = QPushButton("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.messages: list[str] = []
        self.hide()

    def show_message(self, message: str) -> None:
        self.messages.append(message)
        self.label.setText(message)
        self.show()


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


class MainWindow(QMainWindow):
    """``result_shown(job_id)`` once a finished job's result is in the player and views."""

    result_shown = Signal(str)
    marks_saved = Signal(str)  # job id: every mark edited so far is stored

    def __init__(
        self,
        settings: Any,
        service: Any,
        access: Any,
        *,
        api_url: str | None = None,
        startup_problems: list[str] | None = None,
        s3_status: Callable[[], tuple[str, bool | None]] | None = None,
        settings_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Dance Analysis")
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._settings = settings
        self._service = service
        self._api_url = api_url
        self.share_dialog: ShareDialog | None = None
        self._access = access
        self._closed = False
        self._current_id: str | None = None
        self._loaded_result_for: str | None = None
        # Moves of the "1" run one at a time, in the order asked: each shift is
        # relative to the counts the one before left.
        self._one_moves: list[tuple[str, dict[str, Any]]] = []  # (job id, move_one's kwargs)
        self._moving_one = False
        self._comparing: tuple[str, str] | None = None  # (student, teacher) asked for last
        self._comparison_job: str | None = None  # its comparison job, until shown
        self.teacher_chooser: TeacherChooser | None = None
        self.student_dialog: StudentDialog | None = None
        self.tasks = Tasks(self)
        self.bridge = JobEventBridge()
        self.bridge.job_changed.connect(self._on_bridge_job_changed)

        self.banner = ErrorBanner()
        self.library = LibraryView()
        self.player = PlayerView()
        self.angles = AnglesPlot()
        self.summary = SummaryTable()
        self.feedback = FeedbackList()
        self.clip_title = QLabel("No clip selected")
        self.clip_title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.analysis_tabs = QTabWidget()
        self.analysis_tabs.addTab(self.angles, "Joint angles")
        self.analysis_tabs.addTab(self.feedback, "Feedback")
        self.analysis_tabs.addTab(self.summary, "Summary")
        # The coach's marks (issue 12): drawn on the player, listed in their own tab.
        self.marks = MarksEditor(self.player)
        self.marks_list = MarksList(self.marks)
        self.player.add_tools(MarksToolbar(self.marks))
        self.analysis_tabs.addTab(self.marks_list, "Marks")
        self._marks_to_save: tuple[str, list[Any]] | None = None  # the latest set, not yet sent
        self._saving_marks: str | None = None  # the job whose marks are being saved
        self._marks_edits = 0  # a load asked for before an edit must not undo it

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.clip_title)
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(self.player)
        vertical.addWidget(self.analysis_tabs)
        vertical.setStretchFactor(0, 3)
        vertical.setStretchFactor(1, 2)
        vertical.setSizes([470, 280])
        self.player_split = vertical
        right_layout.addWidget(vertical, 1)
        studio = QSplitter(Qt.Orientation.Horizontal)
        studio.addWidget(self.library)
        studio.addWidget(right)
        studio.setStretchFactor(0, 1)
        studio.setStretchFactor(1, 3)
        studio.setSizes([380, 900])
        studio.setChildrenCollapsible(False)
        self.studio = studio
        self.player.add_shortcuts(studio)

        self.phones = PhonesPanel(
            access, self.tasks, api_url, s3_status or s3_status_of(settings, service)
        )
        self.settings_view = SettingsView(settings, settings_path)
        self.compare_view = CompareView()
        self.student_view = StudentView()
        self.tabs = QTabWidget()
        self.tabs.addTab(studio, "Studio")
        self.tabs.addTab(self.compare_view, "Compare")
        self.tabs.addTab(self.student_view, "Students")
        self.tabs.addTab(self.phones, "Phones")
        self.tabs.addTab(self.settings_view, "Settings")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.setMinimumSize(MINIMUM_SIZE)
        self.server_label = QLabel(
            f"Phones connect to {api_url}"
            if api_url
            else "Server not running: phones cannot connect"
        )
        self.statusBar().addPermanentWidget(self.server_label)

        self.library.job_selected.connect(self._on_library_job_selected)
        self.library.import_requested.connect(self.choose_files)
        self.library.delete_requested.connect(self._on_library_delete_requested)
        self.library.reanalyse_requested.connect(self._on_library_reanalyse_requested)
        self.library.thumbnail_wanted.connect(self._on_library_thumbnail_wanted)
        self.library.compare_requested.connect(self._on_library_compare_requested)
        self.library.comparison_open_requested.connect(self.open_comparison)
        self.library.share_requested.connect(self.share_report)
        self.library.student_edit_requested.connect(self.edit_student)
        self.library.student_page_requested.connect(self.show_student)
        self.student_view.student_chosen.connect(self.show_student)
        self.student_view.lesson_open_requested.connect(self.open_lesson)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.compare_view.student.clip_failed.connect(self.banner.show_message)
        self.compare_view.teacher.clip_failed.connect(self.banner.show_message)
        self.player.position_changed.connect(self._on_player_position_changed)
        self.player.clip_failed.connect(self.banner.show_message)
        self.player.dancer_requested.connect(self.analyse_dancer)
        self.angles.seek_requested.connect(self.player.seek_ms)
        self.feedback.seek_requested.connect(self.player.seek_ms)
        self.marks_list.seek_requested.connect(self.player.seek_ms)
        self.marks.edited.connect(self._on_marks_edited)
        self.result_shown.connect(self._load_marks)
        self.player.ruler.one_requested.connect(self._on_ruler_one_requested)
        self.player.ruler.one_shift_requested.connect(self._on_ruler_one_shift_requested)
        self.phones.storage_problem.connect(
            lambda text: self.banner.show_message(f"Cloud storage unreachable. {text}")
        )

        for problem in startup_problems or []:
            self.banner.show_message(problem)
        self.tasks.run(self._subscribe_and_list, self.library.set_jobs, self._report)
        self.phones.start()

    # --- importing ------------------------------------------------------------------

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import clips", str(Path.home()), VIDEO_FILTER
        )
        self.import_files([Path(path) for path in paths])

    def _subscribe_and_list(self) -> list[Any]:
        """On a pool thread: job events first, then the list, so no change falls between."""
        self.bridge.attach(self._service.subscribe)
        return list(self._service.list(limit=1000))

    def import_files(self, paths: list[Path]) -> None:
        """Copy each clip into the library and queue it (in the background)."""
        for path in paths:
            self.statusBar().showMessage(f"Importing {path.name}…", 5000)
            self._import(path)

    def _import(self, path: Path) -> None:
        def submit() -> Any:
            return self._service.submit(path.name, _chunks(path))

        def failed(error: Exception) -> None:
            self._report(error, f"“{path.name}” was not imported")

        self.tasks.run(submit, self._on_imported, failed)

    def _on_imported(self, view: Any) -> None:
        self.library.update_job(view)
        self.library.select_job(view.id)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        files = [path for path in paths if path.is_file()]
        if files:
            event.acceptProposedAction()
            self.import_files(files)

    # --- library actions ------------------------------------------------------------

    def _on_library_job_selected(self, view: Any) -> None:
        if view.id == self._current_id:
            return
        self._current_id = view.id
        self._loaded_result_for = None
        self.marks.reset()
        self.clip_title.setText(view.filename)
        self.player.show_loading(view.filename)  # the old picture goes at once
        self._show_result(None)
        self.tasks.run(lambda: self._load(view), self._on_loaded, self._report)

    def _load(self, view: Any) -> tuple[str, Path | None, ClipResult | None]:
        """On a pool thread: the clip's local file and, when finished, its result."""
        source = self._service.source_path(view.id)
        result = None
        if view.status == JobStatus.FINISHED:
            handle = self._service.open_artifact(view.id, "result")
            if handle.local_path is not None:
                result = ClipResult.load(handle.local_path)
        return view.id, source, result

    def _on_loaded(self, loaded: tuple[str, Path | None, ClipResult | None]) -> None:
        job_id, source, result = loaded
        if job_id != self._current_id:
            return  # the user moved on meanwhile
        if source is None or not source.exists():
            self.player.close_clip()
            self._show_result(result)
            self.banner.show_message(
                "This clip's video is not on this computer, so it cannot be played."
            )
            return
        has_audio = bool(result.video.get("has_audio")) if result is not None else False
        self.player.open_clip(source, result, has_audio=has_audio)
        self._show_result(result)
        if result is not None:
            self._loaded_result_for = job_id
            self.result_shown.emit(job_id)

    def _on_result_ready(self, loaded: tuple[str, Path | None, ClipResult | None]) -> None:
        job_id, _source, result = loaded
        if job_id != self._current_id or result is None:
            return
        self._loaded_result_for = job_id
        self.player.set_result(result)
        self._show_result(result)
        self.result_shown.emit(job_id)

    def _show_result(self, result: ClipResult | None) -> None:
        self.angles.set_result(result)
        self.summary.set_result(result)
        self.feedback.set_result(result)

    # --- moving the "1" ---------------------------------------------------------------

    def _on_ruler_one_requested(self, t_ms: float) -> None:
        self.move_one(one_ms=t_ms)

    def _on_ruler_one_shift_requested(self, beats: int) -> None:
        self.move_one(shift_beats=beats)

    def move_one(self, **move: Any) -> None:
        """Ask the service to put the "1" elsewhere (``one_ms=`` or ``shift_beats=``).

        The service rewrites the result (counts, timing, feedback); the window then
        loads it again so the ruler, the feedback and the plot count the new way.
        """
        if self._current_id is None or self._loaded_result_for != self._current_id:
            return  # nothing analysed on screen
        self._one_moves.append((self._current_id, move))
        self._next_one_move()

    def _next_one_move(self) -> None:
        if self._moving_one or not self._one_moves:
            return
        job_id, move = self._one_moves.pop(0)
        if job_id != self._current_id:  # the coach moved on to another clip
            self._one_moves.clear()
            return
        self._moving_one = True

        def rewrite() -> tuple[str, Path | None, ClipResult | None]:
            return self._load(self._service.move_one(job_id, **move))

        def done(loaded: tuple[str, Path | None, ClipResult | None]) -> None:
            self._moving_one = False
            self._on_result_ready(loaded)
            self._next_one_move()

        def failed(error: Exception) -> None:
            self._moving_one = False
            self._one_moves.clear()
            self._report(error, "The “1” was not moved")

        self.tasks.run(rewrite, done, failed)

    # --- the coach's marks ------------------------------------------------------------

    def _load_marks(self, job_id: str) -> None:
        """The marks saved with the job whose result was just shown (on the pool)."""
        edits = self._marks_edits

        def done(marks: list[Any]) -> None:
            waiting = self._marks_to_save is not None and self._marks_to_save[0] == job_id
            unsaved = waiting or self._saving_marks == job_id
            if job_id == self._current_id and edits == self._marks_edits and not unsaved:
                self.marks.set_marks(marks)

        self.tasks.run(
            lambda: self._service.marks(job_id),
            done,
            lambda error: self._report(error, "The marks could not be read"),
        )

    def _on_marks_edited(self, marks: list[Any]) -> None:
        """Save the whole set; saves run one at a time and only the latest set waits."""
        job_id = self._current_id
        if job_id is None or self._loaded_result_for != job_id:
            return
        self._marks_edits += 1
        self._marks_to_save = (job_id, marks)
        self._save_next_marks()

    def _save_next_marks(self) -> None:
        if self._saving_marks is not None or self._marks_to_save is None:
            return
        job_id, marks = self._marks_to_save
        self._marks_to_save = None
        self._saving_marks = job_id

        def finish() -> None:
            self._saving_marks = None
            if self._marks_to_save is None:
                self.marks_saved.emit(job_id)
            self._save_next_marks()

        def failed(error: Exception) -> None:
            self._report(error, "The marks were not saved")
            finish()

        self.tasks.run(
            lambda: self._service.save_marks(job_id, marks), lambda _saved: finish(), failed
        )

    def _on_library_delete_requested(self, view: Any) -> None:
        answer = QMessageBox.question(
            self, "Delete clip", f"Delete “{view.filename}” and its analysis?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_job(view.id)

    def delete_job(self, job_id: str) -> None:
        if job_id == self._current_id:
            self._current_id = None
            self.marks.reset()
            self.player.close_clip()
            self._show_result(None)
        self._drop_comparison_of(job_id, "A clip of this comparison was deleted")
        self.tasks.run(
            lambda: self._service.delete(job_id),
            lambda _: self.library.remove_job(job_id),
            self._report,
        )

    def _on_library_reanalyse_requested(self, view: Any) -> None:
        self.reanalyse(view)

    def reanalyse(self, view: Any) -> None:
        """Analyse the clip again as a new job; the service drops the old one after."""

        def done(new_view: Any) -> None:
            if view.id == self._current_id:
                self._current_id = None
            self._drop_comparison_of(view.id, f"“{view.filename}” is being analysed again")
            self.library.remove_job(view.id)
            self._on_imported(new_view)

        def failed(error: Exception) -> None:
            self._report(error, f"“{view.filename}” was not analysed again")

        self.tasks.run(lambda: self._service.reanalyse(view.id), done, failed)

    def analyse_dancer(self, dancer_id: int) -> None:
        """The clip on screen analysed again about another person: a new job in the
        library (the same service call a phone's ``POST …/dancer`` makes); the old one
        stays, so each dancer keeps their own analysis."""
        job_id = self._current_id
        if job_id is None:
            return
        view = self.library.views.get(job_id)
        name = view.filename if view is not None else "the clip"

        def done(new_view: Any) -> None:
            self._on_imported(new_view)
            self.banner.show_message(f"Dancer {dancer_id} of “{name}” is being analysed.")

        def failed(error: Exception) -> None:
            self._report(error, f"Dancer {dancer_id} of “{name}” was not analysed")

        self.tasks.run(lambda: self._service.analyse_dancer(job_id, dancer_id), done, failed)

    def _on_library_thumbnail_wanted(self, view: Any) -> None:
        def read() -> tuple[str, Any, float]:
            source = self._service.source_path(view.id)
            if source is None:
                raise FileNotFoundError(view.source_key)
            image, duration = read_thumbnail(source)
            return view.id, image, duration

        self.tasks.run(read, lambda got: self.library.set_thumbnail(*got), lambda _e: None)

    # --- comparing ------------------------------------------------------------------

    def _on_library_compare_requested(self, view: Any) -> None:
        self.choose_teacher(view)

    def choose_teacher(self, student: Any) -> TeacherChooser:
        """Ask which finished clip is the teacher's (window-modal, not blocking the loop)."""
        if self.teacher_chooser is not None:
            self.teacher_chooser.close()
            self.teacher_chooser.deleteLater()
        chooser = TeacherChooser(student, self.library.finished_jobs(excluding=student.id), self)
        chooser.teacher_chosen.connect(lambda teacher: self.start_comparison(student, teacher))
        self.teacher_chooser = chooser
        chooser.open()
        return chooser

    def start_comparison(self, student: Any, teacher: Any) -> None:
        """Ask the job service to compare (a job, as for a phone: see
        :func:`gui.compare_view.request_comparison`) and show the Compare tab at once,
        saying what it is waiting for; the job's end (an event) brings the result."""
        pair = (student.id, teacher.id)
        self._comparing = pair
        self._comparison_job = None
        self.compare_view.show_pending(student.filename, teacher.filename)
        self.tabs.setCurrentWidget(self.compare_view)
        service = self._service

        def queued(job_id: str) -> None:
            if self._comparing == pair:  # not overtaken by a newer request
                self._comparison_job = job_id
                self._fetch_comparison(job_id, student.filename)

        self.tasks.run(
            lambda: request_comparison(service, *pair),
            queued,
            lambda error: self._comparison_failed(pair, student.filename, error),
        )

    def open_comparison(self, comparison: Any) -> None:
        """Show a finished comparison job (a phone's, the API's, or an earlier one here)."""
        student = self.library.views.get(comparison.student_job_id)
        teacher = self.library.views.get(comparison.reference_job_id)
        student_name = student.filename if student is not None else comparison.filename
        teacher_name = teacher.filename if teacher is not None else "the teacher's clip"
        self._comparing = (comparison.student_job_id, comparison.reference_job_id)
        self._comparison_job = comparison.id
        self.compare_view.show_pending(student_name, teacher_name)
        self.tabs.setCurrentWidget(self.compare_view)
        self._fetch_comparison(comparison.id, student_name)

    def _fetch_comparison(self, job_id: str, student_name: str) -> None:
        """Read the comparison job's result if it has ended (None while it runs: its
        end arrives as an event and calls this again)."""
        pair = self._comparing
        service = self._service

        def done(data: ComparisonData | None) -> None:
            if data is not None and self._comparison_job == job_id:
                self._comparison_job = None  # shown once, whichever read got here first
                self.compare_view.show_comparison(data)

        self.tasks.run(
            lambda: load_comparison(service, job_id),
            done,
            lambda error: self._comparison_failed(pair, student_name, error),
        )

    def _comparison_failed(
        self, pair: tuple[str, str] | None, student_name: str, error: Exception
    ) -> None:
        what = f"“{student_name}” was not compared"
        if pair is not None and self._comparing == pair:
            self._comparing = self._comparison_job = None
            message = getattr(error, "message", None) or str(error)
            self.compare_view.close_comparison(f"{what}: {message}")
        self._report(error, what)

    def _drop_comparison_of(self, job_id: str, message: str) -> None:
        """A clip on the Compare tab goes away: so does the comparison (and any pending)."""
        if self._comparing is not None and job_id in self._comparing:
            self._comparing = self._comparison_job = None
            self.compare_view.close_comparison(message)
        elif self.compare_view.shows(job_id):
            self.compare_view.close_comparison(message)

    # --- events ---------------------------------------------------------------------

    # --- share report (issue 12) ------------------------------------------------------

    def share_report(self, view: Any) -> None:
        """Make a link to the job's report and show it (QR code, link, expiry)."""
        if self._api_url is None:
            self.banner.show_message(
                "The server is not running, so a phone cannot open a shared report."
            )
            return
        dialog = ShareDialog(view.filename, self._api_url, self)
        dialog.lifetime_changed.connect(lambda seconds: self._new_share(view.id, seconds))
        self.share_dialog = dialog
        self._new_share(view.id, DEFAULT_LIFETIME_S)

    def _new_share(self, job_id: str, seconds: int) -> None:
        dialog = self.share_dialog

        def shown(share: Any) -> None:
            if dialog is not None and dialog is self.share_dialog:
                dialog.set_share(share)
                dialog.show()

        self.tasks.run(
            lambda: self._service.create_share(job_id, seconds),
            shown,
            lambda error: self._report(error, "The report could not be shared"),
        )

    # --- students -------------------------------------------------------------------

    def edit_student(self, view: Any) -> StudentDialog:
        """Ask whose lesson a clip is (the library's "Student…"); OK names it."""
        dialog = StudentDialog(view.student, view.class_name, self.library.students(), self)
        dialog.accepted.connect(lambda: self.set_student(view.id, *dialog.names()))
        dialog.finished.connect(dialog.deleteLater)
        self.student_dialog = dialog
        dialog.open()
        return dialog

    def set_student(self, job_id: str, student: str | None, class_name: str | None) -> None:
        def done(view: Any) -> None:
            self.library.update_job(view)
            if self.tabs.currentWidget() is self.student_view:
                self._load_students(self.student_view.shown_student)

        self.tasks.run(
            lambda: self._service.set_student(job_id, student, class_name),
            done,
            lambda error: self._report(error, "The student could not be named"),
        )

    def show_student(self, name: str) -> None:
        """The Students tab with ``name``'s progress."""
        self.tabs.setCurrentWidget(self.student_view)
        self._load_students(name)

    def _load_students(self, name: str | None) -> None:
        """Read the students and ``name``'s progress (without one: the student with the
        most lessons)."""

        def read() -> tuple[list[Any], str | None, list[Any]]:
            students = self._service.students()
            busiest = max(students, key=lambda s: s.lessons, default=None)
            chosen = name or (busiest.name if busiest else None)
            return students, chosen, self._service.progress(chosen) if chosen else []

        def done(loaded: tuple[list[Any], str | None, list[Any]]) -> None:
            students, chosen, lessons = loaded
            self.student_view.set_students(students)
            if chosen is not None:
                self.student_view.show_progress(chosen, lessons)

        self.tasks.run(read, done, self._report)

    def open_lesson(self, job_id: str) -> None:
        """A point of a student's plots: that lesson's clip in the studio."""
        if self.library.item_for(job_id) is None:
            self.banner.show_message("That lesson's clip is no longer in the library.")
            return
        self.tabs.setCurrentIndex(0)
        self.library.select_job(job_id)

    def _on_tabs_current_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.student_view and not self._closed:
            self._load_students(self.student_view.shown_student)

    def _on_bridge_job_changed(self, view: Any) -> None:
        if self._closed:
            return
        if view.id == self._comparison_job and self._comparing is not None:
            if view.status in ENDED:
                self._fetch_comparison(view.id, view.filename)
            else:
                self.compare_view.show_progress(view.stage, view.progress)
        known = self.library.views.get(view.id)
        self.library.update_job(view)
        if view.student and view.status in ENDED and self.tabs.currentWidget() is self.student_view:
            self._load_students(self.student_view.shown_student)  # a new lesson, or its score
        if view.status == JobStatus.FAILED and (known is None or known.status != JobStatus.FAILED):
            self.banner.show_message(
                f"“{view.filename}” could not be analysed: {view.message or view.reason}"
            )
        if (
            view.id == self._current_id
            and view.status == JobStatus.FINISHED
            and self._loaded_result_for != view.id
        ):
            self.tasks.run(lambda: self._load(view), self._on_result_ready, self._report)

    def _on_player_position_changed(self, index: int, t_ms: float) -> None:
        self.angles.set_cursor_ms(t_ms)

    def _report(self, error: Exception, what: str = "Something went wrong") -> None:
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        self.banner.show_message(f"{what}: {message}")

    # --- closing --------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every thread and timer this window owns (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.phones.stop()
        self.player.shutdown()
        self.compare_view.shutdown()
        self.tasks.close()  # first: a pool thread may be subscribing the bridge
        self.bridge.close()
        self.angles.release()
        self.student_view.release()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
