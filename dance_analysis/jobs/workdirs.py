"""The per-attempt working folders under ``{data_dir}/work``, and their clean-up.

A worker runs each attempt in a folder of its own, ``{pid}-{job_id}-{attempt}``
(the fetched clip, the child's output before it is published), and removes it when
the attempt ends. A worker that is killed cannot: :func:`remove_orphans`, part of
every sweep, removes a folder once its attempt no longer runs under a live lease,
so a killed worker's files go within a lease and a sweep, not at the next restart.

The job row decides, never the process id in the name: workers in containers that
share a data folder see other process ids, or none, for workers that are alive.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dance_analysis.config import Settings
from dance_analysis.db import Database, utcnow
from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import JobStatus

log = logging.getLogger(__name__)

_BATCH = 500


def work_dirs_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "work"


def work_dir(settings: Settings, job_id: str, attempt: int) -> Path:
    """The folder for one attempt of a job, run by this process."""
    return work_dirs_root(settings) / f"{os.getpid()}-{job_id}-{attempt}"


def remove_orphans(settings: Settings, db: Database) -> int:
    """Delete the folders of attempts that are not running any more; returns how many."""
    root = work_dirs_root(settings)
    if not root.is_dir():
        return 0
    # Folders first, rows second: a folder is made only after its claim committed, so
    # the rows read below already show every attempt whose folder was listed.
    folders: dict[Path, tuple[str, int]] = {}
    for folder in root.iterdir():
        parsed = _parse(folder.name)
        if parsed is not None:
            folders[folder] = parsed
        if len(folders) >= _BATCH:
            break
    if not folders:
        return 0
    job_ids = {job_id for job_id, _ in folders.values()}
    now = utcnow()

    def running(session: Session) -> set[tuple[str, int]]:
        rows = session.execute(
            select(JobRecord.id, JobRecord.attempts)
            .where(JobRecord.id.in_(job_ids), JobRecord.status == JobStatus.STARTED)
            .where(JobRecord.lease_expires_at >= now)
        )
        return {(job_id, attempts) for job_id, attempts in rows}

    live = db.read(running)
    removed = 0
    for folder, attempt in folders.items():
        if attempt in live:
            continue
        log.info("removing the working folder %s of an attempt that ended", folder.name)
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _parse(name: str) -> tuple[str, int] | None:
    """``{pid}-{job_id}-{attempt}`` → (job_id, attempt); None for a name not ours."""
    pid_text, _, rest = name.partition("-")
    job_id, _, attempt_text = rest.rpartition("-")
    if not (pid_text.isdigit() and attempt_text.isdigit() and job_id):
        return None
    return job_id, int(attempt_text)
