"""Students and their progress, and a phone's own history (issue 12, point 3).

``/students`` lists everyone the clips name; ``/students/{name}/progress`` gives one
student's lessons in time order, the numbers a progress plot needs and nothing more
(each lesson's summary is kept on its job: no result file is read). ``/me/jobs`` is
what a paired phone sent, newest first, with links it can open without its token.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api.deps import CurrentDevice, ServiceDep, SettingsDep
from api.links import base_url, share_link
from api.routes.jobs import artifact_link
from api.schemas import (
    ErrorPublic,
    LessonPublic,
    MyJobPublic,
    MyJobsPublic,
    ProgressPublic,
    StudentPublic,
    StudentsPublic,
)
from dance_analysis.config import Settings
from dance_analysis.errors import ObjectMissing
from dance_analysis.jobs.service import DOWNLOAD_URL_EXPIRY_S, JobService
from dance_analysis.jobs.states import JobStatus
from dance_analysis.jobs.views import JobView

router = APIRouter(tags=["students"])

# What a phone opens from its history: the videos, the report, and the result itself.
PHONE_DOWNLOADS = ("overlay", "ghost", "practice", "report", "result")
MAX_HISTORY = 200


@router.get("/students", response_model=StudentsPublic, summary="Every student the clips name")
def list_students(service: ServiceDep) -> StudentsPublic:
    students = [StudentPublic(**asdict(student)) for student in service.students()]
    return StudentsPublic(data=students, count=len(students))


@router.get(
    "/students/{name}/progress",
    response_model=ProgressPublic,
    responses={422: {"model": ErrorPublic}},
    summary="One student's lessons in time order: score, timing and joint angles",
)
def student_progress(
    name: Annotated[str, Path(min_length=1, max_length=1000)], service: ServiceDep
) -> ProgressPublic:
    """The name in any case (``anna%20lee``); a name nobody has answers an empty list."""
    lessons = [LessonPublic(**asdict(lesson)) for lesson in service.progress(name)]
    return ProgressPublic(student=" ".join(name.split()), lessons=lessons)


@router.get(
    "/me/jobs",
    response_model=MyJobsPublic,
    summary="This device's own history: the clips it sent and their comparisons",
)
def my_jobs(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    device: CurrentDevice,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY)] = 50,
) -> MyJobsPublic:
    """Newest first. With authentication switched off there is no device to ask about:
    the list is empty."""
    if device is None:
        return MyJobsPublic(data=[], count=0, expires_in=DOWNLOAD_URL_EXPIRY_S)
    views = service.list(device_id=device.id, limit=limit)
    data = [_history_entry(request, settings, service, view) for view in views]
    return MyJobsPublic(data=data, count=len(data), expires_in=DOWNLOAD_URL_EXPIRY_S)


def _history_entry(
    request: Request, settings: Settings, service: JobService, view: JobView
) -> MyJobPublic:
    downloads: dict[str, str] = {}
    if view.status == JobStatus.FINISHED:
        for name in PHONE_DOWNLOADS:
            if name in view.artifacts:
                try:
                    downloads[name] = artifact_link(request, settings, service, view.id, name)
                except ObjectMissing:  # one lost file leaves the rest of the history
                    continue
    return MyJobPublic(
        job_id=view.id, kind=view.kind, filename=view.filename, status=view.status,
        created_at=view.created_at, ended_at=view.ended_at, student=view.student,
        class_name=view.class_name,
        overall_score=(view.summary or {}).get("overall_score") if view.is_comparison else None,
        downloads=downloads,
        links=sent_links(base_url(request, settings), service, view),
    )  # fmt: skip


def sent_links(api_url: str, service: JobService, view: JobView) -> list[dict[str, str]]:
    """The coach's share links to ``view``'s report that still open, newest first."""
    if view.status != JobStatus.FINISHED:
        return []
    return [
        {
            "kind": "report",
            "title": "Report from your coach",  # the page adds its expiry, in the phone's time
            "url": share_link(api_url, share),
            "expires_at": share.expires_at.isoformat(timespec="seconds"),
        }
        for share in service.shares(view.id)
        if not share.expired()
    ]
