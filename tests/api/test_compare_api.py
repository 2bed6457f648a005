"""Comparisons through the HTTP API (issue 9, point 1): POST /compare, and a
``reference_job_id`` given at confirm or with the legacy upload.

The real app through its lifespan with the real job service; the clips are analysed
by the documented mock pose backend (the comparison reuses whatever the analyses
wrote, so the pose does not matter here), the comparison by the real engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dance_analysis.jobs.views import JobView
from dance_analysis.stages import Stage
from tests.api.conftest import Api, upload_flow, wait_until_ended
from tests.media import make_clip

COMPARISON_NAMES = {
    "reference", "overall", "mirrored", "time_offset_ms", "tempo_ratio", "alignment",
    "parts", "segments", "formula_version",
}  # fmt: skip
pytestmark = pytest.mark.anyio

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def dance_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four seconds of the squats clip, small: long enough for the DTW's 2 s overlap."""
    return make_clip(tmp_path_factory.mktemp("media") / "dance.mp4", seconds=4.0)


async def _finished(api: Api, clip: Path, name: str) -> dict[str, Any]:
    accepted = await upload_flow(api.client, clip, filename=name)
    status = await wait_until_ended(api.client, accepted["job_id"])
    assert status["status"] == "finished", status
    return accepted


async def _job(api: Api, job_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _result_json(api: Api, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The /result body, and result.json fetched through its download link (no token)."""
    response = await api.client.get(f"/api/v1/analyze/{job_id}/result")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    got = await api.anonymous.get(body["downloads"]["result"])
    assert got.status_code == 200, got.text
    return body, json.loads(got.content)


async def test_two_finished_jobs_are_compared_as_a_job_of_their_own(
    api: Api, dance_clip: Path
) -> None:
    student = await _finished(api, dance_clip, "student.mp4")
    teacher = await _finished(api, dance_clip, "teacher.mp4")
    events: list[JobView] = []
    api.service.subscribe(events.append)

    response = await api.client.post(
        "/api/v1/compare",
        json={"student_job_id": student["job_id"], "reference_job_id": teacher["job_id"]},
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"job_id", "status", "stage", "s3_key", "message"}
    assert accepted["status"] in ("queued", "started", "finished")
    assert accepted["s3_key"] == student["s3_key"]  # the student's clip, to play
    status = await wait_until_ended(api.client, accepted["job_id"])
    assert status["status"] == "finished", status
    assert status["kind"] == "comparison"
    assert status["student_job_id"] == student["job_id"]
    assert status["reference_job_id"] == teacher["job_id"]

    body, result = await _result_json(api, accepted["job_id"])
    assert body["kind"] == "comparison"
    made = {"result", "ghost", "analysis", "report", "kva"}
    assert made <= set(body["downloads"]) <= made | {"practice"}
    assert set(result["comparison"]) == COMPARISON_NAMES
    assert result["comparison"]["overall"] >= 95  # the same clip against itself
    assert result["comparison"]["reference"]["job_id"] == teacher["job_id"]
    assert any(item["topic"] == "comparison" for item in result["feedback"])
    # The original backend's client reads the comparison's feedback too (analysis.json).
    link = await api.client.get(f"/api/v1/videos/{accepted['job_id']}/feedback")
    assert link.status_code == 200, link.text
    client = json.loads((await api.anonymous.get(link.json()["url"])).content)
    said = {item["feedback"] for item in client["feedback_items"]}
    assert {item["message"] for item in result["feedback"]} == said

    # No pose model: no pose stage for the comparison, the analyses not run again.
    assert Stage.POSE not in {e.stage for e in events if e.id == accepted["job_id"]}
    assert {e.id for e in events} == {accepted["job_id"]}
    for job in (student, teacher):
        assert (await _job(api, job["job_id"]))["attempts"] == 1
    listed = await _job(api, accepted["job_id"])
    assert listed["kind"] == "comparison" and {"result", "ghost"} <= set(listed["artifacts"])

    # ghost.mp4 by its artifact name and by its file name, as a phone's player fetches
    # it: video/mp4, with Range.
    base = f"/api/v1/jobs/{accepted['job_id']}/artifacts"
    whole = await api.client.get(f"{base}/ghost")
    assert whole.status_code == 200, whole.text
    assert whole.headers["content-type"] == "video/mp4" and whole.content[4:8] == b"ftyp"
    part = await api.client.get(f"{base}/ghost.mp4", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206, part.text
    assert part.headers["content-type"] == "video/mp4"
    assert part.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
    assert part.content == whole.content[:100]
    by_link = await api.anonymous.get(body["downloads"]["ghost"], headers={"Range": "bytes=4-7"})
    assert (by_link.status_code, by_link.content) == (206, b"ftyp")


async def test_comparing_refuses_unfinished_unknown_and_loose_requests(
    api: Api, dance_clip: Path
) -> None:
    student = await _finished(api, dance_clip, "student.mp4")
    waiting = await api.client.post("/api/v1/analyze/upload-url", params={"filename": "later.mp4"})
    awaiting_id = waiting.json()["job_id"]

    async def compare(body: Any) -> Any:
        return await api.client.post("/api/v1/compare", json=body)

    unfinished = await compare(
        {"student_job_id": student["job_id"], "reference_job_id": awaiting_id}
    )
    assert unfinished.status_code == 409, unfinished.text
    assert unfinished.json()["detail"]["reason"] == "invalid_state"
    for unknown in (UNKNOWN, "no-such-job"):
        missing = await compare({"student_job_id": unknown, "reference_job_id": student["job_id"]})
        assert missing.status_code == 404, missing.text
        assert missing.json()["detail"]["reason"] == "job_not_found"
    for loose in (
        {"student_job_id": student["job_id"]},
        {"student_job_id": 12, "reference_job_id": student["job_id"]},
        {"student_job_id": student["job_id"], "reference_job_id": student["job_id"], "x": 1},
        [student["job_id"], student["job_id"]],
    ):
        refused = await compare(loose)
        assert refused.status_code == 422, (loose, refused.text)
        assert refused.json()["detail"]["reason"] == "invalid_request"
    assert [job["id"] for job in (await api.client.get("/api/v1/jobs")).json()["data"]] == [
        awaiting_id,
        student["job_id"],
    ]  # nothing was queued by a refused request
    anonymous = await api.anonymous.post(
        "/api/v1/compare",
        json={"student_job_id": student["job_id"], "reference_job_id": student["job_id"]},
    )
    assert anonymous.status_code == 401


async def test_a_reference_at_confirm_queues_the_comparison(api: Api, dance_clip: Path) -> None:
    teacher = await _finished(api, dance_clip, "teacher.mp4")
    ticket = (
        await api.client.post("/api/v1/analyze/upload-url", params={"filename": "student.mp4"})
    ).json()
    put = await api.client.put(
        ticket["upload_url"],
        content=dance_clip.read_bytes(),
        headers={"Content-Type": "video/mp4", "Authorization": ""},
    )
    assert put.status_code in (200, 204), put.text
    confirm_body = {"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]}
    # An unknown teacher is refused before anything is queued; the upload still waits.
    unknown = await api.client.post(
        "/api/v1/analyze/confirm", json={**confirm_body, "reference_job_id": UNKNOWN}
    )
    assert unknown.status_code == 404, unknown.text
    assert (await _job(api, ticket["job_id"]))["status"] == "awaiting_upload"

    confirmed = await api.client.post(
        "/api/v1/analyze/confirm", json={**confirm_body, "reference_job_id": teacher["job_id"]}
    )
    assert confirmed.status_code == 202, confirmed.text
    status = await wait_until_ended(api.client, ticket["job_id"])
    assert status["status"] == "finished" and status["kind"] == "analysis"
    assert status["reference_job_id"] == teacher["job_id"]
    comparison_id = status["comparison_job_id"]
    assert comparison_id is not None
    body = (await api.client.get(f"/api/v1/analyze/{ticket['job_id']}/result")).json()
    assert body["comparison_job_id"] == comparison_id and "overlay" in body["downloads"]

    compared = await wait_until_ended(api.client, comparison_id)
    assert compared["status"] == "finished", compared
    assert compared["student_job_id"] == ticket["job_id"]
    _, result = await _result_json(api, comparison_id)
    assert result["comparison"]["reference"]["job_id"] == teacher["job_id"]


async def test_a_reference_with_the_legacy_upload_queues_the_comparison(
    api: Api, dance_clip: Path
) -> None:
    teacher = await _finished(api, dance_clip, "teacher.mp4")
    response = await api.client.post(
        "/api/v1/analyze",
        data={"reference_job_id": teacher["job_id"]},
        files={"file": ("student.mp4", dance_clip.read_bytes(), "video/mp4")},
    )
    assert response.status_code == 202, response.text
    status = await wait_until_ended(api.client, response.json()["job_id"])
    assert status["status"] == "finished" and status["comparison_job_id"]
    compared = await wait_until_ended(api.client, status["comparison_job_id"])
    assert compared["status"] == "finished", compared

    by_query = await api.client.post(
        "/api/v1/analyze",
        params={"reference_job_id": UNKNOWN},
        files={"file": ("other.mp4", dance_clip.read_bytes(), "video/mp4")},
    )
    assert by_query.status_code == 404, by_query.text
    assert by_query.json()["detail"]["reason"] == "job_not_found"
    assert api.service.list(limit=10)[0].filename != "other.mp4"  # the refused job is gone
