"""The per-attempt working folders under ``{data_dir}/work``, and their clean-up.

A worker runs each attempt in a folder of its own, ``{pid}-{job_id}-{attempt}``
(the fetched clip, the child's output before it is published), and removes it when
the attempt ends. A worker that is killed cannot: :func:`remove_stale_work_dirs`
removes the folders of processes on this machine that are gone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dance_analysis.config import Settings


def work_dirs_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "work"


def work_dir(settings: Settings, job_id: str, attempt: int) -> Path:
    """The folder for one attempt of a job, run by this process."""
    return work_dirs_root(settings) / f"{os.getpid()}-{job_id}-{attempt}"


def remove_stale_work_dirs(settings: Settings) -> None:
    """Delete temp folders left by workers on this machine that were killed."""
    root = work_dirs_root(settings)
    if not root.is_dir():
        return
    for folder in root.iterdir():
        pid_text = folder.name.split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(folder, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
