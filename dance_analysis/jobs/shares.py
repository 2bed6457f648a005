"""Share links: a student's report (report.html) for whoever holds the link, until it expires.

A coach shares a finished analysis; the student opens the link on a phone with no
pairing and no token. The link names a share (``shares`` row: which job, made when,
valid until when) and carries its expiry and an HMAC signature over both
(:func:`~dance_analysis.storage.signing.sign_share`, a key of its own, so neither an
upload nor a download signature opens a report, nor a share signature a download). The
signature is checked before the row is read, so a forged link costs no query; a genuine
one past its time answers :class:`~dance_analysis.errors.LinkExpired` (410).

A share goes with its job: deleting the job deletes its shares, and their links then
answer that the report is no longer there. The engine signs and checks; the API knows
the route (``/r/{share_id}``) and builds the URL (``api.links``).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dance_analysis.db import Base, Database, UtcDateTime
from dance_analysis.errors import InvalidRequest, InvalidState, JobNotFound, ObjectMissing
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import JobStatus
from dance_analysis.storage.signing import sign_share, verify_share

DAY_S = 86_400
DEFAULT_SHARE_S = 7 * DAY_S
MAX_SHARE_S = 90 * DAY_S
MIN_SHARE_S = 60
SHARED_ARTIFACT = "report"
_MAX_SHARE_ID = 64


class ShareRecord(Base):
    """One share link of one job's report."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(_MAX_SHARE_ID), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Share:
    """A share and its signature: what a client turns into a link."""

    id: str
    job_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    signature: str

    @property
    def expires(self) -> int:
        """The expiry as the link carries it: whole seconds since the epoch."""
        return int(self.expires_at.timestamp())

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) > self.expires


def _share(secret: bytes, record: ShareRecord) -> Share:
    expires = int(record.expires_at.timestamp())
    return Share(
        id=record.id,
        job_id=record.job_id,
        created_at=record.created_at,
        expires_at=record.expires_at,
        signature=sign_share(secret, record.id, expires),
    )


def _at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def check_expiry(expires_in_s: int) -> None:
    if isinstance(expires_in_s, bool) or not MIN_SHARE_S <= expires_in_s <= MAX_SHARE_S:
        raise InvalidRequest(
            f"A share link lasts from {MIN_SHARE_S} seconds to {MAX_SHARE_S // DAY_S} days "
            f"(expires_in_s {MIN_SHARE_S}–{MAX_SHARE_S})."
        )


def shareable(record: JobRecord | None, job_id: str) -> JobRecord:
    """A finished job with a report, or the error the coach who asked should see."""
    if record is None:
        raise JobNotFound(job_id)
    if record.status != JobStatus.FINISHED:
        raise InvalidState(
            f"The job is {record.status}; its report can be shared once it has finished."
        )
    if SHARED_ARTIFACT not in (record.artifacts or {}):
        raise InvalidState(
            "This analysis has no report (it was made before reports existed): "
            "analyse the clip again to share one."
        )
    return record


def create_share(
    database: Database, secret: bytes, job_id: str, expires_in_s: int, *, now: float | None = None
) -> Share:
    """A new share of ``job_id``'s report, valid ``expires_in_s`` from ``now`` (the clock:
    tests pass one in the past to get a link that has already expired)."""
    check_expiry(expires_in_s)
    made = time.time() if now is None else now

    def add(session: Session) -> Share:
        shareable(session.get(JobRecord, job_id), job_id)
        record = ShareRecord(
            id=uuid.uuid4().hex,
            job_id=job_id,
            created_at=_at(made),  # to the microsecond: the list's order
            expires_at=_at(int(made + expires_in_s)),  # whole seconds, as the link carries it
        )
        session.add(record)
        return _share(secret, record)

    return database.write(add)


def list_shares(database: Database, secret: bytes, job_id: str) -> list[Share]:
    """The job's shares, newest first (expired ones too: the coach sees they ran out)."""
    query = (
        select(ShareRecord)
        .where(ShareRecord.job_id == job_id)
        .order_by(ShareRecord.created_at.desc(), ShareRecord.id)
    )
    return database.read(
        lambda session: [_share(secret, record) for record in session.scalars(query)]
    )


def shared_job(
    database: Database,
    secret: bytes,
    share_id: str,
    expires: int | str,
    sig: str,
    *,
    now: float | None = None,
) -> str:
    """The job a genuine, unexpired link opens; else BadSignature, LinkExpired, or
    ObjectMissing once the job (and so its shares) was deleted."""
    verify_share(secret, share_id[:_MAX_SHARE_ID], expires, sig, now=now)
    record = database.read(lambda session: session.get(ShareRecord, share_id))
    if record is None:
        raise ObjectMissing("This report is no longer available: ask your coach for a new link.")
    return record.job_id


def delete_shares(session: Session, job_id: str) -> None:
    """In the transaction that deletes the job."""
    session.execute(delete(ShareRecord).where(ShareRecord.job_id == job_id))
