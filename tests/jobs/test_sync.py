"""Desktop sync: S3 down keeps the backlog; when S3 returns it drains, verified."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path

from moto.server import ThreadedMotoServer

from dance_analysis.db import Database, database_url, utcnow
from dance_analysis.jobs.records import OutboxRecord
from dance_analysis.jobs.sync import SyncLoop
from dance_analysis.storage import create_sync_target
from dance_analysis.storage.keys import result_key
from dance_analysis.storage.local import LocalStorage
from dance_analysis.storage.s3 import S3Storage
from tests.jobs.services import free_port, make_settings, s3_settings


def test_backlog_survives_s3_outage_and_drains_verified(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet: connection refused
    settings = make_settings(tmp_path, s3_mode="sync", **s3_settings(f"http://127.0.0.1:{port}"))
    db = Database(database_url(None, tmp_path))
    db.create_tables()
    local = LocalStorage(tmp_path / "storage")
    remote = create_sync_target(settings)
    assert isinstance(remote, S3Storage)

    job_id = str(uuid.uuid4())
    keys = [result_key(job_id, name) for name in ("result.json", "overlay.mp4")]
    for key in keys:
        source = tmp_path / "src"
        source.write_bytes(uuid.uuid4().bytes * 1000)
        local.put_file(key, source)
    now = utcnow()

    def add(session: object) -> None:
        for key in keys:
            session.add(  # type: ignore[attr-defined]
                OutboxRecord(op="put", key=key, job_id=job_id, next_attempt_at=now, created_at=now)
            )

    db.write(add)
    sync = SyncLoop(db, local, remote, interval_s=1.0, max_backoff_s=60.0)

    # S3 down: nothing done, nothing lost, the next try pushed back.
    assert sync.run_once() == 0
    assert sync.backlog() == 2
    rows = db.read(lambda s: list(s.query(OutboxRecord).order_by(OutboxRecord.id)))
    assert rows[0].attempts == 1 and rows[0].last_error
    assert rows[0].next_attempt_at > now

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        # Not yet due: back-off is respected.
        assert sync.run_once(now) == 0
        later = utcnow() + dt.timedelta(seconds=120)
        assert sync.run_once(later) == 2
        assert sync.backlog() == 0
        for key in keys:
            info = remote.stat(key)
            path = local.local_path(key)
            assert info is not None and path is not None
            assert info.size == path.stat().st_size
            assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
            assert b"".join(remote.open_range(key, 0, None)) == path.read_bytes()
    finally:
        server.stop()
        db.dispose()
