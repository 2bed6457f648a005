"""The original backend's routes, kept field for field: upload URL, confirm, legacy
multipart upload, status, result, delete.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status

from api.deps import CurrentDevice, ServiceDep, SettingsDep
from api.errors import ApiError
from api.links import upload_link
from api.schemas import (
    CLASS_HELP,
    CONTENT_TYPE_PATTERN,
    DANCER_HELP,
    MAX_DANCER_ID,
    NAME_MAX_CHARS,
    REFERENCE_HELP,
    SHA256_PATTERN,
    STUDENT_HELP,
    STYLE_HELP,
    ConfirmCreate,
    CountsMove,
    CountsPublic,
    DancerCreate,
    ErrorPublic,
    JobAcceptedPublic,
    JobDeletedPublic,
    JobError,
    JobOutcomePublic,
    JobPublic,
    JobResultPublic,
    JobStatusPublic,
    MarkPublic,
    MarksPublic,
    MarksPut,
    MusicSummaryPublic,
    OneAt,
    StudentSet,
    UploadUrlCreate,
    UploadUrlPublic,
)
from api.streaming import (
    MULTIPART_OVERHEAD_BYTES,
    BodyReader,
    MultipartFile,
    multipart_boundary,
    run_upload,
)
from dance_analysis.access import Device
from dance_analysis.errors import UploadTooLarge
from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.states import JobStatus
from dance_analysis.jobs.students import Whose
from dance_analysis.jobs.views import JobView
from dance_analysis.marks import Mark, parse_marks

#: How every route that queues a job answers: 202 with the job, or why not.
JOB_ACCEPTED: dict[str, Any] = {
    "status_code": status.HTTP_202_ACCEPTED,
    "response_model": JobAcceptedPublic,
    "responses": {
        404: {"model": ErrorPublic},
        409: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
    },
}

router = APIRouter(prefix="/analyze", tags=["analyze"])

INSTRUCTIONS = (
    "PUT the video file's bytes to upload_url with the same Content-Type, "
    "then call POST /api/v1/analyze/confirm with job_id and s3_key."
)


def stage_of(view: JobView) -> str:
    """The running stage, else the status: the original backend's stage is never null."""
    return (view.stage or view.status).value


def _accepted(view: JobView, message: str) -> JobAcceptedPublic:
    return JobAcceptedPublic(
        job_id=view.id, status=view.status, stage=stage_of(view), s3_key=view.source_key,
        message=message,
    )  # fmt: skip


def finished_job(service: JobService, job_id: str) -> JobView:
    """The job, once finished: 422 with its reason when it failed, 409 ``not_finished``
    while it is on its way (the original backend answered 400)."""
    view = service.get(job_id)
    if view.status == JobStatus.FAILED:
        raise ApiError(
            422,
            view.reason or JobStatus.FAILED.value,
            view.message or "The analysis failed.",
            extra={"status": view.status},
        )
    if view.status != JobStatus.FINISHED:
        raise ApiError(
            409, "not_finished", f"The job is {view.status}, not finished yet.",
            extra={"status": view.status, "progress": view.progress},
        )  # fmt: skip
    return view


def people_fields(view: JobView) -> dict[str, Any]:
    """A finished job's ``dancer_id``, ``people_seen`` and ``people`` (ids), or nulls."""
    people = view.people or {}
    return {
        "dancer_id": people.get("dancer_id"),
        "people_seen": people.get("people_seen"),
        "people": people.get("ids"),
    }


def form_dancer_id(text: str | None) -> int | None:
    """A multipart form's ``dancer_id`` (text): a whole number from 1, else 422."""
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_DANCER_ID:
        raise ApiError(
            422,
            "invalid_request",
            f"dancer_id must be a whole number from 1 to {MAX_DANCER_ID} (a person's id).",
        )
    return int(text)


StudentQuery = Annotated[str | None, Query(max_length=NAME_MAX_CHARS, description=STUDENT_HELP)]
ClassQuery = Annotated[str | None, Query(max_length=NAME_MAX_CHARS, description=CLASS_HELP)]


def whose(student: str | None, class_name: str | None, device: Device | None) -> Whose:
    """The student and class a client named, and the paired device asking (its phone's
    history lists the job; None when authentication is off)."""
    return Whose(student, class_name, None if device is None else device.id)


