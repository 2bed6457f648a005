"""Getting a clip in: upload links, the local PUT, confirmation, the legacy multipart.

A job is born ``awaiting_upload`` when an upload link is issued (or a multipart
upload starts), and becomes ``queued`` only once its object is verified: not
empty, starts like a video, and matches the size and SHA-256 the client declared.
An object that fails is deleted together with its row ("no job left behind").
Confirmation is idempotent: the row moves ``awaiting_upload`` → ``queued`` in one
locked transaction, so a retried or concurrent confirm finds it done and answers
with the same job.

A confirmed upload is immutable. The local PUT renames its finished file into place
only inside a transaction that holds the job's row lock and finds it still awaiting
its upload (a PUT that began before confirm and ends after it gets 409 and leaves
nothing); confirm, under the same lock, checks that the object it verified is still
the one in place (its ``version``). Confirm also records the SHA-256 it measured, so
the worker can check the bytes it fetches against the record (an S3 presigned PUT
cannot be revoked, so that check is the last line there).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dance_analysis.config import Settings
from dance_analysis.db import Database, utcnow
from dance_analysis.digests import Sha256Stream
from dance_analysis.errors import (
    ChecksumMismatch,
    DanceAnalysisError,
    InvalidRequest,
    InvalidState,
    JobNotFound,
    MediaError,
    ObjectMismatch,
    ObjectMissing,
    Reason,
    UploadTooLarge,
)
from dance_analysis.jobs.comparisons import announce, follow_ups
from dance_analysis.jobs.queue import JobQueue
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import JobStatus
from dance_analysis.jobs.students import UNNAMED, Whose
from dance_analysis.jobs.transitions import accept_upload, enqueue_job, locked_job
from dance_analysis.jobs.views import JobView, UploadTicket
from dance_analysis.storage.base import ObjectInfo, Storage, sha256_of_object
from dance_analysis.storage.keys import job_prefixes, safe_filename, upload_key
from dance_analysis.storage.signing import sign_upload

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9!#$&^_.+-]{1,63}$")
_JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ORIGINAL_NAME_CHARS = 1000
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def check_job_id(job_id: str) -> str:
    """Job ids are our own UUIDs; anything else cannot name a job (nor reach a key)."""
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise JobNotFound(str(job_id))
    return job_id


def escaped_original(filename: str) -> str:
    """The client's name, kept for display only: control and bidi characters escaped."""
    return filename[:_ORIGINAL_NAME_CHARS].encode("unicode_escape").decode("ascii")


