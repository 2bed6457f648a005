"""Real services for the job, storage and access tests: PostgreSQL, Redis, an S3 server.

Each is required, never skipped: a test that needs one and finds it absent fails
with a message saying what to start. PostgreSQL gets a fresh database per test
session (dropped afterwards), Redis a fresh queue name per test, S3 a moto server on
a free loopback port. Conftests re-export these fixtures by importing them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dance_analysis.config import Settings
from tests import settings
from tests.media import make_clip
from tests.settings import FAST_LEASES

PG_ADMIN_URL = os.environ.get("DANCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DANCE_TEST_REDIS", "redis://127.0.0.1:6379/0")

FAST = FAST_LEASES  # recovery within seconds: what the crash tests wait for


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll until ``predicate()`` is truthy; fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """The suite's settings (tests/settings.py) with short leases, for these tests."""
    return settings.make_settings(data_dir, **{**FAST_LEASES, **overrides})


@contextlib.contextmanager
def scratch_database(prefix: str = "dance_test") -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; its URL as a deployment writes it."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is needed at {PG_ADMIN_URL} (set DANCE_TEST_PG): {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session."""
    with scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is needed at {REDIS_URL} (set DANCE_TEST_REDIS): {error}")
    return REDIS_URL


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server speaking real HTTP on loopback."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(endpoint: str) -> dict[str, Any]:
    return {
        "s3_endpoint_url": endpoint,
        "s3_bucket": f"b{uuid.uuid4().hex[:12]}",
        "s3_access_key": "testing",
        "s3_secret_key": "testing-secret",
        "s3_region": "us-east-1",
        "s3_max_attempts": 1,
        "s3_connect_timeout_s": 2.0,
        "s3_read_timeout_s": 5.0,
    }


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of the squats at 90x160, 5 fps: 10 frames, analysed in about a second."""
    return make_clip(tmp_path_factory.mktemp("jobs-media") / "tiny.mp4")
