"""What the job service hands out: read-only views, never live database rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dance_analysis.jobs.records import JobRecord
from dance_analysis.jobs.states import JobStatus
from dance_analysis.stages import Stage

ANALYSIS = "analysis"
COMPARISON = "comparison"


@dataclass(frozen=True)
class JobView:
    """What clients see; the API maps it 1:1 to JSON."""

    id: str
    status: JobStatus
    stage: Stage | None
    progress: int  # 0–100
    filename: str  # the safe file name the clip is stored under
    source_key: str
    size_bytes: int | None
    sha256: str | None
    reason: str | None
    message: str | None
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    num_frames: int | None
    artifacts: dict[str, str] = field(default_factory=dict)  # name → key (finished only)
    style: str | None = None  # the dance style asked for (None: the server's default)
    music: dict[str, Any] | None = None  # the music summary, once finished
    one_ms: float | None = None  # where a coach put the "1"; None: the tracker's
    kind: str = "analysis"  # or "comparison": two finished analyses compared, no model
    student_job_id: str | None = None  # a comparison: the student's analysis
    reference_job_id: str | None = None  # a comparison, or an analysis to compare: the teacher's
    comparison_job_id: str | None = None  # an analysis: its comparison, once queued
    worker_id: str | None = None  # the worker running the job, or that ran its last attempt
    dancer_id: int | None = None  # the dancer asked for; None: chosen by the rule
    people: dict[str, Any] | None = None  # once finished: {dancer_id, people_seen, ids}
    student: str | None = None  # whose lesson it is (None: nobody's yet)
    class_name: str | None = None  # the student's class
    device_id: str | None = None  # the paired device that uploaded it (None: not a phone)
    summary: dict[str, Any] | None = None  # once finished: the lesson's numbers

    @property
    def is_comparison(self) -> bool:
        return self.kind == COMPARISON

    @property
    def tempo_bpm(self) -> float | None:
        return None if not self.music else self.music.get("tempo_bpm")

    @classmethod
    def of(cls, record: JobRecord) -> JobView:
        return cls(
            id=record.id,
            # Converted here too: a record changed in this session holds what was set.
            status=JobStatus(record.status),
            stage=None if record.stage is None else Stage(record.stage),
            progress=record.progress,
            filename=record.filename,
            source_key=record.source_key,
            size_bytes=record.size_bytes,
            sha256=record.sha256,
            reason=record.reason,
            message=record.message,
            attempts=record.attempts,
            created_at=record.created_at,
            started_at=record.started_at,
            ended_at=record.ended_at,
            num_frames=record.num_frames,
            artifacts=dict(record.artifacts or {}) if record.status == JobStatus.FINISHED else {},
            style=record.style,
            music=dict(record.music) if record.music else None,
            one_ms=record.one_ms,
            kind=record.kind or ANALYSIS,
            student_job_id=record.student_job_id,
            reference_job_id=record.reference_job_id,
            comparison_job_id=record.comparison_job_id,
            worker_id=record.worker_id,
            dancer_id=record.dancer_id,
            people=dict(record.people) if record.people else None,
            student=record.student,
            class_name=record.class_name,
            device_id=record.device_id,
            summary=dict(record.summary) if record.summary else None,
        )


@dataclass(frozen=True)
class UploadTicket:
    """The answer to "where do I put my clip?"."""

    job_id: str
    key: str  # uploads/{job_id}/{safe_filename}: the original API's ``s3_key``
    filename: str  # the safe file name the clip is stored under
    upload_url: str | None  # presigned S3 URL; None: PUT to this server's signed link
    signature: str | None  # the local store's link signature (storage.signing.sign_upload)
    expires_at: int  # when the link expires, in seconds since the epoch
    expires_in: int  # seconds
    content_type: str  # the PUT must send exactly this Content-Type
    method: str = "PUT"


@dataclass(frozen=True)
class ArtifactHandle:
    """One result file ready to send: a local file to stream, or a presigned URL."""

    job_id: str
    name: str  # artifact name: result, overlay, landmarks_csv, angles_csv, coco17
    filename: str  # overlay.mp4, …: for Content-Disposition
    key: str
    size: int
    content_type: str
    local_path: Path | None  # local store: serve it (with Range)
    url: str | None  # S3: redirect to it
