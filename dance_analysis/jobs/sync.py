"""Desktop mode with S3 configured: mirror finished results to S3, in the background.

Local files are the truth on a desktop; S3 is a copy that may be unreachable for
hours. When a job finishes, its result keys are added to an outbox table *in the
same transaction* that marks it finished (see ``jobs.worker``), so nothing is
forgotten across a crash or restart. :class:`SyncLoop` drains the outbox: each
file is uploaded (in parts when large, every part checksummed by S3), then read
back with ``HEAD`` and checked for size and SHA-256 before its row is removed. A
failure only pushes that row's next attempt back (exponential, capped, jittered);
it never touches the job. Deleting a job adds a "delete" row for its S3 folder.

At start-up, unfinished multipart uploads under ``results/`` are aborted: a sync
killed mid-upload simply starts that file again, and no parts are left to pay for.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dance_analysis.db import Database, utcnow
from dance_analysis.digests import sha256_of_file
from dance_analysis.jobs.records import OutboxRecord
from dance_analysis.storage.base import Storage, content_type_for
from dance_analysis.storage.s3 import S3Storage

log = logging.getLogger(__name__)

_BATCH = 20
_CLAIM_S = 600.0  # a row being worked on is pushed this far ahead, so nobody else takes it


class SyncError(Exception):
    """The copy in S3 is not what we sent."""


class SyncLoop:
    def __init__(
        self,
        db: Database,
        local: Storage,
        remote: S3Storage,
        *,
        interval_s: float,
        max_backoff_s: float,
    ) -> None:
        self._db = db
        self._local = local
        self._remote = remote
        self._interval_s = interval_s
        self._max_backoff_s = max_backoff_s
        self._started = False

    # --- the loop -----------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Drain the outbox until ``stop`` is set (a consumer's background thread)."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.warning("sync round failed", exc_info=True)
            stop.wait(self._interval_s)

    def run_once(self, now: dt.datetime | None = None) -> int:
        """One round over the due rows; returns how many were completed."""
        now = now or utcnow()
        due = self._db.write(lambda session: self._claim_due(session, now))
        done = 0
        for row_id, op, key in due:
            try:
                self._prepare()
                if op == "put":
                    self._put(key)
                else:
                    self._remote.delete_prefix(key)
            except Exception as error:
                log.info("sync of %s failed (%s); will retry", key, error)
                self._db.write(lambda session, r=row_id, e=error: self._back_off(session, r, e))  # type: ignore[misc]
                # S3 is probably down: leave the rest of the batch for the next round,
                # instead of paying a connect timeout per row.
                self._release(due[due.index((row_id, op, key)) + 1 :])
                break
            self._db.write(lambda session, r=row_id: _delete(session, r))  # type: ignore[misc]
            done += 1
        return done

    def _prepare(self) -> None:
        """Once per loop, when S3 first answers: the bucket, and no parts left over."""
        if self._started:
            return
        self._remote.ensure_bucket()
        aborted = self._remote.abort_multipart_uploads("results/")
        if aborted:
            log.info("aborted %d unfinished multipart uploads from a previous run", aborted)
        self._started = True

    def backlog(self) -> int:
        return int(
            self._db.read(
                lambda session: session.scalar(select(func.count()).select_from(OutboxRecord))
            )
            or 0
        )

    # --- one row ------------------------------------------------------------------

    def _put(self, key: str) -> None:
        path = self._local.local_path(key)
        if path is None or not path.is_file():
            log.info("%s no longer exists locally (job deleted); not syncing it", key)
            return
        size = path.stat().st_size
        sha256 = sha256_of_file(path)
        self._remote.put_file_verified(key, path, content_type_for(key), sha256)
        info = self._remote.stat(key)
        if info is None or info.size != size or (info.sha256 or "").lower() != sha256:
            raise SyncError(f"{key} in S3 does not match the local file after upload")

    # --- the outbox table ---------------------------------------------------------

    def _claim_due(self, session: Session, now: dt.datetime) -> list[tuple[int, str, str]]:
        rows = list(
            session.scalars(
                select(OutboxRecord)
                .where(OutboxRecord.next_attempt_at <= now)
                .order_by(OutboxRecord.id)
                .limit(_BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.next_attempt_at = now + dt.timedelta(seconds=_CLAIM_S)
        return [(row.id, row.op, row.key) for row in rows]

    def _release(self, rows: list[tuple[int, str, str]]) -> None:
        def release(session: Session) -> None:
            for row_id, _, _ in rows:
                row = session.get(OutboxRecord, row_id)
                if row is not None:
                    row.next_attempt_at = utcnow()

        if rows:
            self._db.write(release)

    def _back_off(self, session: Session, row_id: int, error: BaseException) -> None:
        row = session.get(OutboxRecord, row_id)
        if row is None:
            return
        row.attempts += 1
        delay = min(self._interval_s * 2 ** min(row.attempts, 20), self._max_backoff_s)
        delay *= 0.5 + random.random() / 2  # jitter: many desktops must not retry in step
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
        row.last_error = f"{type(error).__name__}: {error}"[:500]


def _delete(session: Session, row_id: int) -> None:
    row = session.get(OutboxRecord, row_id)
    if row is not None:
        session.delete(row)
