"""Who may use the API: device tokens, pairing codes, and the brake on guessing.

A device gets a token in one of two ways only: pairing (a short one-time code the
desktop shows as a QR code) or the command line (:meth:`AccessService.create_token`,
for studio scripts). No method takes a token to mint another, so a paired phone
cannot widen its access. Tokens (``secrets.token_urlsafe(32)``) and pairing codes
are stored as SHA-256 hashes; a token is shown once. Wrong pairing codes are
counted per client key (the API passes the peer address) and in total, and past
the limit every attempt is refused with ``rate_limited`` (429) for a while.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dance_analysis.config import Settings
from dance_analysis.db import Base, Database, UtcDateTime, database_url, utcnow
from dance_analysis.errors import PairingFailed, RateLimited

PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a screen
PAIRING_CODE_CHARS = 8
MAX_FAILURES_PER_CLIENT = 5
MAX_FAILURES_TOTAL = 30
FAILURE_WINDOW_S = 60.0
_LAST_USED_EVERY_S = 60.0  # don't turn every request into a database write


class DeviceRecord(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class PairingCodeRecord(Base):
    __tablename__ = "pairing_codes"

    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool

    @classmethod
    def of(cls, record: DeviceRecord) -> Device:
        return cls(
            id=record.id,
            name=record.name,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            revoked=record.revoked_at is not None,
        )


@dataclass(frozen=True)
class PairingCode:
    code: str  # shown once (QR code and text); only its hash is stored
    expires_at: dt.datetime
    ttl_s: int


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """What a person typed → the code: case, spaces and dashes do not matter."""
    return "".join(code.split()).replace("-", "").upper()[:64]


def _clean_name(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()[:100]
    return cleaned or "device"


class _FailureCounter:
    """Wrong guesses in a sliding window, per client and in total (in this process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_client: dict[str, deque[float]] = {}
        self._total: deque[float] = deque()

    def _trim(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - FAILURE_WINDOW_S:
            times.popleft()

    def check(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            times = self._by_client.get(client, deque())
            self._trim(times, now)
            self._trim(self._total, now)
            if len(times) >= MAX_FAILURES_PER_CLIENT:
                raise RateLimited(int(times[0] + FAILURE_WINDOW_S - now) + 1)
            if len(self._total) >= MAX_FAILURES_TOTAL:
                raise RateLimited(int(self._total[0] + FAILURE_WINDOW_S - now) + 1)

    def record(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._by_client.setdefault(client, deque()).append(now)
            self._total.append(now)
            if len(self._by_client) > 10_000:  # a flood of addresses must not grow memory
                self._by_client.clear()


class AccessService:
    def __init__(self, settings: Settings, *, database: Database | None = None) -> None:
        self.settings = settings
        if database is None:
            Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
            database = Database(database_url(settings.database_url, settings.data_dir))
        self.database = database
        self.database.create_tables()
        self._failures = _FailureCounter()

    # --- tokens ---------------------------------------------------------------------

    def create_token(self, name: str) -> str:
        """A new device token (the command line's way in). Returned once, stored hashed."""
        token = secrets.token_urlsafe(32)
        self.database.write(lambda session: self._add_device(session, name, token))
        return token

    @staticmethod
    def _add_device(session: Session, name: str, token: str) -> DeviceRecord:
        record = DeviceRecord(
            id=str(uuid.uuid4()),
            name=_clean_name(name),
            token_sha256=_sha256(token),
            created_at=utcnow(),
        )
        session.add(record)
        return record

    def verify(self, token: str) -> Device | None:
        """The device a bearer token belongs to, or None (unknown or revoked)."""
        if not token or len(token) > 200:
            return None
        digest = _sha256(token)
        record = self.database.read(
            lambda session: session.scalars(
                select(DeviceRecord).where(DeviceRecord.token_sha256 == digest)
            ).first()
        )
        # The lookup is by hash, so its timing says nothing about the token's characters.
        if record is None or record.revoked_at is not None:
            return None
        now = utcnow()
        if record.last_used_at is None or (now - record.last_used_at).total_seconds() > (
            _LAST_USED_EVERY_S
        ):
            self.database.write(
                lambda session: session.execute(
                    update(DeviceRecord)
                    .where(DeviceRecord.id == record.id)
                    .values(last_used_at=now)
                )
            )
        return Device.of(record)

    def revoke(self, device_id: str) -> None:
        """Revoke a device's token; unknown ids are ignored (revoking is idempotent)."""
        self.database.write(
            lambda session: session.execute(
                update(DeviceRecord)
                .where(DeviceRecord.id == device_id, DeviceRecord.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        )

    def list_devices(self) -> list[Device]:
        return self.database.read(
            lambda session: [
                Device.of(record)
                for record in session.scalars(
                    select(DeviceRecord).order_by(DeviceRecord.created_at)
                )
            ]
        )

    # --- pairing --------------------------------------------------------------------

    def new_pairing_code(self) -> PairingCode:
        """A one-time code for the desktop to show; it expires after ``pairing_code_ttl_s``."""
        code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_CHARS))
        now = utcnow()
        ttl = self.settings.pairing_code_ttl_s
        expires_at = now + dt.timedelta(seconds=ttl)
        record = PairingCodeRecord(code_sha256=_sha256(code), created_at=now, expires_at=expires_at)
        self.database.write(lambda session: session.add(record))
        return PairingCode(code=code, expires_at=expires_at, ttl_s=ttl)

    def pair(self, code: str, device_name: str, *, client_key: str = "") -> str:
        """Trade a valid, unused, unexpired code for a device token (once).

        Raises :class:`PairingFailed` (403) for a wrong code and :class:`RateLimited`
        (429) once ``client_key`` (or everyone together) guessed wrong too often.
        """
        self._failures.check(client_key)
        digest = _sha256(normalise_code(code))

        def redeem(session: Session) -> str | None:
            now = utcnow()
            # One conditional UPDATE: two phones racing with one code cannot both win.
            used = session.execute(
                update(PairingCodeRecord)
                .where(PairingCodeRecord.code_sha256 == digest)
                .where(PairingCodeRecord.used_at.is_(None), PairingCodeRecord.expires_at > now)
                .values(used_at=now)
            )
            if getattr(used, "rowcount", 0) != 1:
                return None
            token = secrets.token_urlsafe(32)
            self._add_device(session, device_name, token)
            return token

        token = self.database.write(redeem)
        if token is None:
            self._failures.record(client_key)
            raise PairingFailed()
        return token

    def code_is_open(self, code: str) -> bool:
        """Whether ``code`` can still pair a device: issued, unused and unexpired.

        The desktop asks this every second and shows a fresh code once a phone has
        used the one on screen.
        """
        digest = _sha256(normalise_code(code))
        record = self.database.read(lambda session: session.get(PairingCodeRecord, digest))
        return record is not None and record.used_at is None and record.expires_at > utcnow()

    def purge_expired_codes(self) -> int:
        """Delete used and expired codes (housekeeping; safe at any time)."""
        from sqlalchemy import delete, or_

        def purge(session: Session) -> int:
            result = session.execute(
                delete(PairingCodeRecord).where(
                    or_(
                        PairingCodeRecord.used_at.is_not(None),
                        PairingCodeRecord.expires_at < utcnow(),
                    )
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

        return self.database.write(purge)
