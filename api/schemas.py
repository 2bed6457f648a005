"""The JSON the API speaks: one family of models per resource.

Field names of the original backend (``job_id``, ``s3_key``, ``expires_in``,
``downloads``…) are a contract with existing clients and are kept as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dance_analysis.jobs.states import JobStatus
from dance_analysis.stages import Stage

# -- errors -------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    reason: str = Field(description="stable machine-readable code; clients switch on it")
    message: str = Field(description="a sentence for a person")


class ErrorPublic(BaseModel):
    detail: ErrorDetail


# -- requests -------------------------------------------------------------------------

# Request bodies are validated strictly: a JSON ``true``, ``1.5`` or ``"12"`` where an
# integer belongs is refused (422), not quietly turned into ``1`` or ``12``. A client
# that sends the wrong type has a bug we should tell it about. (Query parameters stay
# lax on purpose: they arrive as text and must be converted.)
STRICT = ConfigDict(strict=True)

# -- analyze (the original backend's routes) -----------------------------------------

CONTENT_TYPE_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"
)
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
JOB_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
REFERENCE_HELP = (
    "a teacher's job to compare this clip with once both are analysed; the comparison "
    "is a job of its own, named by the status's comparison_job_id once queued"
)
DANCER_HELP = (
    "the person to analyse, by the id result.json's people and people.json give them "
    "(a whole number from 1); default: chosen by the rule (frames seen × size × "
    "centrality). An id nobody has in the clip fails the job with no_such_dancer"
)
MAX_DANCER_ID = 100_000
STUDENT_HELP = (
    "whose lesson the clip is (up to 80 characters, trimmed); the library groups clips "
    "by it and GET /api/v1/students/{name}/progress plots them"
)
CLASS_HELP = "the student's class or group (up to 80 characters, trimmed)"
# Loose here on purpose: the engine trims the name first, then refuses what is still
# too long with a sentence that says so (422 invalid_request).
NAME_MAX_CHARS = 1000
STYLE_HELP = (
    "dance style that keeps the tempo search in its range (default auto); an unknown "
    "name is refused with 422 unknown_style"
)


class UploadUrlCreate(BaseModel):
    """What a client may send as a JSON body instead of query parameters."""

    model_config = STRICT

    filename: str = Field(min_length=1, max_length=16_000)
    content_type: str = Field(default="video/mp4", pattern=CONTENT_TYPE_PATTERN)
    size: int | None = Field(default=None, ge=1, description="bytes; verified at confirm")
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)
    style: str | None = Field(default=None, max_length=64, description=STYLE_HELP)
    student: str | None = Field(default=None, max_length=NAME_MAX_CHARS, description=STUDENT_HELP)
    class_name: str | None = Field(default=None, max_length=NAME_MAX_CHARS, description=CLASS_HELP)


class UploadUrlPublic(BaseModel):
    job_id: str
    upload_url: str = Field(description="PUT the raw bytes here with the same Content-Type")
    s3_key: str = Field(description="uploads/{job_id}/{filename}")
    expires_in: int = Field(description="seconds the upload URL stays valid")
    instructions: str


class ConfirmCreate(BaseModel):
    model_config = STRICT

    job_id: str = Field(min_length=1, max_length=200)
    s3_key: str = Field(min_length=1, max_length=1000)
    style: str | None = Field(default=None, max_length=64, description=STYLE_HELP)
    reference_job_id: str | None = Field(default=None, max_length=200, description=REFERENCE_HELP)
    dancer_id: int | None = Field(default=None, ge=1, le=MAX_DANCER_ID, description=DANCER_HELP)
    student: str | None = Field(default=None, max_length=NAME_MAX_CHARS, description=STUDENT_HELP)
    class_name: str | None = Field(default=None, max_length=NAME_MAX_CHARS, description=CLASS_HELP)


class StudentSet(BaseModel):
    """Name (or, with null, clear) the student and class of a clip's job."""

    model_config = ConfigDict(strict=True, extra="forbid")

    student: str | None = Field(max_length=NAME_MAX_CHARS, description=STUDENT_HELP)
    class_name: str | None = Field(default=None, max_length=NAME_MAX_CHARS, description=CLASS_HELP)


