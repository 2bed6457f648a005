"""The SQL database the engine keeps its records in: one declarative base, one
:class:`Database` that runs transactions safely, and the column types they share.

Both the job service (:mod:`dance_analysis.jobs.records`) and device access
(:mod:`dance_analysis.access`) declare their tables on :class:`Base`, so one file
(or one PostgreSQL database) holds them all. SQLite (the desktop) and PostgreSQL
(a studio) are both supported.

SQLite settings, chosen for crash safety with several threads and processes:
``journal_mode=WAL`` (readers never wait for the writer), ``synchronous=FULL`` (a
committed transaction survives power loss, not just a killed process),
``busy_timeout=30000`` (a writer waits up to 30 s for another instead of failing).
Writes begin with ``BEGIN IMMEDIATE`` so two transactions never both read and then
both try to upgrade to a write lock (SQLite answers that deadlock with an immediate
``database is locked`` that no busy timeout helps); and a whole write transaction is
retried, with back-off, if SQLite still says it is locked.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import (
    DateTime,
    Engine,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
_LOCK_RETRY_S = 60.0  # on top of SQLite's own 30 s wait, before giving up on a write
_PG_SCHEMA_LOCK = 0x64616E6365  # pg_advisory_xact_lock key: serialises CREATE TABLE


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out, on SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


def _is_sqlite_lock(error: BaseException) -> bool:
    message = str(getattr(error, "orig", error)).lower()
    return "database is locked" in message or "database table is locked" in message


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, start transactions (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _set_wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _set_wal(cursor: Any) -> None:
    # Switching a fresh file to WAL needs a write lock that busy_timeout does not cover.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as error:
            if not _is_sqlite_lock(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Database:
    """An engine pair (writes, reads) and transactions that retry what is safe to retry.

    :meth:`write` and :meth:`read` take a function of a session rather than handing out
    a context manager, because retrying a transaction means running its body again.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self._write_engine = _sqlite_engine(url, immediate=True)
            self._read_engine = _sqlite_engine(url, immediate=False)
        else:
            self._write_engine = create_engine(
                url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=30
            )
            self._read_engine = self._write_engine
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        return self._write_engine

    def create_tables(self) -> None:
        """Create missing tables; safe when several processes start at once."""
        with self._write_engine.begin() as connection:
            if not self.is_sqlite:
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_SCHEMA_LOCK})"))
            Base.metadata.create_all(connection)

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in a write transaction and commit; retried whole while locked."""
        return self._run(self._write_sessions, fn)

    def read(self, fn: Callable[[Session], T]) -> T:
        return self._run(self._read_sessions, fn)

    def _run(self, sessions: sessionmaker[Session], fn: Callable[[Session], T]) -> T:
        deadline = time.monotonic() + _LOCK_RETRY_S
        delay = 0.05
        while True:
            try:
                with sessions() as session, session.begin():
                    return fn(session)
            except DBAPIError as error:
                # SQLite still locked after its busy timeout, or a connection the server
                # dropped (restart, failover; the pool has thrown it away): run it again.
                retryable = (self.is_sqlite and _is_sqlite_lock(error)) or (
                    error.connection_invalidated
                )
                if not retryable or time.monotonic() > deadline:
                    raise
                log.info("database busy or reconnecting; retrying in %.2f s", delay)
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)

    def ping(self) -> bool:
        try:
            with self._read_engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.warning("database unreachable", exc_info=True)
            return False
        return True

    def dispose(self) -> None:
        self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            self._read_engine.dispose()


def database_url(settings_database_url: str | None, data_dir: Any) -> str:
    """The configured URL, or SQLite in the data folder."""
    if settings_database_url:
        url = settings_database_url
        # "postgresql://" means psycopg2 to SQLAlchemy; we ship psycopg 3.
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{data_dir}/jobs.db"
