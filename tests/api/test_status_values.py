"""Statuses and stages leave the API as the same strings they always were."""

from __future__ import annotations

import datetime as dt

from api.schemas import JobPublic, JobStatusPublic
from dance_analysis.jobs.states import JobStatus
from dance_analysis.stages import Stage

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def test_status_and_stage_are_plain_strings_in_json() -> None:
    public = JobStatusPublic(
        job_id="j", status=JobStatus.STARTED, stage=Stage.POSE, progress=5, message=None,
        error=None, created_at=NOW, started_at=NOW, ended_at=None,
    )  # fmt: skip
    body = public.model_dump_json()
    assert '"status":"started"' in body and '"stage":"pose"' in body
    assert JobStatusPublic.model_validate_json(body).status is JobStatus.STARTED


def test_the_schema_lists_every_status() -> None:
    schema = JobPublic.model_json_schema()
    statuses = schema["$defs"]["JobStatus"]["enum"]
    assert statuses == [status.value for status in JobStatus]
    assert "awaiting_upload" in statuses
