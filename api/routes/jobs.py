"""Jobs as a resource: the list, one job, cancel, retry, and artifact downloads with Range."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import ServiceDep
from api.errors import ApiError
from api.links import absolute, content_disposition, signed_artifact_path, verify_artifact_link
from api.ranges import RangedFileResponse
from api.routes.shares import REPORT_HEADERS
from api.schemas import ErrorPublic, JobPublic, JobsPublic
from api.security import BearerDep, authenticate
from dance_analysis.artifacts import ARTIFACT_ALIASES, ARTIFACT_NAMES
from dance_analysis.config import Settings
from dance_analysis.errors import BadSignature, UploadExpired
from dance_analysis.jobs.service import DOWNLOAD_URL_EXPIRY_S as DOWNLOAD_LINK_EXPIRY_S
from dance_analysis.jobs.service import JobService
from dance_analysis.jobs.states import JobStatus
from dance_analysis.jobs.views import JobView

# Every route here needs a token (the router is included with the auth dependency)...
router = APIRouter(prefix="/jobs", tags=["jobs"])
# ...except downloads, which take a token *or* the signature of a link from /result.
downloads_router = APIRouter(prefix="/jobs", tags=["jobs"])


def to_public(view: JobView) -> JobPublic:
    return JobPublic(
        id=view.id, status=view.status, stage=view.stage, progress=view.progress,
        filename=view.filename, source_key=view.source_key, size_bytes=view.size_bytes,
        sha256=view.sha256, reason=view.reason, message=view.message, attempts=view.attempts,
        created_at=view.created_at, started_at=view.started_at, ended_at=view.ended_at,
        num_frames=view.num_frames, artifacts=sorted(view.artifacts), kind=view.kind,
        student_job_id=view.student_job_id, reference_job_id=view.reference_job_id,
        comparison_job_id=view.comparison_job_id, worker_id=view.worker_id,
        student=view.student, class_name=view.class_name,
    )  # fmt: skip


def download_links(
    request: Request, settings: Settings, service: JobService, view: JobView
) -> tuple[dict[str, str], int]:
    """Artifact name → a URL this caller can fetch without further credentials."""
    links = {
        name: artifact_link(request, settings, service, view.id, name)
        for name in sorted(view.artifacts)
    }
    # The original backend's names beside ours (``visualization``: the overlay video).
    for alias, name in ARTIFACT_ALIASES.items():
        if name in links:
            links[alias] = artifact_link(request, settings, service, view.id, alias)
    return links, DOWNLOAD_LINK_EXPIRY_S


def artifact_link(
    request: Request, settings: Settings, service: JobService, job_id: str, name: str
) -> str:
    """One artifact's URL for this caller: presigned (S3) or this server's signed link."""
    handle = service.open_artifact(job_id, name)
    if handle.url is not None:  # S3: a presigned link to the public endpoint
        return handle.url
    path = signed_artifact_path(service.secret, job_id, name, DOWNLOAD_LINK_EXPIRY_S)
    return absolute(request, settings, path)


def storage_keys(view: JobView) -> dict[str, str]:
    """Artifact name → storage key, with the original backend's names (its ``s3_results``)."""
    keys = dict(sorted(view.artifacts.items()))
    for alias, name in ARTIFACT_ALIASES.items():
        if name in keys:
            keys[alias] = keys[name]
    return keys


@router.get("", response_model=JobsPublic, summary="Jobs, newest first")
def list_jobs(
    service: ServiceDep,
    status: Annotated[JobStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    student: Annotated[
        str | None, Query(max_length=1000, description="only this student's jobs (any case)")
    ] = None,
) -> JobsPublic:
    views = service.list(status=status, limit=limit, offset=offset, student=student)
    return JobsPublic(data=[to_public(view) for view in views], count=len(views))


@router.get(
    "/{job_id}", response_model=JobPublic, responses={404: {"model": ErrorPublic}},
    summary="One job",
)  # fmt: skip
def get_job(job_id: str, service: ServiceDep) -> JobPublic:
    return to_public(service.get(job_id))


@router.post(
    "/{job_id}/cancel",
    response_model=JobPublic,
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}},
    summary="Cancel a queued or running job",
)
def cancel_job(job_id: str, service: ServiceDep) -> JobPublic:
    return to_public(service.cancel(job_id))


@router.post(
    "/{job_id}/retry",
    response_model=JobPublic,
    status_code=202,
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}},
    summary="Run a failed or canceled analysis again (a new job)",
)
def retry_job(job_id: str, service: ServiceDep) -> JobPublic:
    """The clip is analysed again as a new job, queued, with the same style and "1" (as the
    desktop's "Analyse again"); the old job is then deleted. The answer is the new job.
    409 ``invalid_state`` for a job that is not failed or canceled, a comparison, or a job
    whose clip never arrived."""
    return to_public(service.retry(job_id))


_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The whole file", "content": {"application/octet-stream": {}}},
    206: {"description": "The requested byte range", "content": {"application/octet-stream": {}}},
    307: {"description": "Redirect to a presigned S3 link (S3 storage)"},
    404: {"model": ErrorPublic},
    409: {"model": ErrorPublic},
    416: {"model": ErrorPublic, "description": "No requested range lies inside the file"},
}


@downloads_router.get(
    "/{job_id}/artifacts/{name}",
    response_class=Response,
    responses=_FILE_RESPONSES,
    summary="Download one result file (HTTP Range supported)",
)
def get_artifact(
    job_id: str,
    name: str,
    request: Request,
    service: ServiceDep,
    credentials: BearerDep,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """With a Bearer token, or with the ``expires`` and ``sig`` of a link from /result."""
    if sig is not None or expires is not None:
        # A link's signature stands in for the token, so a bad one is a 401 like a bad token.
        try:
            verify_artifact_link(service.secret, job_id, name, expires or "", sig or "")
        except UploadExpired:
            raise ApiError(
                401,
                "link_expired",
                "The download link has expired: ask for the result again.",
                headers={"WWW-Authenticate": "Bearer"},
            ) from None
        except BadSignature:
            raise ApiError(
                401,
                "bad_signature",
                "The download link is not valid.",
                headers={"WWW-Authenticate": "Bearer"},
            ) from None
    else:
        authenticate(request, credentials)
    handle = service.open_artifact(job_id, name)
    if handle.local_path is not None:
        return RangedFileResponse(
            handle.local_path,
            media_type=handle.content_type,
            headers=_download_headers(handle.filename),
        )
    if handle.url is None:
        raise ApiError(404, "object_missing", "That result file is not available.")
    return RedirectResponse(handle.url, status_code=307)


def _download_headers(filename: str) -> dict[str, str]:
    """Every file is saved as it is, but the student's report: a phone's "Report" link
    opens it in the browser, under the shared report's policy (no script, nothing fetched)."""
    if filename != ARTIFACT_NAMES["report"]:
        return {"Content-Disposition": content_disposition(filename)}
    return {**REPORT_HEADERS, "Content-Disposition": content_disposition(filename, "inline")}