class DancerCreate(BaseModel):
    """Analyse a job's clip again about another person (a new job; nothing uploaded)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    dancer_id: int = Field(ge=1, le=MAX_DANCER_ID, description=DANCER_HELP)


class CompareCreate(BaseModel):
    """Compare a student's finished analysis with a teacher's."""

    model_config = ConfigDict(strict=True, extra="forbid")

    student_job_id: str = Field(min_length=1, max_length=200)
    reference_job_id: str = Field(
        min_length=1, max_length=200, description="the teacher's finished analysis"
    )


STAGE_HELP = (
    "what runs now (fetch, probe, pose, measure, write, publish); when no stage runs, "
    "the job's status (queued, finished, …): always a string, as the original backend's"
)


class JobAcceptedPublic(BaseModel):
    """The answer to confirm and to the legacy multipart upload (202)."""

    job_id: str
    status: JobStatus
    stage: str = Field(description=STAGE_HELP)
    s3_key: str
    message: str


class JobError(BaseModel):
    reason: str
    message: str


class JobOutcomePublic(BaseModel):
    """A finished job's outcome in the status, as the original backend's ``result``."""

    num_frames: int | None
    status: Literal["complete"] = "complete"


class JobStatusPublic(BaseModel):
    job_id: str
    status: JobStatus
    stage: str = Field(description=STAGE_HELP)
    progress: int = Field(ge=0, le=100)
    message: str | None
    error: JobError | None = Field(description="why a failed or canceled job stopped")
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    tempo_bpm: float | None = Field(
        default=None, description="the music's tempo once the analysis found it, else null"
    )
    style: str | None = Field(default=None, description="the dance style asked for, or null")
    kind: Literal["analysis", "comparison"] = Field(
        default="analysis", description="comparison: two finished analyses compared"
    )
    student_job_id: str | None = Field(
        default=None, description="a comparison: the student's analysis"
    )
    reference_job_id: str | None = Field(
        default=None, description="the teacher's analysis this job compares (or will) with"
    )
    comparison_job_id: str | None = Field(
        default=None,
        description="an analysis given a reference_job_id: its comparison job, once queued",
    )
    dancer_id: int | None = Field(
        default=None,
        description="the dancer the analysis is about: the one asked for, else once "
        "finished the one the rule chose; null until then (or when nobody was found)",
    )
    result: JobOutcomePublic | None = Field(
        default=None, description="once finished: {num_frames, status: complete}; else null"
    )
    student: str | None = Field(default=None, description="whose lesson it is, or null")
    class_name: str | None = Field(default=None, description="the student's class, or null")


class MusicSummaryPublic(BaseModel):
    """The music of a finished job, in short; result.json's ``music`` has every beat."""

    present: bool
    reason: str | None = Field(
        default=None, description="why there is no music: no_audio, silence, too_short, …"
    )
    tempo_bpm: float | None
    beats_per_bar: int
    style: str
    counts: int = Field(ge=0, description="how many 8-count phrases the music has")
    first_one_ms: float | None = Field(
        default=None, description="when the first counted “1” sounds (ms on the clip's clock)"
    )
    one_set_by: Literal["tracker", "coach"] = Field(
        default="tracker", description="“coach” once someone moved the “1”"
    )


class OneAt(BaseModel):
    """Move the “1” to the beat nearest ``one_ms`` (ms on the clip's clock)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    one_ms: float = Field(ge=0, le=86_400_000)


class ShiftBy(BaseModel):
    """Move the “1” ``shift_beats`` beats later (negative: earlier)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    shift_beats: int = Field(ge=-64, le=64)


# Exactly one way of moving: a body with both, or neither, matches no member (422).
CountsMove = OneAt | ShiftBy


class CountsPublic(BaseModel):
    """The job's music after the move; result.json has the new counts and timing."""

    job_id: str
    music: MusicSummaryPublic


class MarkPublic(BaseModel):
    """One of the coach's marks: points normalised 0–1 on the upright picture, from its
    top-left corner; an angle's vertex is its middle point."""

    id: str
    kind: Literal["angle", "line", "note"]
    t_ms: float = Field(description="the marked frame's time on the clip's clock")
    points: list[tuple[float, float]] = Field(description="3 for an angle, 2 a line, 1 a note")
    text: str = Field(description="a note's words (empty for an angle or a line)")


class MarksPut(BaseModel):
    """Every mark the job keeps (the whole set replaces the saved one). Each mark is
    checked by the job service, so a bad one is refused as 422 ``invalid_marks``."""

    model_config = ConfigDict(extra="forbid")

    marks: list[Any] = Field(
        description="{id?, kind: angle|line|note, t_ms, points: [[x, y], …], text?}; "
        "a mark without an id gets one"
    )


class MarksPublic(BaseModel):
    """A job's marks, by time."""

    job_id: str
    marks: list[MarkPublic]


class JobResultPublic(BaseModel):
    status: Literal["complete"] = "complete"
    job_id: str
    num_frames: int | None
    music: MusicSummaryPublic | None = Field(
        default=None, description="null for a job analysed before music was"
    )
    downloads: dict[str, str] = Field(
        description="artifact name → URL usable by this caller (visualization is the overlay)"
    )
    s3_results: dict[str, str] = Field(
        default_factory=dict, description="artifact name → its key in storage"
    )
    kind: Literal["analysis", "comparison"] = "analysis"
    comparison_job_id: str | None = Field(
        default=None, description="an analysis given a reference_job_id: its comparison job"
    )
    dancer_id: int | None = Field(
        default=None, description="the dancer analysed (null: nobody found, or an older job)"
    )
    people_seen: int | None = Field(
        default=None, description="the most people in one frame (null: an older job)"
    )
    people: list[int] | None = Field(
        default=None, description="the ids of everyone found; people.json has their poses"
    )
    expires_in: int = Field(description="seconds the download URLs stay valid")


