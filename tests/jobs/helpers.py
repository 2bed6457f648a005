"""Helpers for the job tests: worker processes, waiting for states, result files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dance_analysis.config import Settings
from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.views import JobView, UploadTicket
from tests.jobs.services import wait_for

REPO = Path(__file__).resolve().parents[2]
ARTIFACT_FILES = sorted(
    ["result.json", "overlay.mp4", "landmarks.csv", "angles.csv", "coco17.json",
     "keypoints_2d.json", "keypoints_3d.json", "analysis.json",  # these three: the seed's
     "people.json",
     "markers.trc", "angles.mot", "kinovea.kva", "skeleton.bvh", "report.html"]  # issue 12
)  # fmt: skip


def settings_json(settings: Settings) -> str:
    return json.dumps(settings.model_dump(mode="json"))


def start_worker(settings: Settings) -> subprocess.Popen[str]:
    """A real worker process; returns once its consumer runs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.worker_proc", settings_json(settings), "work"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"worker did not start: {line!r}"
    return proc


def wait_status(
    service: JobService, job_id: str, statuses: set[str], timeout: float = 60
) -> JobView:
    return wait_for(
        lambda: (v := service.get(job_id)).status in statuses and v,
        timeout=timeout,
        what=f"job {job_id} to reach {statuses}",
    )


def wait_stage(service: JobService, job_id: str, stage: str, timeout: float = 60) -> JobView:
    return wait_for(
        lambda: (v := service.get(job_id)).stage == stage and v,
        timeout=timeout,
        what=f"job {job_id} to reach stage {stage}",
    )


def result_files(service: JobService, job_id: str) -> list[str]:
    folder = Path(service.settings.data_dir) / "storage" / "results" / job_id
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def put_local(service: JobService, ticket: UploadTicket, body: bytes) -> int:
    """What the signed PUT route does with a local store's ticket."""
    assert ticket.signature is not None
    service.verify_upload_link(
        ticket.job_id, ticket.filename, "video/mp4", str(ticket.expires_at), ticket.signature
    )
    return service.receive_upload(ticket.job_id, ticket.filename, [body])