def check_declared_length(request: Request, limit: int) -> None:
    """An honest Content-Length over the cap is refused before a byte is read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(limit)


@router.post(
    "/upload-url",
    response_model=UploadUrlPublic,
    responses={413: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
    summary="Reserve a job and get a signed URL to PUT the clip to",
)
def create_upload_url(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    device: CurrentDevice,
    filename: Annotated[str | None, Query(min_length=1, max_length=16_000)] = None,
    content_type: Annotated[str | None, Query(pattern=CONTENT_TYPE_PATTERN)] = None,
    size: Annotated[int | None, Query(ge=1)] = None,
    sha256: Annotated[str | None, Query(pattern=SHA256_PATTERN)] = None,
    style: Annotated[str | None, Query(max_length=64, description=STYLE_HELP)] = None,
    student: StudentQuery = None,
    class_name: ClassQuery = None,
    body: Annotated[UploadUrlCreate | None, Body()] = None,
) -> UploadUrlPublic:
    """Query parameters as the original backend took them, or the same fields as JSON."""
    if body is not None:
        filename, content_type = body.filename, body.content_type
        size, sha256, style = body.size, body.sha256, body.style or style
        student, class_name = body.student or student, body.class_name or class_name
    if not filename:
        raise ApiError(422, "invalid_request", "filename is required.")
    if size is not None and size > settings.max_upload_bytes:
        raise UploadTooLarge(settings.max_upload_bytes)
    ticket = service.create_upload(
        filename, (content_type or "video/mp4").lower(), size=size, sha256=sha256, style=style,
        whose=whose(student, class_name, device),
    )  # fmt: skip
    return UploadUrlPublic(
        job_id=ticket.job_id,
        upload_url=upload_link(request, settings, ticket),
        s3_key=ticket.key,
        expires_in=ticket.expires_in,
        instructions=INSTRUCTIONS,
    )


@router.post(
    "/confirm",
    **JOB_ACCEPTED,
    summary="Confirm an uploaded clip and queue its analysis (idempotent)",
)
def confirm_upload(
    service: ServiceDep,
    device: CurrentDevice,
    job_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    s3_key: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
    style: Annotated[str | None, Query(max_length=64, description=STYLE_HELP)] = None,
    reference_job_id: Annotated[
        str | None, Query(min_length=1, max_length=200, description=REFERENCE_HELP)
    ] = None,
    dancer_id: Annotated[int | None, Query(ge=1, le=MAX_DANCER_ID, description=DANCER_HELP)] = None,
    student: StudentQuery = None,
    class_name: ClassQuery = None,
    body: Annotated[ConfirmCreate | None, Body()] = None,
) -> JobAcceptedPublic:
    if body is not None:
        job_id, s3_key, style = body.job_id, body.s3_key, body.style or style
        reference_job_id = body.reference_job_id or reference_job_id
        dancer_id = body.dancer_id or dancer_id
        student, class_name = body.student or student, body.class_name or class_name
    if not job_id or not s3_key:
        raise ApiError(422, "invalid_request", "job_id and s3_key are required.")
    view = service.confirm(
        job_id, s3_key, style=style, reference_job_id=reference_job_id, dancer_id=dancer_id,
        whose=whose(student, class_name, device),
    )  # fmt: skip
    return _accepted(view, "Video confirmed and queued for analysis.")


_MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "description": "the clip as field 'file', or as 'video' (the original "
                    "backend's clients' name): the first of the two is the clip",
                    "properties": {
                        "style": {"type": "string", "maxLength": 64, "description": STYLE_HELP},
                        "reference_job_id": {
                            "type": "string",
                            "maxLength": 200,
                            "description": REFERENCE_HELP,
                        },
                        "dancer_id": {
                            "type": "string",
                            "pattern": "^[1-9][0-9]{0,5}$",
                            "description": DANCER_HELP,
                        },
                        "student": {"type": "string", "description": STUDENT_HELP},
                        "class_name": {"type": "string", "description": CLASS_HELP},
                        "file": {"type": "string", "format": "binary"},
                        "video": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAcceptedPublic,
    responses={
        400: {"model": ErrorPublic},
        404: {"model": ErrorPublic, "description": "reference_job_id names no job"},
        408: {"model": ErrorPublic},
        409: {"model": ErrorPublic, "description": "reference_job_id names a failed job"},
        413: {"model": ErrorPublic},
        415: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
        507: {"model": ErrorPublic},
    },
    openapi_extra=_MULTIPART_BODY,
    summary="Upload a clip as multipart field 'file' or 'video' (the legacy one-step upload)",
)
async def upload_multipart(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    device: CurrentDevice,
    style: Annotated[str | None, Query(max_length=64, description=STYLE_HELP)] = None,
    reference_job_id: Annotated[
        str | None, Query(min_length=1, max_length=200, description=REFERENCE_HELP)
    ] = None,
    dancer_id: Annotated[int | None, Query(ge=1, le=MAX_DANCER_ID, description=DANCER_HELP)] = None,
    student: StudentQuery = None,
    class_name: ClassQuery = None,
) -> JobAcceptedPublic:
    """``style``, ``reference_job_id``, ``dancer_id``, ``student`` and ``class_name`` as
    form fields (before or after ``file``) or query parameters."""
    # The body is parsed here, after authentication, by a streaming parser: FastAPI's
    # own form handling would spool the whole file before any dependency ran.
    check_declared_length(request, settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES)
    boundary = multipart_boundary(request.headers.get("content-type"))
    reader = BodyReader(request.receive)

    def submit() -> JobView:
        form = MultipartFile(boundary, reader.chunks())
        filename = form.open()
        # The form's field wins; it may follow the file, so it is read after the bytes.
        return service.submit(
            filename,
            form.data(),
            style=lambda: form.fields.get("style") or style,
            reference_job_id=lambda: form.fields.get("reference_job_id") or reference_job_id,
            dancer_id=lambda: form_dancer_id(form.fields.get("dancer_id")) or dancer_id,
            whose=lambda: whose(
                form.fields.get("student") or student,
                form.fields.get("class_name") or class_name,
                device,
            ),
        )

    view = await run_upload(request, submit)
    return _accepted(view, "Video received and queued for analysis.")


@router.get(
    "/{job_id}/status",
    response_model=JobStatusPublic,
    responses={404: {"model": ErrorPublic}},
    summary="Where a job is: status, stage, progress and, if it failed, why",
)
def get_status(job_id: str, service: ServiceDep) -> JobStatusPublic:
    view = service.get(job_id)
    error = (
        JobError(reason=view.reason, message=view.message or view.reason)
        if view.reason and view.status in (JobStatus.FAILED, JobStatus.CANCELED)
        else None
    )
    outcome = (
        JobOutcomePublic(num_frames=view.num_frames) if view.status == JobStatus.FINISHED else None
    )
    dancer_id = view.dancer_id
    if dancer_id is None and view.people is not None:
        dancer_id = view.people.get("dancer_id")
    return JobStatusPublic(
        job_id=view.id, status=view.status, stage=stage_of(view), progress=view.progress,
        message=view.message, error=error, created_at=view.created_at,
        started_at=view.started_at, ended_at=view.ended_at, tempo_bpm=view.tempo_bpm,
        style=view.style, kind=view.kind, student_job_id=view.student_job_id,
        reference_job_id=view.reference_job_id, comparison_job_id=view.comparison_job_id,
        dancer_id=dancer_id, result=outcome, student=view.student, class_name=view.class_name,
    )  # fmt: skip


@router.get(
    "/{job_id}/result",
    response_model=JobResultPublic,
    responses={
        404: {"model": ErrorPublic},
        409: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
    },
    summary="A finished job's frame count and download links",
)
def get_result(
    job_id: str, request: Request, service: ServiceDep, settings: SettingsDep
) -> JobResultPublic:
    from api.routes.jobs import download_links, storage_keys  # one place builds links

    view = finished_job(service, job_id)
    links, expires_in = download_links(request, settings, service, view)
    music = None if view.music is None else MusicSummaryPublic(**view.music)
    return JobResultPublic(
        job_id=view.id, num_frames=view.num_frames, music=music, downloads=links,
        s3_results=storage_keys(view), expires_in=expires_in, kind=view.kind,
        comparison_job_id=view.comparison_job_id, **people_fields(view),
    )  # fmt: skip


@router.post(
    "/{job_id}/counts",
    response_model=CountsPublic,
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}},
    summary="Move the “1” of a finished job: counts and timing again, without the model",
)
def move_counts(
    job_id: str, body: Annotated[CountsMove, Body()], service: ServiceDep
) -> CountsPublic:
    """``{"one_ms": t}`` or ``{"shift_beats": n}``. 409 ``no_music`` for a clip without
    counted beats; 409 ``invalid_state`` before the job has finished. result.json is
    rewritten; fetch it again for every count."""
    if isinstance(body, OneAt):
        view = service.move_one(job_id, one_ms=body.one_ms)
    else:
        view = service.move_one(job_id, shift_beats=body.shift_beats)
    assert view.music is not None  # a move only succeeds on a result with music
    return CountsPublic(job_id=view.id, music=MusicSummaryPublic(**view.music))


MARKS_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic},
    409: {"model": ErrorPublic},
    422: {"model": ErrorPublic},
}


def _marks_public(job_id: str, marks: list[Mark]) -> MarksPublic:
    return MarksPublic(job_id=job_id, marks=[MarkPublic(**mark.to_dict()) for mark in marks])


@router.get(
    "/{job_id}/marks",
    response_model=MarksPublic,
    responses=MARKS_ERRORS,
    summary="The coach's marks on a finished job: angles, lines and notes on frames",
)
def get_marks(job_id: str, service: ServiceDep) -> MarksPublic:
    """``{job_id, marks}`` by time (empty when none were saved); 409 ``invalid_state``
    before the job has finished, 404 ``job_not_found`` for an unknown job."""
    return _marks_public(job_id, service.marks(job_id))


@router.put(
    "/{job_id}/marks",
    response_model=MarksPublic,
    responses=MARKS_ERRORS,
    summary="Replace a finished job's marks; kinovea.kva and report.html follow them",
)
def put_marks(job_id: str, body: Annotated[MarksPut, Body()], service: ServiceDep) -> MarksPublic:
    """``{"marks": [...]}``, the whole set; answers the marks as saved (ids filled, by
    time). 422 ``invalid_marks`` with a sentence for a mark that is not an angle, a line
    or a note on the picture; 409 ``invalid_state`` before the job has finished."""
    return _marks_public(job_id, service.save_marks(job_id, parse_marks(body.marks)))


@router.post(
    "/{job_id}/dancer",
    **JOB_ACCEPTED,
    summary="Analyse the job's clip again about another dancer: a new job, no upload",
)
def analyse_dancer(
    job_id: str, body: Annotated[DancerCreate, Body()], service: ServiceDep
) -> JobAcceptedPublic:
    """``{"dancer_id": N}``: a new job on the clip already stored (its style and "1" go
    with it), answered like confirm; poll the new ``job_id``. The old job stays. 422
    ``no_such_dancer`` when the finished job found nobody with that id (the message
    lists the ids), 409 ``invalid_state`` while it runs or for a comparison."""
    view = service.analyse_dancer(job_id, body.dancer_id)
    return _accepted(view, f"Dancer {body.dancer_id} queued for analysis as a new job.")


@router.put(
    "/{job_id}/student",
    response_model=JobPublic,
    responses={code: {"model": ErrorPublic} for code in (404, 409, 422)},
    summary="Name the student (and class) whose lesson a clip is, or clear them",
)
def set_student(job_id: str, body: Annotated[StudentSet, Body()], service: ServiceDep) -> JobPublic:
    """``{"student": "Anna Lee", "class_name": "Tuesday juniors"}``; ``null`` clears. Names
    are trimmed (inner runs of spaces made one); longer than 80 characters, or holding a
    control or invisible character: 422 ``invalid_request`` saying which. The job's
    comparisons follow; a comparison itself answers 409 ``invalid_state``."""
    from api.routes.jobs import to_public

    return to_public(service.set_student(job_id, body.student, body.class_name))


@router.delete(
    "/{job_id}",
    response_model=JobDeletedPublic,
    responses={404: {"model": ErrorPublic}},
    summary="Delete a job, its clip and its results",
)
def delete_job(job_id: str, service: ServiceDep) -> JobDeletedPublic:
    """404 ``job_not_found`` for an unknown job (a documented difference from the original)."""
    service.delete(job_id)
    return JobDeletedPublic(job_id=job_id, message="The job and its files were deleted.")