class Uploads:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        storage: Storage,
        queue: JobQueue,
        *,
        secret: bytes,
        publish: Callable[[JobView], None],
        storage_errors: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage
        self.queue = queue
        self._secret = secret
        self._publish = publish
        self._storage_errors = storage_errors

    # --- upload links ---------------------------------------------------------------

    def create(
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
        style = check_style(style)
        whose = whose.checked()
        content_type = _check_content_type(content_type)
        size = self._check_size(size)
        sha256 = _check_sha256(sha256)
        safe = safe_filename(filename)
        now = utcnow()
        expiry = self.settings.upload_url_expiry_s
        expires_at = now + dt.timedelta(seconds=expiry)

        def record_upload(session: Session) -> JobRecord:
            record = self._renewable(session, job_id, safe, size, sha256)
            if record is None:
                new_id = str(uuid.uuid4())
                record = _new_record(new_id, filename, content_type, now)
                record.size_bytes, record.sha256 = size, sha256
                session.add(record)
            record.content_type = content_type
            if style is not None:
                record.style = style
            whose.apply(record)
            record.upload_expires_at = expires_at
            record.updated_at = now
            return record

        record = self.db.write(record_upload)
        expires = int(expires_at.timestamp())
        with self._storage_errors():
            url = self.storage.presigned_put(record.source_key, content_type, expiry)
        # The local store: a link to this server, signed here; the API, which knows
        # its own routes, turns the signature into the URL.
        signature = (
            None
            if url is not None
            else sign_upload(self._secret, record.id, record.filename, content_type, expires)
        )
        self._publish(JobView.of(record))
        return UploadTicket(
            job_id=record.id,
            key=record.source_key,
            filename=record.filename,
            upload_url=url,
            signature=signature,
            expires_at=expires,
            expires_in=expiry,
            content_type=content_type,
        )

    def _renewable(
        self,
        session: Session,
        job_id: str | None,
        safe: str,
        size: int | None,
        sha256: str | None,
    ) -> JobRecord | None:
        """The same upload asked for again: a fresh link, not a second job."""
        if job_id is not None:
            record = locked_job(session, check_job_id(job_id))
            if record is None:
                raise JobNotFound(job_id)
            if record.status != JobStatus.AWAITING_UPLOAD:
                raise InvalidState("This job's upload is already confirmed.")
            return record
        if sha256 is None:
            return None
        found = session.scalars(
            select(JobRecord)
            .where(JobRecord.status == JobStatus.AWAITING_UPLOAD, JobRecord.sha256 == sha256)
            .where(JobRecord.filename == safe, JobRecord.size_bytes == size)
            .with_for_update()
            .limit(1)
        ).first()
        return found

    # --- the local PUT ----------------------------------------------------------------

    def receive(self, job_id: str, filename: str, chunks: Iterable[bytes]) -> int:
        """Store the body of a (signature-checked) PUT; the client confirms next."""
        record = self._get(job_id)
        if record.status != JobStatus.AWAITING_UPLOAD:
            raise _already_confirmed()
        if upload_key(job_id, filename) != record.source_key:
            raise ObjectMismatch("The upload link names another file than this job's.")

        def publish_if_awaited(make_visible: Callable[[], None]) -> None:
            # The same row lock confirm takes: either this PUT's file is in place before
            # confirm looks, or confirm has won and this PUT is refused.
            def check(session: Session) -> None:
                current = locked_job(session, job_id)
                if current is None:
                    raise JobNotFound(job_id)
                if current.status != JobStatus.AWAITING_UPLOAD:
                    raise _already_confirmed()
                make_visible()

            self.db.write(check)

        with self._storage_errors():
            return self.storage.write_stream(
                record.source_key,
                chunks,
                max_bytes=self.settings.max_upload_bytes,
                commit=publish_if_awaited,
            )

    # --- confirmation -----------------------------------------------------------------

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
        """Queue an arrived upload; ``style`` (if given) replaces the one asked for before,
        as the student and class of ``whose`` do.

        ``reference_job_id``: a teacher's job to compare this clip with once both are
        analysed (checked now: 404 if unknown, 409 if it failed or is a comparison).
        ``dancer_id``: the person to analyse (None: chosen by the rule, pose.people).
        """
        style = check_style(style)
        dancer_id = check_dancer_id(dancer_id)
        whose = whose.checked()
        self._check_reference(reference_job_id)
        record = self._get(job_id)
        if key != record.source_key:
            raise ObjectMismatch(f"{key[:200]!r} is not the upload key of job {job_id}.")
        if record.status != JobStatus.AWAITING_UPLOAD:
            return JobView.of(record)  # confirmed before: the same job
        with self._storage_errors():
            info = self.storage.stat(key)
            if info is None:
                raise ObjectMissing(
                    "The upload has not arrived: PUT the file to the upload URL, then confirm."
                )
            measured_sha = self._verify_or_reject(record, info)
            return self._queue_upload(
                job_id, info.size, measured_sha, version=info.version, style=style,
                reference_job_id=reference_job_id, dancer_id=dancer_id, whose=whose,
            )  # fmt: skip

    def _check_reference(self, reference_job_id: str | None) -> None:
        if reference_job_id is None:
            return
        from dance_analysis.jobs.comparisons import check_reference

        check_job_id(reference_job_id)
        self.db.read(
            lambda session: check_reference(
                session.get(JobRecord, reference_job_id), reference_job_id
            )
        )

    def _verify_or_reject(self, record: JobRecord, info: ObjectInfo) -> str:
        """Check the object; on failure delete it and the job, and raise why."""
        try:
            return self._verify(record, info)
        except DanceAnalysisError:
            self._discard(record.id)
            raise

    def _verify(self, record: JobRecord, info: ObjectInfo) -> str:
        name = f"“{record.filename}”"
        if info.size == 0:
            raise MediaError(
                Reason.EMPTY_FILE, f"{name} is empty (0 bytes). The upload may have failed."
            )
        if record.size_bytes is not None and info.size != record.size_bytes:
            raise ObjectMismatch(
                f"{name} has {info.size} bytes, but {record.size_bytes} were declared."
            )
        if info.size > self.settings.max_upload_bytes:
            raise UploadTooLarge(self.settings.max_upload_bytes)
        from dance_analysis.video.container import SNIFF_BYTES, sniff

        head = b"".join(self.storage.open_range(record.source_key, 0, SNIFF_BYTES - 1))
        sniff(head, name)  # not_a_video, decided by content, never by the extension
        # Measured even when none was declared: the record then says which bytes the
        # job is about, and the worker checks what it fetches against it.
        actual = (info.sha256 or sha256_of_object(self.storage, record.source_key)).lower()
        if record.sha256 is not None and actual != record.sha256.lower():
            raise ChecksumMismatch(f"{name} does not match the SHA-256 that was declared.")
        return actual

    def _queue_upload(
        self,
        job_id: str,
        size: int,
        sha256: str | None,
        *,
        version: str | None = None,
        style: str | None = None,
        reference_job_id: str | None = None,
        dancer_id: int | None = None,
        whose: Whose = UNNAMED,
    ) -> JobView:
        def transition(session: Session) -> tuple[JobView, bool]:
            record = locked_job(session, job_id)
            if record is None:
                raise JobNotFound(job_id)
            if record.status != JobStatus.AWAITING_UPLOAD:
                return JobView.of(record), False  # a concurrent confirm won
            if version is not None:
                # A PUT may have put other bytes in place while we were checking these.
                now = self.storage.stat(record.source_key)
                if now is None or now.version != version:
                    raise InvalidState(
                        "The upload was replaced while it was being confirmed: confirm again."
                    )
            if style is not None:
                record.style = style
            if reference_job_id is not None:
                record.reference_job_id = reference_job_id
            if dancer_id is not None:
                record.dancer_id = dancer_id
            whose.apply(record)
            accepted = accept_upload(record, size, sha256)
            return JobView.of(record), accepted

        view, changed = self.db.write(transition)
        if changed:
            self._publish(view)
            enqueue_job(self.db, self.queue, job_id)
        return view

    # --- the legacy multipart upload ----------------------------------------------------

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
        """Stream a clip straight into storage and queue it: one request, one job.

        ``style`` may be a callable, asked once the bytes are in: a form field sent
        after the file is known only then. A wrong name removes the job (unknown_style).
        ``reference_job_id``, ``dancer_id`` and ``whose`` likewise (see :meth:`confirm`);
        a wrong one removes the job.
        """
        chosen = None if callable(style) else check_style(style)
        dancer = None if callable(dancer_id) else check_dancer_id(dancer_id)
        reference = None if callable(reference_job_id) else reference_job_id
        named = UNNAMED if callable(whose) else whose.checked()
        self._check_reference(reference)
        now = utcnow()
        job_id = str(uuid.uuid4())
        record = _new_record(job_id, filename, DEFAULT_CONTENT_TYPE, now)
        # Born awaiting its bytes; a crash mid-stream leaves a row the sweep reconciles.
        record.upload_expires_at = now
        self.db.write(lambda session: session.add(record))
        digest = Sha256Stream()
        try:
            with self._storage_errors():
                size = self.storage.write_stream(
                    record.source_key,
                    digest.tap(chunks),
                    max_bytes=self.settings.max_upload_bytes,
                )
            sha256 = digest.hexdigest()
            if callable(style):
                chosen = check_style(style())
            if callable(reference_job_id):
                reference = reference_job_id()
                self._check_reference(reference)
            if callable(dancer_id):
                dancer = check_dancer_id(dancer_id())
            if callable(whose):
                named = whose().checked()
            earlier = self._recent_duplicate(job_id, record.filename, size, sha256)
            if earlier is not None:
                self._discard(job_id)
                return earlier
            self.db.write(lambda session: _set_measured(session, job_id, size, sha256))
            with self._storage_errors():
                info = ObjectInfo(key=record.source_key, size=size, sha256=sha256)
                self._verify(record, info)
        except BaseException:
            self._discard(job_id)
            raise
        return self._queue_upload(
            job_id, size, sha256, style=chosen, reference_job_id=reference, dancer_id=dancer,
            whose=named,
        )  # fmt: skip

    def _recent_duplicate(
        self, job_id: str, filename: str, size: int, sha256: str
    ) -> JobView | None:
        """A retried multipart upload (same bytes, same name, moments ago)."""
        window = self.settings.dedupe_window_s
        if window <= 0:
            return None
        since = utcnow() - dt.timedelta(seconds=window)

        def find(session: Session) -> JobView | None:
            record = session.scalars(
                select(JobRecord)
                .where(JobRecord.sha256 == sha256, JobRecord.size_bytes == size)
                .where(JobRecord.filename == filename, JobRecord.id != job_id)
                .where(JobRecord.created_at >= since)
                # A comparison shares its student's bytes and name; it is no upload.
                .where(or_(JobRecord.kind.is_(None), JobRecord.kind != "comparison"))
                .where(JobRecord.status.not_in((JobStatus.AWAITING_UPLOAD, JobStatus.FAILED)))
                .order_by(JobRecord.created_at)
                .limit(1)
            ).first()
            return None if record is None else JobView.of(record)

        return self.db.read(find)

    # --- reconciling uploads nobody confirmed -------------------------------------------

    def reconcile(self) -> int:
        """Confirm abandoned uploads whose object is fine, delete the rest."""
        cutoff = utcnow() - dt.timedelta(seconds=self.settings.upload_reconcile_after_s)
        ids = self.db.read(
            lambda session: list(
                session.scalars(
                    select(JobRecord.id)
                    .where(JobRecord.status == JobStatus.AWAITING_UPLOAD)
                    .where(JobRecord.upload_expires_at < cutoff)
                    .limit(100)
                )
            )
        )
        for job_id in ids:
            try:
                record = self._get(job_id)
                key = record.source_key
                info = self.storage.stat(key)
                if info is None:
                    self._discard(job_id)
                    continue
                measured = self._verify_or_reject(record, info)
                self._queue_upload(job_id, info.size, measured, version=info.version)
            except DanceAnalysisError as error:
                log.info("abandoned upload %s discarded: %s", job_id, error)
            except Exception:
                log.warning("could not reconcile upload %s", job_id, exc_info=True)
        return len(ids)

    # --- helpers ----------------------------------------------------------------------

    def _get(self, job_id: str) -> JobRecord:
        check_job_id(job_id)
        record = self.db.read(lambda session: session.get(JobRecord, job_id))
        if record is None:
            raise JobNotFound(job_id)
        return record

    def _discard(self, job_id: str) -> None:
        """Delete a job that never became one: its row and every file under it.

        A student may already wait for it as its teacher: it gets its comparison,
        failed, saying so (as :meth:`JobService.delete` does)."""
        made = self.db.write(lambda session: _delete_row(session, job_id))
        announce(self.db, self.queue, self._publish, made)
        for prefix in job_prefixes(job_id):
            try:
                self.storage.delete_prefix(prefix)
            except Exception:
                log.warning("could not delete %s", prefix, exc_info=True)

    def _check_size(self, size: int | None) -> int | None:
        if size is None:
            return None
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidRequest("size must be a whole number of bytes.")
        if size == 0:
            raise MediaError(Reason.EMPTY_FILE, "The file is empty (0 bytes).")
        if size > self.settings.max_upload_bytes:
            raise UploadTooLarge(self.settings.max_upload_bytes)
        return size


def _already_confirmed() -> InvalidState:
    return InvalidState(
        "This upload is already confirmed, so its file can no longer be replaced. "
        "To analyse other bytes, ask for a new upload link."
    )


MAX_DANCER_ID = 100_000


def check_dancer_id(dancer_id: int | None) -> int | None:
    """A dancer id from a client: a whole number from 1 (None: chosen by the rule).

    Whether that person is in the clip is known only once it is analysed
    (``no_such_dancer``); this refuses what can never be an id, before anything is
    stored or queued.
    """
    if dancer_id is None:
        return None
    if isinstance(dancer_id, bool) or not isinstance(dancer_id, int):
        raise InvalidRequest("dancer_id must be a whole number from 1 (a person's id).")
    if not 1 <= dancer_id <= MAX_DANCER_ID:
        raise InvalidRequest(f"dancer_id must be from 1 to {MAX_DANCER_ID} (a person's id).")
    return dancer_id


def check_style(name: str | None) -> str | None:
    """The canonical name of a dance style from a client; None: not given (the default).

    Raises ``unknown_style`` at once, before anything is stored or queued.
    """
    if name is None or not name.strip():
        return None
    from dance_analysis.music.styles import get_style

    return get_style(name).name


def _new_record(job_id: str, filename: str, content_type: str, now: dt.datetime) -> JobRecord:
    safe = safe_filename(filename)
    return JobRecord(
        id=job_id,
        status=JobStatus.AWAITING_UPLOAD,
        stage=None,
        progress=0,
        filename=safe,
        original_filename=escaped_original(filename),
        content_type=content_type,
        source_key=upload_key(job_id, safe),
        attempts=0,
        cancel_requested=False,
        created_at=now,
        updated_at=now,
        artifacts={},
    )


def _set_measured(session: Session, job_id: str, size: int, sha256: str) -> None:
    record = locked_job(session, job_id)
    if record is not None:
        record.size_bytes, record.sha256 = size, sha256


def _delete_row(session: Session, job_id: str) -> list[JobView]:
    record = locked_job(session, job_id)
    if record is None:
        return []
    session.delete(record)
    session.flush()
    return [JobView.of(new) for new in follow_ups(session, None, job_id)]


def _check_sha256(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.match(value):
        raise InvalidRequest("sha256 must be 64 hexadecimal digits.")
    return value.lower()


def _check_content_type(value: str | None) -> str:
    if not value:
        return DEFAULT_CONTENT_TYPE
    value = value.strip().lower()
    if not _CONTENT_TYPE.match(value):
        raise InvalidRequest("content_type must look like type/subtype, e.g. video/mp4.")
    return value
