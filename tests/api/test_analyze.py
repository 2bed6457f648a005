"""The original backend's client flow and its routes, through the app's lifespan."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.api.conftest import Api, fetch_result, files_under, upload_flow, wait_until_ended

pytestmark = pytest.mark.anyio


async def test_the_documented_direct_upload_flow(api: Api, tiny_clip: Path) -> None:
    accepted = await upload_flow(api.client, tiny_clip)
    status = await wait_until_ended(api.client, accepted["job_id"])
    assert status["status"] == "finished", status
    assert status["progress"] == 100 and status["error"] is None
    assert status["started_at"] and status["ended_at"]

    files = await fetch_result(api.client, accepted["job_id"], downloader=api.anonymous)
    result = json.loads(files["result"])
    assert result["video"]["frame_count"] == 10
    coco = json.loads(files["coco17"])
    assert len(coco["pose_data"]) == 10
    assert files["overlay"][4:8] == b"ftyp"


async def test_upload_url_accepts_a_json_body_and_checks_the_declared_hash(
    api: Api, tiny_clip: Path
) -> None:
    data = tiny_clip.read_bytes()
    good = {"filename": "a.mp4", "content_type": "video/mp4", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    for declared, expected in (
        (good, 202),
        ({**good, "sha256": "0" * 64}, 422),
        ({**good, "size": len(data) + 1}, 422),
    ):
        ticket = (await api.client.post("/api/v1/analyze/upload-url", json=declared)).json()
        put = await api.anonymous.put(
            ticket["upload_url"], content=data, headers={"Content-Type": "video/mp4"}
        )
        assert put.status_code == 200, put.text
        confirm = await api.client.post(
            "/api/v1/analyze/confirm",
            params={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]},
        )
        assert confirm.status_code == expected, confirm.text
        if expected == 422:
            assert confirm.json()["detail"]["reason"] in ("checksum_mismatch", "object_mismatch")
            status = await api.client.get(f"/api/v1/analyze/{ticket['job_id']}/status")
            assert status.status_code == 404  # rejected: no job left behind


async def test_confirm_is_idempotent_and_404_when_nothing_was_uploaded(
    api: Api, tiny_clip: Path
) -> None:
    ticket = (
        await api.client.post("/api/v1/analyze/upload-url", params={"filename": "x.mp4"})
    ).json()
    params = {"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]}
    missing = await api.client.post("/api/v1/analyze/confirm", params=params)
    assert missing.status_code == 404
    assert missing.json()["detail"]["reason"] == "object_missing"

    await api.anonymous.put(
        ticket["upload_url"], content=tiny_clip.read_bytes(), headers={"Content-Type": "video/mp4"}
    )
    first = await api.client.post("/api/v1/analyze/confirm", params=params)
    again = await api.client.post("/api/v1/analyze/confirm", json=params)
    assert first.status_code == again.status_code == 202
    assert first.json()["job_id"] == again.json()["job_id"] == ticket["job_id"]
    await wait_until_ended(api.client, ticket["job_id"])
    jobs = (await api.client.get("/api/v1/jobs")).json()
    assert [job["id"] for job in jobs["data"]] == [ticket["job_id"]]
    assert jobs["data"][0]["attempts"] == 1


async def test_legacy_multipart_upload(api: Api, tiny_clip: Path) -> None:
    response = await api.client.post(
        "/api/v1/analyze", files={"file": ("my clip.mp4", tiny_clip.read_bytes(), "video/mp4")}
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    assert accepted["s3_key"] == f"uploads/{accepted['job_id']}/my_clip.mp4"
    assert (await wait_until_ended(api.client, accepted["job_id"]))["status"] == "finished"
    await fetch_result(api.client, accepted["job_id"])


async def test_not_a_video_is_refused_at_once(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/analyze", files={"file": ("noise.mp4", b"\x00junk" * 4000, "video/mp4")}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["reason"] == "not_a_video"
    assert (await api.client.get("/api/v1/jobs")).json()["count"] == 0


async def test_result_before_the_end_is_409_and_a_failed_job_says_why(
    api: Api, tiny_clip: Path
) -> None:
    half = tiny_clip.read_bytes()[: tiny_clip.stat().st_size // 2]  # index at the end: lost
    response = await api.client.post(
        "/api/v1/analyze", files={"file": ("half.mp4", half, "video/mp4")}
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    early = await api.client.get(f"/api/v1/analyze/{job_id}/result")
    if early.status_code == 409:  # the mock run may already be over
        assert early.json()["detail"]["status"] in ("queued", "started")
    status = await wait_until_ended(api.client, job_id)
    assert status["status"] == "failed"
    assert status["error"]["reason"] == "corrupt_container" and status["error"]["message"]
    result = await api.client.get(f"/api/v1/analyze/{job_id}/result")
    assert result.status_code == 422
    assert result.json()["detail"]["reason"] == "corrupt_container"


async def test_delete_removes_the_job_and_its_files(api: Api, tiny_clip: Path) -> None:
    accepted = await upload_flow(api.client, tiny_clip)
    job_id = accepted["job_id"]
    await wait_until_ended(api.client, job_id)
    root = Path(api.settings.data_dir)
    assert files_under(root, lambda p: job_id in p.parts)
    deleted = await api.client.delete(f"/api/v1/analyze/{job_id}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert not files_under(root, lambda p: job_id in p.parts)
    gone = await api.client.get(f"/api/v1/analyze/{job_id}/status")
    assert gone.status_code == 404
    assert gone.json()["detail"]["reason"] == "job_not_found"


async def test_artifacts_stream_with_range(api: Api, tiny_clip: Path) -> None:
    accepted = await upload_flow(api.client, tiny_clip)
    job_id = accepted["job_id"]
    await wait_until_ended(api.client, job_id)
    url = f"/api/v1/jobs/{job_id}/artifacts/overlay"
    whole = await api.client.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-disposition"].startswith('attachment; filename="')
    part = await api.client.get(url, headers={"Range": "bytes=4-11"})
    assert part.status_code == 206
    assert part.content == whole.content[4:12]
    assert part.headers["content-range"] == f"bytes 4-11/{len(whole.content)}"
    tail = await api.client.get(url, headers={"Range": "bytes=-4"})
    assert tail.status_code == 206 and tail.content == whole.content[-4:]
    beyond = await api.client.get(url, headers={"Range": f"bytes={len(whole.content) + 10}-"})
    assert beyond.status_code == 416
    unknown = await api.client.get(f"/api/v1/jobs/{job_id}/artifacts/passwd")
    assert unknown.status_code == 404


async def test_job_list_and_cancel(api: Api) -> None:
    ticket = (
        await api.client.post("/api/v1/analyze/upload-url", params={"filename": "c.mp4"})
    ).json()
    listed = (await api.client.get("/api/v1/jobs", params={"status": "awaiting_upload"})).json()
    assert [job["id"] for job in listed["data"]] == [ticket["job_id"]]
    bad = await api.client.get("/api/v1/jobs", params={"status": "nonsense"})
    assert bad.status_code == 422 and bad.json()["detail"]["reason"] == "invalid_request"
    canceled = await api.client.post(f"/api/v1/jobs/{ticket['job_id']}/cancel")
    assert canceled.status_code in (200, 409), canceled.text