class JobDeletedPublic(BaseModel):
    job_id: str
    status: Literal["deleted"] = "deleted"
    deleted: Literal[True] = True
    message: str


class ArtifactLinkPublic(BaseModel):
    """The original backend's ``/videos/{job_id}/{kind}``: where to fetch one file."""

    url: str = Field(description="signed, short-lived; needs no token")
    expires_in: int = Field(description="seconds the URL stays valid")


class RootPublic(BaseModel):
    message: str


# -- jobs ---------------------------------------------------------------------------


class JobPublic(BaseModel):
    id: str
    status: JobStatus
    stage: Stage | None
    progress: int
    filename: str
    source_key: str
    size_bytes: int | None
    sha256: str | None
    reason: str | None
    message: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    num_frames: int | None
    artifacts: list[str] = Field(description="names of the files a finished job produced")
    kind: Literal["analysis", "comparison"] = "analysis"
    student_job_id: str | None = None
    reference_job_id: str | None = None
    comparison_job_id: str | None = None
    worker_id: str | None = Field(
        default=None,
        description="the worker running the job, or that ran its last attempt (host:pid:id)",
    )
    student: str | None = Field(default=None, description=STUDENT_HELP)
    class_name: str | None = Field(default=None, description=CLASS_HELP)


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int


# -- students -------------------------------------------------------------------------


class StudentPublic(BaseModel):
    name: str = Field(description="as the student's newest clip spells it")
    class_name: str | None
    clips: int = Field(description="every clip of theirs (analyses)")
    lessons: int = Field(description="finished analyses: the points of their progress")
    last_lesson_at: datetime | None = Field(description="when the newest lesson's clip came in")


class StudentsPublic(BaseModel):
    data: list[StudentPublic]
    count: int


class AngleRangePublic(BaseModel):
    min: float | None
    max: float | None
    range: float | None = Field(description="range of motion over the clip, degrees")
    mean: float | None


class LessonPublic(BaseModel):
    job_id: str
    created_at: datetime = Field(description="when the clip came in: the lesson's date")
    filename: str
    class_name: str | None
    overall_score: float | None = Field(
        description="0–100, the newest finished comparison of this lesson with a teacher's clip"
    )
    comparison_job_id: str | None
    timing_offset_ms: float | None = Field(
        description="mean offset of the dancer's accents to the beat (negative: ahead)"
    )
    tempo_bpm: float | None
    coverage: float | None = Field(description="share of frames with the dancer found, 0–1")
    angles: dict[str, AngleRangePublic] = Field(description="per joint angle, degrees")


class ProgressPublic(BaseModel):
    student: str
    lessons: list[LessonPublic] = Field(description="in time order, oldest first")


class MyJobPublic(BaseModel):
    """One job in a phone's own history."""

    job_id: str
    kind: Literal["analysis", "comparison"]
    filename: str
    status: JobStatus
    created_at: datetime
    ended_at: datetime | None
    student: str | None
    class_name: str | None
    overall_score: float | None = Field(description="a finished comparison's score, 0–100")
    downloads: dict[str, str] = Field(
        description="a finished job's videos and report (overlay, ghost, practice, report, "
        "result): links that work without a token until they expire"
    )
    links: list[dict[str, str]] = Field(
        default_factory=list,
        description="the coach's share links to the job's report that still open, newest "
        "first: {kind, title, url, expires_at}",
    )


class MyJobsPublic(BaseModel):
    data: list[MyJobPublic]
    count: int
    expires_in: int = Field(description="seconds the download links stay valid")


# -- devices and pairing ------------------------------------------------------------


class PairCreate(BaseModel):
    model_config = STRICT

    code: str = Field(min_length=1, max_length=64)
    device_name: str = Field(min_length=1, max_length=100)


class TokenPublic(BaseModel):
    token: str
    device_id: str | None = None
    token_type: Literal["bearer"] = "bearer"


class DevicePublic(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool
    kind: Literal["owner", "paired"] = Field(
        description="owner (`token create`): may manage devices; paired (a phone): may not"
    )


class DevicesPublic(BaseModel):
    data: list[DevicePublic]
    count: int


class PairingCodePublic(BaseModel):
    code: str
    expires_at: datetime | None
    expires_in: int


# -- health -------------------------------------------------------------------------


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, bool]


# -- share links (issue 12) -----------------------------------------------------------

SHARE_DAY_S = 86_400


class ShareCreate(BaseModel):
    """How long the link works, in seconds: 60 s to 90 days, 7 days by default."""

    model_config = ConfigDict(strict=True, extra="forbid")

    expires_in_s: int = Field(default=7 * SHARE_DAY_S, ge=60, le=90 * SHARE_DAY_S)


class SharePublic(BaseModel):
    url: str = Field(description="the report, for anyone with this link (no token)")
    created_at: datetime
    expires_at: datetime
    expired: bool


class ShareCreatedPublic(SharePublic):
    qr_svg: str = Field(description="the link as a QR code, an inline SVG element")


class SharesPublic(BaseModel):
    data: list[SharePublic]
    count: int
