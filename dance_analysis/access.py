"""Who may use the API: device tokens, pairing codes, and the brake on guessing.

A device gets a token in one of two ways only: pairing (a short one-time code the
desktop shows as a QR code) or the command line (:meth:`AccessService.create_token`,
for studio scripts). No method takes a token to mint another, so a paired phone
cannot widen its access. Tokens (``secrets.token_urlsafe(32)``) and pairing codes
are stored as SHA-256 hashes; a token is shown once.

Rights come from the kind of token, never from where a request comes from: an
``owner`` token (the command line's) may also manage devices (list, revoke, mint
pairing codes); a ``paired`` token (a phone's) may only use the API. The desktop app
manages devices through this service directly.

Wrong pairing codes are counted per client (the API passes the peer address; an
IPv6 client counts by its /64, which one household usually holds). Counting and
checking are one step under one lock, so a hundred guesses sent at once get the
same five evaluations as a hundred sent one by one. There is no shared brake: it
would let one client lock pairing out for everyone, and the code space (31^8) makes
guessing from many addresses hopeless anyway.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import logging
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import String, inspect, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dance_analysis.config import Settings
from dance_analysis.db import Base, Database, UtcDateTime, database_url, utcnow
from dance_analysis.errors import DeviceNotFound, PairingFailed, RateLimited

PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a screen
PAIRING_CODE_CHARS = 8
MAX_FAILURES_PER_CLIENT = 5
FAILURE_WINDOW_S = 60.0
_MAX_CLIENTS_TRACKED = 10_000  # a flood of addresses must not grow memory
_LAST_USED_EVERY_S = 60.0  # don't turn every request into a database write

# Token kinds. Rows from before the column existed read as "paired": the least right.
OWNER = "owner"  # `token create` (studio scripts): uses the API and manages devices
PAIRED = "paired"  # a phone that paired with a code: uses the API only

log = logging.getLogger(__name__)


class DeviceRecord(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=PAIRED, server_default=PAIRED)
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
    kind: str = PAIRED

    @property
    def manages_devices(self) -> bool:
        """May list and revoke devices and mint pairing codes (owner tokens only)."""
        return self.kind == OWNER

    @classmethod
    def of(cls, record: DeviceRecord) -> Device:
        return cls(
            id=record.id,
            name=record.name,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            revoked=record.revoked_at is not None,
            kind=record.kind or PAIRED,
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


def client_bucket(client: str) -> str:
    """The key wrong guesses are counted under: the address, or an IPv6 client's /64."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class _GuessBrake:
    """Pairing attempts per client in a sliding window (in this process).

    :meth:`admit` checks the count and counts the attempt in one step under the
    lock; :meth:`refund` takes the attempt back when the code was right. So at most
    ``MAX_FAILURES_PER_CLIENT`` attempts of a client are ever evaluated per window,
    however many arrive at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_client: dict[str, deque[float]] = {}

    def admit(self, client: str) -> float:
        """Count one attempt of ``client`` or raise ``RateLimited``; the attempt's stamp."""
        now = time.monotonic()
        key = client_bucket(client)
        with self._lock:
            times = self._by_client.get(key)
            if times is None:
                self._make_room(now)
                times = self._by_client[key] = deque()
            _trim(times, now)
            if len(times) >= MAX_FAILURES_PER_CLIENT:
                raise RateLimited(int(times[0] + FAILURE_WINDOW_S - now) + 1)
            times.append(now)
            return now

    def refund(self, client: str, stamp: float) -> None:
        """The attempt stamped ``stamp`` succeeded: it does not count as a wrong guess."""
        with self._lock:
            times = self._by_client.get(client_bucket(client))
            if times is not None:
                with contextlib.suppress(ValueError):
                    times.remove(stamp)

    def _make_room(self, now: float) -> None:
        if len(self._by_client) < _MAX_CLIENTS_TRACKED:
            return
        # Forget clients whose window is over; if a flood of addresses still fills the
        # table, the oldest go first (never all at once: that would reset every count).
        for key in [key for key, times in self._by_client.items() if not _trim(times, now)]:
            del self._by_client[key]
        while len(self._by_client) >= _MAX_CLIENTS_TRACKED:
            del self._by_client[next(iter(self._by_client))]


def _trim(times: deque[float], now: float) -> int:
    while times and times[0] <= now - FAILURE_WINDOW_S:
        times.popleft()
    return len(times)


class AccessService:
    def __init__(self, settings: Settings, *, database: Database | None = None) -> None:
        self.settings = settings
        if database is None:
            Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
            database = Database(database_url(settings.database_url, settings.data_dir))
        self.database = database
        self.database.create_tables()
        _add_kind_column(self.database)
        self._brake = _GuessBrake()

    # --- tokens ---------------------------------------------------------------------

    def create_token(self, name: str) -> str:
        """A new owner token (the command line's way in). Returned once, stored hashed."""
        token = secrets.token_urlsafe(32)
        self.database.write(lambda session: self._add_device(session, name, token, OWNER))
        return token

    @staticmethod
    def _add_device(session: Session, name: str, token: str, kind: str) -> DeviceRecord:
        record = DeviceRecord(
            id=str(uuid.uuid4()),
            name=_clean_name(name),
            token_sha256=_sha256(token),
            kind=kind,
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
        """Revoke a device's token (again is fine); :class:`DeviceNotFound` if there is none."""

        def mark(session: Session) -> bool:
            record = session.get(DeviceRecord, device_id[:36])
            if record is None:
                return False
            if record.revoked_at is None:
                record.revoked_at = utcnow()
            return True

        if not self.database.write(mark):
            raise DeviceNotFound(device_id)

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
        (429) once ``client_key`` guessed wrong too often.
        """
        stamp = self._brake.admit(client_key)
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
            self._add_device(session, device_name, token, PAIRED)
            return token

        token = self.database.write(redeem)
        if token is None:
            raise PairingFailed()  # the attempt stays counted
        self._brake.refund(client_key, stamp)
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


def _add_kind_column(database: Database) -> None:
    """Give a devices table from before token kinds its ``kind`` column (rows: paired)."""
    if "kind" in {c["name"] for c in inspect(database.engine).get_columns("devices")}:
        return
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(f"ALTER TABLE devices ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT '{PAIRED}'")
            )
    except Exception:
        # Another process starting at the same moment may have added it first.
        if "kind" not in {c["name"] for c in inspect(database.engine).get_columns("devices")}:
            raise
        log.info("the devices table got its kind column from another process")
