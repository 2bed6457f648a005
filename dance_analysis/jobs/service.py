"""The job service: the one object the API, the GUI and the command line talk to.

It owns the job records, the queue, the storage and (on a desktop with S3) the
result sync, and exposes them as the facade fixed in docs/design/job-service.md.
Long work never runs on a caller's thread: :meth:`JobService.start_consumer` runs it
on the consumer's threads and child processes.
"""

from __future__ import annotations

import builtins
import contextlib
import itertools
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dance_analysis.artifacts import ARTIFACT_ALIASES, ARTIFACT_NAMES
from dance_analysis.config import Settings
from dance_analysis.db import Database, database_url, utcnow
from dance_analysis.errors import (
    InvalidRequest,
    InvalidState,
    JobNotFound,
    ObjectMissing,
    StorageUnavailable,
)
from dance_analysis.exports import MARKED_ARTIFACTS
from dance_analysis.jobs import shares as share_links
from dance_analysis.jobs import transitions
from dance_analysis.jobs.child import music_summary
from dance_analysis.jobs.consumer import Consumer
from dance_analysis.jobs.events import EventHub
from dance_analysis.jobs.queue import JobQueue
from dance_analysis.jobs.records import JobRecord, OutboxRecord, add_job_columns
from dance_analysis.jobs.recovery import sweep
from dance_analysis.jobs.states import ENDED, JobStatus
from dance_analysis.jobs.students import UNNAMED, Lesson, Student, Whose
from dance_analysis.jobs.transitions import locked_job
from dance_analysis.jobs.uploads import Uploads, check_job_id
from dance_analysis.jobs.views import (
    ArtifactHandle,
    JobView,
    UploadTicket,
)
from dance_analysis.jobs.worker import JobWorker
from dance_analysis.marks import Mark, marks_document, parse_marks
from dance_analysis.storage import create_storage, create_sync_target
from dance_analysis.storage.base import Storage, content_type_for
from dance_analysis.storage.keys import job_prefixes, result_key
from dance_analysis.storage.signing import load_secret, verify_upload

if TYPE_CHECKING:
    from dance_analysis.jobs.sync import SyncLoop

log = logging.getLogger(__name__)

DOWNLOAD_URL_EXPIRY_S = 900
_MAX_LIST = 1000
_FILE_TO_ARTIFACT = {filename: name for name, filename in ARTIFACT_NAMES.items()}


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """S3 connection and service failures, as a 503 a client can retry."""
    try:
        yield
    except Exception as error:
        if type(error).__module__.startswith(("botocore", "boto3", "urllib3")):
            log.warning("storage call failed: %s", error)
            raise StorageUnavailable() from error
        raise


