"""Comparisons: a student's finished analysis against a teacher's, as a job of its own.

The comparison's status and result are read like any job's, through
``/analyze/{job_id}/status`` and ``/analyze/{job_id}/result``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from api.deps import ServiceDep
from api.routes.analyze import JOB_ACCEPTED, stage_of
from api.schemas import CompareCreate, JobAcceptedPublic

router = APIRouter(prefix="/compare", tags=["compare"])


@router.post(
    "",
    **JOB_ACCEPTED,
    summary="Compare a student's finished analysis with a teacher's (a job; no model runs)",
)
def create_comparison(
    body: Annotated[CompareCreate, Body()], service: ServiceDep
) -> JobAcceptedPublic:
    """404 ``job_not_found`` for an unknown job, 409 ``invalid_state`` while either job
    has not finished. The comparison's ``s3_key`` is the student's clip."""
    view = service.compare(body.student_job_id, body.reference_job_id)
    return JobAcceptedPublic(
        job_id=view.id, status=view.status, stage=stage_of(view), s3_key=view.source_key,
        message="Comparison queued: poll its status, then fetch its result.",
    )  # fmt: skip
