"""Choosing the dancer over the API: ``dancer_id`` at confirm and in the legacy upload,
and a re-analysis about another dancer on the clip already stored.

The service runs the documented mock mode's two-dancer scene (``mock_people=2``): a
small figure at the side (id 1) and the main dancer (id 2), whom the rule chooses.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, fetch_result, running_api, upload_flow, wait_until_ended
from tests.settings import make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api2(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(make_settings(tmp_path / "data", mock_people=2)) as running:
        yield running


async def _ticket(api: Api, clip: Path) -> dict[str, Any]:
    ticket = (
        await api.client.post("/api/v1/analyze/upload-url", params={"filename": "two.mp4"})
    ).json()
    put = await api.anonymous.put(
        ticket["upload_url"], content=clip.read_bytes(), headers={"Content-Type": "video/mp4"}
    )
    assert put.status_code == 200, put.text
    return ticket


async def test_confirm_carries_dancer_id_into_the_analysis(api2: Api, tiny_clip: Path) -> None:
    ticket = await _ticket(api2, tiny_clip)
    confirm = await api2.client.post(
        "/api/v1/analyze/confirm",
        json={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"], "dancer_id": 1},
    )
    assert confirm.status_code == 202, confirm.text
    status = await wait_until_ended(api2.client, ticket["job_id"])
    assert status["status"] == "finished", status
    assert status["dancer_id"] == 1
    assert status["result"] == {"num_frames": 10, "status": "complete"}  # the seed's shape
    summary = (await api2.client.get(f"/api/v1/analyze/{ticket['job_id']}/result")).json()
    assert summary["dancer_id"] == 1 and summary["people"] == [1, 2]
    assert summary["people_seen"] == 2
    files = await fetch_result(api2.client, ticket["job_id"])
    result = json.loads(files["result"])
    assert result["dancer_id"] == 1 and result["options"]["dancer_id"] == 1
    assert json.loads(files["people"])["dancer_id"] == 1


async def test_another_dancer_is_a_new_job_on_the_stored_clip(api2: Api, tiny_clip: Path) -> None:
    first = await upload_flow(api2.client, tiny_clip)
    status = await wait_until_ended(api2.client, first["job_id"])
    assert status["dancer_id"] == 2  # the rule: the main dancer

    again = await api2.client.post(
        f"/api/v1/analyze/{first['job_id']}/dancer", json={"dancer_id": 1}
    )
    assert again.status_code == 202, again.text
    second = again.json()
    assert second["job_id"] != first["job_id"]
    assert second["s3_key"].startswith(f"uploads/{second['job_id']}/")
    status = await wait_until_ended(api2.client, second["job_id"])
    assert status["status"] == "finished" and status["dancer_id"] == 1
    result = (await api2.client.get(f"/api/v1/analyze/{second['job_id']}/result")).json()
    assert result["dancer_id"] == 1 and result["people"] == [1, 2]
    # The first analysis stays: each dancer keeps their own.
    kept = await api2.client.get(f"/api/v1/analyze/{first['job_id']}/status")
    assert kept.json()["dancer_id"] == 2

    nobody = await api2.client.post(
        f"/api/v1/analyze/{first['job_id']}/dancer", json={"dancer_id": 7}
    )
    assert nobody.status_code == 422
    detail = nobody.json()["detail"]
    assert detail["reason"] == "no_such_dancer"
    assert detail["message"] == (
        "There is no dancer 7 in this clip. The dancers in the clip have ids 1 and 2."
    )
    jobs = (await api2.client.get("/api/v1/jobs")).json()
    assert jobs["count"] == 2  # nothing queued for the refused id


@pytest.mark.parametrize("value", ["2", True, 1.5, 0, -3, None], ids=repr)
async def test_dancer_id_is_a_strict_whole_number_from_one(
    api: Api, tiny_clip: Path, value: Any
) -> None:
    ticket = await _ticket(api, tiny_clip)
    confirm = await api.client.post(
        "/api/v1/analyze/confirm",
        json={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"], "dancer_id": value},
    )
    if value is None:  # null: chosen by the rule
        assert confirm.status_code == 202, confirm.text
        return
    assert confirm.status_code == 422, confirm.text
    assert confirm.json()["detail"]["reason"] == "invalid_request"
    status = (await api.client.get(f"/api/v1/analyze/{ticket['job_id']}/status")).json()
    assert status["status"] == "awaiting_upload"  # nothing was queued

    dancer = await api.client.post(
        f"/api/v1/analyze/{ticket['job_id']}/dancer", json={"dancer_id": value}
    )
    assert dancer.status_code == 422
    assert dancer.json()["detail"]["reason"] == "invalid_request"


async def test_the_dancer_route_refuses_extra_fields_and_running_jobs(
    api: Api, tiny_clip: Path
) -> None:
    ticket = await _ticket(api, tiny_clip)  # awaiting its confirm: not ended
    extra = await api.client.post(
        f"/api/v1/analyze/{ticket['job_id']}/dancer", json={"dancer_id": 1, "style": "salsa"}
    )
    assert extra.status_code == 422
    early = await api.client.post(
        f"/api/v1/analyze/{ticket['job_id']}/dancer", json={"dancer_id": 1}
    )
    assert early.status_code == 409
    assert early.json()["detail"]["reason"] == "invalid_state"


async def test_the_legacy_upload_takes_dancer_id_as_a_form_field(
    api2: Api, tiny_clip: Path
) -> None:
    clip = tiny_clip.read_bytes()
    refused = await api2.client.post(
        "/api/v1/analyze",
        files={"file": ("a.mp4", clip, "video/mp4")},
        data={"dancer_id": "one"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["reason"] == "invalid_request"
    assert "dancer_id must be a whole number" in refused.json()["detail"]["message"]
    assert (await api2.client.get("/api/v1/jobs")).json()["count"] == 0  # no job left

    # An id nobody has: the job runs and fails saying who is there.
    accepted = await api2.client.post(
        "/api/v1/analyze",
        files={"file": ("a.mp4", clip, "video/mp4")},
        data={"dancer_id": "7"},
    )
    assert accepted.status_code == 202, accepted.text
    status = await wait_until_ended(api2.client, accepted.json()["job_id"])
    assert status["status"] == "failed" and status["dancer_id"] == 7
    assert status["error"]["reason"] == "no_such_dancer"
    assert "ids 1 and 2" in status["error"]["message"]