class JobService:
    def __init__(self, settings: Settings, *, storage: Storage | None = None) -> None:
        self.settings = settings
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.database = Database(database_url(settings.database_url, data_dir))
        self.database.create_tables()
        add_job_columns(self.database)
        self.storage = storage or create_storage(settings)
        self.queue = JobQueue(
            name=settings.queue_name, redis_url=settings.redis_url, data_dir=data_dir
        )
        self.secret = load_secret(settings)
        self._sync_target = create_sync_target(settings)
        self._events = EventHub()
        self._local_cancels: set[str] = set()
        self._consumers: list[Consumer] = []
        self._uploads = Uploads(
            settings,
            self.database,
            self.storage,
            self.queue,
            secret=self.secret,
            publish=self._events.publish,
            storage_errors=storage_errors,
        )

    # --- uploads --------------------------------------------------------------------

    def create_upload(
        self,
        filename: str,
        content_type: str,
        *,
        size: int | None = None,
        sha256: str | None = None,
        job_id: str | None = None,
        style: str | None = None,
        whose: Whose = UNNAMED,
    ) -> UploadTicket:
        """A job awaiting its upload, and where to PUT it.

        Asking again for the same upload (the same ``job_id``, or the same name, size
        and SHA-256 while it is still awaited) renews the link instead of making a
        second job. ``whose``: the student and class it is a lesson of, and the paired
        device asking (its phone's history lists the job).
        """
        return self._uploads.create(
            filename, content_type, size=size, sha256=sha256, job_id=job_id, style=style,
            whose=whose,
        )  # fmt: skip

    def verify_upload_link(
        self, job_id: str, filename: str, content_type: str, expires: int | str, sig: str
    ) -> None:
        """For the local PUT route: raise BadSignature/UploadExpired unless the link holds."""
        verify_upload(self.secret, job_id, filename, content_type, expires, sig)

    def receive_upload(self, job_id: str, filename: str, chunks: Iterable[bytes]) -> int:
        return self._uploads.receive(job_id, filename, chunks)

    def confirm(
        self,
        job_id: str,
        key: str,
        *,
        style: str | None = None,
        reference_job_id: str | None = None,
        dancer_id: int | None = None,
        whose: Whose = UNNAMED,
    ) -> JobView:
        """Queue an arrived upload. ``reference_job_id``: compare it with that teacher's
        job once both have finished (the job's ``comparison_job_id`` names the comparison).
        ``dancer_id``: the person to analyse (None: chosen by the rule, pose.people).
        ``whose``: a student or class named now replaces those named with the link."""
        return self._uploads.confirm(
            job_id, key, style=style, reference_job_id=reference_job_id, dancer_id=dancer_id,
            whose=whose,
        )  # fmt: skip

    def submit(
        self,
        filename: str,
        chunks: Iterable[bytes],
        *,
        style: str | Callable[[], str | None] | None = None,
        reference_job_id: str | Callable[[], str | None] | None = None,
        dancer_id: int | Callable[[], int | None] | None = None,
        whose: Whose | Callable[[], Whose] = UNNAMED,
    ) -> JobView:
        return self._uploads.submit(
            filename, chunks, style=style, reference_job_id=reference_job_id,
            dancer_id=dancer_id, whose=whose,
        )  # fmt: skip

    # --- comparisons ----------------------------------------------------------------

    def compare(self, student_job_id: str, reference_job_id: str) -> JobView:
        """Queue a comparison of two finished analyses: a job of its own, no model.

        Raises JobNotFound (404) for an unknown job, InvalidState (409) while either
        has not finished, or for a comparison. The new job plays the student's clip
        (its ``source_key``), and its result.json is the student's with ``comparison``.
        """
        from dance_analysis.jobs.comparisons import check_comparable, new_comparison

        check_job_id(student_job_id)
        check_job_id(reference_job_id)

        def create(session: Session) -> JobView:
            student = check_comparable(
                locked_job(session, student_job_id), student_job_id, "student's"
            )
            reference = check_comparable(
                locked_job(session, reference_job_id), reference_job_id, "teacher's"
            )
            record = new_comparison(student, reference_job_id, reference)
            session.add(record)
            return JobView.of(record)

        view = self.database.write(create)
        self._events.publish(view)
        transitions.enqueue_job(self.database, self.queue, view.id)
        return view

    # --- reading --------------------------------------------------------------------

    def get(self, job_id: str) -> JobView:
        check_job_id(job_id)
        view = self.database.read(lambda session: _view(session.get(JobRecord, job_id)))
        if view is None:
            raise JobNotFound(job_id)
        return view

    def list(
        self,
        *,
        status: JobStatus | str | None = None,
        limit: int = 100,
        offset: int = 0,
        student: str | None = None,
        device_id: str | None = None,
    ) -> list[JobView]:
        """Jobs, newest first; ``student``: only that student's (any spelling of the
        name, comparisons included); ``device_id``: only those that paired device sent
        (and their comparisons)."""
        if status is not None:
            try:
                status = JobStatus(status)
            except ValueError:
                names = ", ".join(state.value for state in JobStatus)
                raise InvalidRequest(f"status must be one of {names}.") from None
        if not 1 <= limit <= _MAX_LIST or offset < 0:
            raise InvalidRequest(f"limit must be 1–{_MAX_LIST} and offset at least 0.")
        query = select(JobRecord).order_by(JobRecord.created_at.desc(), JobRecord.id)
        if status is not None:
            query = query.where(JobRecord.status == status)
        if device_id is not None:
            query = query.where(JobRecord.device_id == device_id)
        if student is not None:
            return self._list_student(query, student, limit, offset)
        query = query.limit(limit).offset(offset)
        return self.database.read(
            lambda session: [JobView.of(record) for record in session.scalars(query)]
        )

    def _list_student(
        self, query: Select[JobRecord], student: str, limit: int, offset: int
    ) -> builtins.list[JobView]:
        from dance_analysis.jobs.students import name_key

        key = name_key(student)  # a name nobody can have matches nobody: no error
        query = query.where(JobRecord.student.is_not(None))

        def read(session: Session) -> builtins.list[JobView]:
            # Matched by name_key here: SQL's lower() knows ASCII letters only (SQLite).
            found = (r for r in session.scalars(query) if name_key(r.student or "") == key)
            page = itertools.islice(found, offset, offset + limit)
            return [JobView.of(record) for record in page]

        return self.database.read(read)

    # --- students -------------------------------------------------------------------

    def set_student(
        self, job_id: str, student: str | None, class_name: str | None = None
    ) -> JobView:
        """Name (or with None, clear) the student and class of a clip's job.

        Its comparisons follow (they are the same lesson's). Names are trimmed; too long
        or holding control characters: InvalidRequest (``invalid_request``). A comparison
        takes its student from its analysis: InvalidState (409). JobNotFound (404).
        """
        from dance_analysis.jobs.students import check_name

        check_job_id(job_id)
        student = check_name(student)
        class_name = check_name(class_name, "class")

        def name(session: Session) -> builtins.list[JobView]:
            record = locked_job(session, job_id)
            if record is None:
                raise JobNotFound(job_id)
            if record.kind == "comparison":
                raise InvalidState(
                    "A comparison is the student's lesson: set the student on their clip."
                )
            comparisons = session.scalars(
                select(JobRecord).where(JobRecord.student_job_id == job_id).with_for_update()
            ).all()
            for row in (record, *comparisons):
                row.student, row.class_name = student, class_name
                row.updated_at = utcnow()
            return [JobView.of(row) for row in (record, *comparisons)]

        views = self.database.write(name)
        for view in views:
            self._events.publish(view)
        return views[0]

    def students(self) -> builtins.list[Student]:
        """Every student with a clip, by name: their class, clips, lessons, last lesson."""
        from dance_analysis.jobs.students import list_students

        return self.database.read(list_students)

    def progress(self, student: str) -> builtins.list[Lesson]:
        """The student's lessons in time order (see :mod:`dance_analysis.jobs.students`);
        [] for a name with no finished lesson (a name nobody can have included)."""
        from dance_analysis.jobs.students import student_progress

        return self.database.read(lambda session: student_progress(session, student))

    # --- control --------------------------------------------------------------------

    def cancel(self, job_id: str) -> JobView:
        """Queued: canceled at once. Started: flagged; its worker stops it within moments."""
        check_job_id(job_id)

        from dance_analysis.jobs.comparisons import announce, follow_ups

        made: list[JobView] = []

        def request(session: Session) -> JobView:
            made.clear()  # a retried transaction starts afresh
            record = locked_job(session, job_id)
            if record is None:
                raise JobNotFound(job_id)
            transitions.cancel(record)
            if record.status == JobStatus.CANCELED:  # students waiting for it learn so
                made.extend(JobView.of(new) for new in follow_ups(session, record, job_id))
            return JobView.of(record)

        view = self.database.write(request)
        if view.status == JobStatus.STARTED:
            self._local_cancels.add(job_id)  # a worker in this process reacts at once
        self._events.publish(view)
        announce(self.database, self.queue, self._events.publish, made)
        return view

    def delete(self, job_id: str) -> None:
        """Remove the job's row and every file it has (a running job is stopped).

        Only the folders named by this job's id go: a comparison's ``source_key`` is its
        student's clip, which stays with the student's job. Students waiting to be
        compared with a deleted teacher get a failed comparison saying so.
        """
        from dance_analysis.jobs.comparisons import announce, follow_ups

        check_job_id(job_id)
        made: list[JobView] = []

        def remove(session: Session) -> None:
            made.clear()  # a retried transaction starts afresh
            record = locked_job(session, job_id)
            if record is None:
                raise JobNotFound(job_id)
            session.delete(record)
            share_links.delete_shares(session, job_id)
            session.flush()
            made.extend(JobView.of(new) for new in follow_ups(session, None, job_id))
            if self._sync_target is not None:
                for row in session.scalars(
                    select(OutboxRecord).where(OutboxRecord.job_id == job_id)
                ):
                    session.delete(row)
                now = utcnow()
                session.add(
                    OutboxRecord(op="delete", key=job_prefixes(job_id)[1], job_id=job_id,
                                 next_attempt_at=now, created_at=now)
                )  # fmt: skip

        self.database.write(remove)
        self._local_cancels.add(job_id)
        announce(self.database, self.queue, self._events.publish, made)
        with storage_errors():
            for prefix in job_prefixes(job_id):
                self.storage.delete_prefix(prefix)

    def reanalyse(self, job_id: str) -> JobView:
        """Analyse an ended job's clip again as a new job, then delete the old job.

        The style, a coach's "1" and the dancer asked for go with the clip to the new job.

        The new job is created, filled and confirmed (size and SHA-256 checked against
        the old record) before the old one is touched: if any step fails, the new job
        is removed and the old one, with its clip and results, stays as it was. Not a
        ``submit``: that would take the same bytes and name for a retried upload and
        answer with the old job.
        """
        old = self.get(job_id)
        if old.status not in ENDED:
            raise InvalidState(f"The job is {old.status}; it can be analysed again once it ends.")
        if old.is_comparison:
            raise InvalidState(
                "A comparison is not analysed again: compare the two analyses again instead."
            )
        view = self._copy_clip(old, old.dancer_id, keep_marks=True)
        try:
            self.delete(old.id)
        except Exception:  # the new job runs; the old one stays listed, nothing is lost
            log.warning("re-analysed job %s could not be deleted", old.id, exc_info=True)
        return view

    def _copy_clip(
        self, old: JobView, dancer_id: int | None, *, keep_marks: bool = False
    ) -> JobView:
        """A new queued job with ``old``'s clip, style and "1", about ``dancer_id``; with
        ``keep_marks``, the coach's marks too (they lie on the picture, which is the same:
        the worker draws them into the new KVA and report).

        Created, filled and confirmed (size and SHA-256 checked against the old record);
        if any step fails the new job is removed and ``old`` is untouched.
        """
        ticket = self.create_upload(
            old.filename,
            content_type_for(old.filename),
            size=old.size_bytes,
            sha256=old.sha256,
            style=old.style,
            whose=Whose(old.student, old.class_name, old.device_id),
        )
        try:
            with storage_errors():
                chunks = self.storage.open_range(old.source_key, 0, None)
                self.receive_upload(ticket.job_id, old.filename, chunks)
            if old.one_ms is not None:  # the coach's "1" goes with the clip
                self._keep_one(ticket.job_id, old.one_ms)
            if keep_marks and "marks" in old.artifacts:
                marks = self.marks(old.id)
                if marks:  # where the new job's marks.json will be: the worker reads it
                    carried = result_key(ticket.job_id, ARTIFACT_NAMES["marks"])
                    self._replace_json(carried, marks_document(marks))
            return self.confirm(ticket.job_id, ticket.key, dancer_id=dancer_id)
        except BaseException:
            with contextlib.suppress(Exception):  # confirm may have removed it already
                self.delete(ticket.job_id)
            raise

    def analyse_dancer(self, job_id: str, dancer_id: int) -> JobView:
        """Analyse an ended job's clip again about another person: a new job, queued.

        The clip is the one already stored (nobody uploads it again); its style and
        "1" go with it. The old job stays, so each dancer of a group keeps their own
        analysis. Raises InvalidRequest for what can never be an id, MediaError
        ``no_such_dancer`` when the old job finished and found nobody with that id,
        InvalidState (409) while the job runs, for a comparison, or when its clip never
        arrived; JobNotFound (404).
        """
        from dance_analysis.jobs.uploads import check_dancer_id
        from dance_analysis.pose.people import no_such_dancer

        check_dancer_id(dancer_id)
        old = self.get(job_id)
        if old.is_comparison:
            raise InvalidState(
                "A comparison has no dancer of its own: choose the dancer in the student's "
                "analysis, then compare again."
            )
        if old.status not in ENDED:
            raise InvalidState(
                f"The job is {old.status}; another dancer can be analysed once it ends."
            )
        if old.people is not None and dancer_id not in old.people.get("ids", []):
            raise no_such_dancer(dancer_id, old.people.get("ids", []))
        with storage_errors():
            arrived = self.storage.stat(old.source_key) is not None
        if not arrived:
            raise InvalidState(
                "The job's clip never arrived, so there is nothing to analyse: upload it again."
            )
        return self._copy_clip(old, dancer_id)

    def retry(self, job_id: str) -> JobView:
        """A failed or canceled analysis, run again: :meth:`reanalyse` (a new job with the
        same clip, style and "1"; the old job is deleted once the new one is queued).

        InvalidState (409) for a job that is not failed or canceled, for a comparison
        (compare the two analyses again instead), and for a job whose clip never
        arrived (canceled or expired before its upload); JobNotFound (404).
        """
        old = self.get(job_id)
        if old.status not in (JobStatus.FAILED, JobStatus.CANCELED):
            raise InvalidState(
                f"The job is {old.status}; only a failed or canceled job can be retried."
            )
        if old.is_comparison:
            raise InvalidState(
                "A comparison is not retried: compare the two analyses again instead."
            )
        with storage_errors():
            arrived = self.storage.stat(old.source_key) is not None
        if not arrived:
            raise InvalidState(
                "The job's clip never arrived (it ended before its upload), "
                "so there is nothing to analyse again: upload the clip again."
            )
        return self.reanalyse(job_id)

    def move_one(
        self, job_id: str, *, one_ms: float | None = None, shift_beats: int | None = None
    ) -> JobView:
        """Move a finished job's "1" to the beat nearest ``one_ms``, or by ``shift_beats``.

        result.json is rewritten in place with the new downbeats, counts, timing and
        feedback (:func:`dance_analysis.music.recount.move_one`): nothing is decoded and
        the pose model does not run. The job's row stays locked from reading the result
        to writing it back, so two coaches' moves apply one after the other. The overlay
        video has no counts drawn in it and stays as it is.
        """
        from dance_analysis.analysis.progress import lesson_summary
        from dance_analysis.music.recount import first_one_ms, move_one

        check_job_id(job_id)

        def rewrite(session: Session) -> JobView:
            record = _locked_finished(session, job_id, "its counts can be moved")
            if record.kind == "comparison":
                raise InvalidState("Move the “1” on the student's analysis, then compare it again.")
            key = dict(record.artifacts or {}).get("result")
            if key is None:
                raise ObjectMissing("The job has no result.json to recount.")
            moved = move_one(self._read_result(key), one_ms=one_ms, shift_beats=shift_beats)
            self._replace_json(key, moved)
            client_key = dict(record.artifacts or {}).get("analysis")
            if client_key is not None:  # its feedback_items follow the new counts
                self._replace_client_analysis(client_key, moved)
            record.music = music_summary(moved["music"])
            record.one_ms = first_one_ms(moved["music"])
            record.summary = lesson_summary(moved)  # the timing offset follows the "1"
            return JobView.of(record)

        view = self.database.write(rewrite)
        self._refresh_marked_exports(view)
        self._events.publish(view)
        return view

    def _read_result(self, key: str) -> dict[str, Any]:
        """The job's result.json at ``key``, parsed; ObjectMissing when storage lost it."""
        with storage_errors():
            if self.storage.stat(key) is None:
                raise ObjectMissing("The result file result.json is missing from storage.")
            result: dict[str, Any] = json.loads(b"".join(self.storage.open_range(key, 0, None)))
        return result

    def _keep_one(self, job_id: str, one_ms: float) -> None:
        def keep(session: Session) -> None:
            record = locked_job(session, job_id)
            if record is not None:
                record.one_ms = one_ms

        self.database.write(keep)

    def _replace_json(self, key: str, data: dict[str, Any]) -> None:
        """Write ``data`` to ``key`` whole: readers see the old file or the new, never half."""
        handle, name = tempfile.mkstemp(suffix=".json", dir=self.settings.data_dir)
        temp = Path(name)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
            with storage_errors():
                self.storage.put_file(key, temp, "application/json")
        finally:
            temp.unlink(missing_ok=True)

    def _replace_client_analysis(self, key: str, result: dict[str, Any]) -> None:
        """analysis.json rewritten from a result.json in hand (see ``_replace_json``)."""
        from dance_analysis.artifacts import write_client_analysis_from_result

        handle, name = tempfile.mkstemp(suffix=".json", dir=self.settings.data_dir)
        os.close(handle)
        temp = Path(name)
        try:
            write_client_analysis_from_result(temp, result)
            with storage_errors():
                self.storage.put_file(key, temp, "application/json")
        finally:
            temp.unlink(missing_ok=True)

    # --- share links (issue 12) ----------------------------------------------------

    def create_share(
        self,
        job_id: str,
        expires_in_s: int = share_links.DEFAULT_SHARE_S,
        *,
        now: float | None = None,
    ) -> share_links.Share:
        """A signed link to a finished job's report, valid ``expires_in_s`` (60 s to 90
        days; ``now``: the clock, for tests). InvalidRequest, JobNotFound, InvalidState."""
        check_job_id(job_id)
        return share_links.create_share(self.database, self.secret, job_id, expires_in_s, now=now)

    def shares(self, job_id: str) -> Sequence[share_links.Share]:
        """The job's share links, newest first, expired ones too."""
        self.get(job_id)
        return share_links.list_shares(self.database, self.secret, job_id)

    def shared_report(
        self, share_id: str, expires: int | str, sig: str, *, now: float | None = None
    ) -> bytes:
        """The report a share link opens: BadSignature, LinkExpired (410) past its time,
        ObjectMissing once the job was deleted."""
        job_id = share_links.shared_job(self.database, self.secret, share_id, expires, sig, now=now)
        handle = self.open_artifact(job_id, share_links.SHARED_ARTIFACT)
        with storage_errors():
            return b"".join(self.storage.open_range(handle.key, 0, None))

    # --- the coach's marks (issue 12) ------------------------------------------------

    def marks(self, job_id: str) -> builtins.list[Mark]:
        """A finished job's marks (marks.json), by time; none saved yet: an empty list."""
        view = self.get(job_id)
        if view.status != JobStatus.FINISHED:
            raise InvalidState(f"The job is {view.status}; it can be marked once it has finished.")
        key = view.artifacts.get("marks")
        if key is None:
            return []
        with storage_errors():
            if self.storage.stat(key) is None:
                return []
            data = json.loads(b"".join(self.storage.open_range(key, 0, None)))
        return parse_marks(data)

    def save_marks(self, job_id: str, marks: Iterable[Mark]) -> builtins.list[Mark]:
        """Replace a finished job's marks with ``marks``; returns them as saved, by time.

        marks.json goes beside result.json (artifact ``marks``), and the exports that
        carry marks (:data:`~dance_analysis.exports.MARKED_ARTIFACTS`) which the job
        already has are written again from its result.json. A comparison keeps marks of
        its own, like any finished job: they are not the student's job's marks.

        The exports are rendered before the row is locked (the report may decode key
        frames: seconds, and SQLite would hold every writer meanwhile); the locked
        transaction then puts marks.json and them in place together, so whichever of
        two saves commits last leaves all its files, never a mix.
        """
        check_job_id(job_id)
        saved = parse_marks([mark.to_dict() for mark in marks])  # a GUI's marks checked too
        view = self.get(job_id)
        if view.status != JobStatus.FINISHED:
            raise InvalidState(f"The job is {view.status}; it can be marked once it has finished.")
        marked = [name for name in MARKED_ARTIFACTS if name in view.artifacts]
        with tempfile.TemporaryDirectory(dir=self.settings.data_dir) as folder:
            exports = self._marked_exports(view, saved, marked, Path(folder)) if marked else {}

            def store(session: Session) -> JobView:
                record = _locked_finished(session, job_id, "it can be marked")
                artifacts = dict(record.artifacts or {})
                result_key = artifacts.get("result")
                if result_key is None:
                    raise ObjectMissing("The job has no result.json to mark.")
                key = f"{result_key.rsplit('/', 1)[0]}/{ARTIFACT_NAMES['marks']}"
                self._replace_json(key, marks_document(saved))
                self._put_exports(session, record, exports, also_written=[key])
                record.artifacts = {**artifacts, "marks": key}
                return JobView.of(record)

            view = self.database.write(store)
        self._events.publish(view)
        return saved

    def _put_exports(
        self,
        session: Session,
        record: JobRecord,
        exports: Mapping[str, Path],
        also_written: Sequence[str] = (),
    ) -> None:
        """Put rewritten exports in place of the job's own (artifact name → file), inside
        the caller's locked transaction; on a desktop that mirrors to S3, queue them (and
        ``also_written`` keys) for the mirror."""
        artifacts = dict(record.artifacts or {})
        written = list(also_written)
        for name, path in exports.items():
            if name in artifacts:
                with storage_errors():
                    self.storage.put_file(artifacts[name], path, content_type_for(path.name))
                written.append(artifacts[name])
        if self._sync_target is not None:
            now = utcnow()
            for key in written:
                session.add(
                    OutboxRecord(op="put", key=key, job_id=record.id,
                                 next_attempt_at=now, created_at=now)
                )  # fmt: skip

    def _refresh_marked_exports(self, view: JobView) -> None:
        """After the "1" moved: the KVA's keyframes and the report's timing and feedback
        written again from the new result.json, with the job's marks. Done after the
        recount commits (the report decodes key frames: no row stays locked meanwhile)."""
        names = [name for name in MARKED_ARTIFACTS if name in view.artifacts]
        if not names:
            return
        with tempfile.TemporaryDirectory(dir=self.settings.data_dir) as folder:
            exports = self._marked_exports(view, self.marks(view.id), names, Path(folder))

            def store(session: Session) -> None:
                record = locked_job(session, view.id)
                if record is not None and record.status == JobStatus.FINISHED:
                    self._put_exports(session, record, exports)

            self.database.write(store)

    def _marked_exports(
        self, view: JobView, marks: builtins.list[Mark], names: builtins.list[str], folder: Path
    ) -> dict[str, Path]:
        """The exports ``names`` written again with ``marks`` into ``folder``, from the
        job's result.json; the report's pictures come from the overlay (on this computer,
        or fetched from S3 into ``folder``), else the clip on this computer, else none."""
        from dance_analysis.exports import Motion, write_exports

        result = self._read_result(view.artifacts["result"])
        video = self._video_at_hand(view, folder) if "report" in names else None
        return write_exports(
            Motion.from_result(result), folder, marks=marks, video=video, names=names
        )

    def _video_at_hand(self, view: JobView, folder: Path) -> Path | None:
        """A file of the job's pictures: its overlay or clip on this computer, else the
        overlay copied from object storage into ``folder``; None when there is neither."""
        overlay = view.artifacts.get("overlay")
        for key in (overlay, view.source_key):
            path = self.storage.local_path(key) if key else None
            if path is not None and path.is_file():
                return path
        if overlay is None:
            return None
        target = folder / "pictures.mp4"
        with storage_errors():
            if self.storage.stat(overlay) is None:
                return None
            with target.open("wb") as out:
                for chunk in self.storage.open_range(overlay, 0, None):
                    out.write(chunk)
        return target

    def source_path(self, job_id: str) -> Path | None:
        """The job's clip as a file on this computer, or None (S3 only, or gone)."""
        view = self.get(job_id)
        path = self.storage.local_path(view.source_key)
        return path if path is not None and path.is_file() else None

    def open_artifact(self, job_id: str, name: str) -> ArtifactHandle:
        """A finished job's file, by artifact name (``overlay``), file name
        (``overlay.mp4``) or the original backend's name (``visualization``)."""
        view = self.get(job_id)
        if view.status != JobStatus.FINISHED:
            raise InvalidState(f"The job is {view.status}; its results are not ready.")
        artifact = ARTIFACT_ALIASES.get(name) or _FILE_TO_ARTIFACT.get(name, name)
        key = view.artifacts.get(artifact)
        if key is None:
            raise ObjectMissing(f"The job has no artifact “{name[:100]}”.")
        filename = key.rsplit("/", 1)[-1]
        with storage_errors():
            info = self.storage.stat(key)
            if info is None:
                raise ObjectMissing(f"The result file {filename} is missing from storage.")
            url = self.storage.presigned_get(key, DOWNLOAD_URL_EXPIRY_S, filename)
        return ArtifactHandle(
            job_id=job_id,
            name=artifact,
            filename=filename,
            key=key,
            size=info.size,
            content_type=content_type_for(filename),
            local_path=self.storage.local_path(key),
            url=url,
        )

    def health(self) -> dict[str, bool]:
        return {
            "database": self.database.ping(),
            "queue": self.queue.ping(),
            "storage": bool(self.storage.ping()),
        }

    def subscribe(self, callback: Callable[[JobView], None]) -> Callable[[], None]:
        """Job events from this process (its requests and its consumer); returns unsubscribe."""
        return self._events.subscribe(callback)

    # --- running --------------------------------------------------------------------

    def start_consumer(self, *, workers: int | None = None) -> Consumer:
        """Recover, then run jobs on threads of this process until ``.stop(grace_s)``."""
        self.recover()  # also removes the working folders killed workers left
        background: list[Callable[[threading.Event], None]] = []
        sync = self.sync_loop()
        if sync is not None:
            background.append(sync.run)
        consumer = Consumer(
            self.queue,
            self._make_worker,
            workers=workers or self.settings.consumer_workers,
            sweep=self.recover,
            sweep_interval_s=self.settings.sweep_interval_s,
            background=background,
        )
        consumer.start()
        self._consumers.append(consumer)
        return consumer

    def _make_worker(self, worker_id: str) -> JobWorker:
        return JobWorker(
            self.settings,
            self.database,
            self.storage,
            self.queue,
            worker_id=worker_id,
            publish=self._events.publish,
            local_cancels=self._local_cancels,
            sync_results=self._sync_target is not None,
        )

    def sync_loop(self) -> SyncLoop | None:
        """The desktop's S3 mirror (None unless ``s3_mode`` is ``sync`` with a bucket)."""
        if self._sync_target is None:
            return None
        from dance_analysis.jobs.sync import SyncLoop
        from dance_analysis.storage.s3 import S3Storage

        assert isinstance(self._sync_target, S3Storage)
        return SyncLoop(
            self.database,
            self.storage,
            self._sync_target,
            interval_s=self.settings.sync_interval_s,
            max_backoff_s=self.settings.sync_max_backoff_s,
        )

    def recover(self) -> int:
        """The sweep (see :mod:`dance_analysis.jobs.recovery`); returns jobs changed."""
        return sweep(self.settings, self.database, self.queue, self._uploads, self._events.publish)

    def close(self, grace_s: float = 0.0) -> None:
        for consumer in self._consumers:
            consumer.stop(grace_s)
        self._consumers.clear()
        self.queue.close()
        self.database.dispose()


def _locked_finished(session: Session, job_id: str, what: str) -> JobRecord:
    """The finished job's row, locked until the transaction ends: JobNotFound, or
    InvalidState saying that ``what`` (“it can be marked”) once it has finished."""
    record = locked_job(session, job_id)
    if record is None:
        raise JobNotFound(job_id)
    if record.status != JobStatus.FINISHED:
        raise InvalidState(f"The job is {record.status}; {what} once it has finished.")
    return record


def _view(record: JobRecord | None) -> JobView | None:
    return None if record is None else JobView.of(record)


__all__ = ["ENDED", "ArtifactHandle", "JobService", "JobView", "UploadTicket"]
