"""The original backend's ("the seed's") contract, replayed as its clients use it.

A client written like the seed's (plain requests, no helpers of ours) runs against a
real ``serve`` on loopback: upload-url → PUT → confirm → poll status → result → every
download, the ``/videos/{job_id}/{kind}`` links, the legacy upload with the field
``video``, delete. analysis.json is parsed as the Flutter client parses it.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.routes.videos import VIDEO_ARTIFACTS, VideoFile
from dance_analysis.artifacts import ARTIFACT_NAMES, client_feedback, clock
from dance_analysis.jobs.records import JobRecord
from tests.api.conftest import Api, Server, running_api, upload_flow, wait_until_ended
from tests.settings import make_settings

SEED_DOWNLOADS = {"visualization", "keypoints_2d", "keypoints_3d"}
OUR_DOWNLOADS = {"result", "overlay", "landmarks_csv", "angles_csv", "coco17", "analysis"}


class SeedClient:
    """What a seed-era script does, step by step, with a token in the header."""

    def __init__(self, base: str, token: str) -> None:
        self.api = f"{base}/api/v1"
        self.http = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
        self.bare = httpx.Client(timeout=60)  # presigned links carry their own authority

    def close(self) -> None:
        self.http.close()
        self.bare.close()

    def upload(self, clip: Path) -> dict[str, Any]:
        got = self.http.post(
            f"{self.api}/analyze/upload-url",
            params={"filename": clip.name, "content_type": "video/mp4"},
        )
        assert got.status_code == 200, got.text
        ticket = got.json()
        put = self.bare.put(
            ticket["upload_url"], content=clip.read_bytes(), headers={"Content-Type": "video/mp4"}
        )
        assert put.status_code in (200, 204), put.text
        confirm = self.http.post(
            f"{self.api}/analyze/confirm",
            params={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]},
        )
        assert confirm.status_code == 202, confirm.text
        accepted: dict[str, Any] = confirm.json()
        return accepted

    def upload_legacy(self, clip: Path) -> dict[str, Any]:
        got = self.http.post(
            f"{self.api}/analyze", files={"video": (clip.name, clip.read_bytes(), "video/mp4")}
        )
        assert got.status_code == 202, got.text
        accepted: dict[str, Any] = got.json()
        return accepted

    def poll(self, job_id: str, timeout_s: float = 120) -> list[dict[str, Any]]:
        """Every status seen until the job ends (the guard only stops a hang)."""
        seen = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.http.get(f"{self.api}/analyze/{job_id}/status")
            assert got.status_code == 200, got.text
            seen.append(got.json())
            if seen[-1]["status"] in ("finished", "failed", "canceled"):
                return seen
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} never ended: {seen[-1]}")

    def result(self, job_id: str) -> dict[str, Any]:
        got = self.http.get(f"{self.api}/analyze/{job_id}/result")
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body

    def download(self, url: str) -> bytes:
        got = self.bare.get(url, follow_redirects=True)
        assert got.status_code == 200, (url, got.status_code, got.text[:200])
        return got.content

    def video_file(self, job_id: str, kind: str) -> httpx.Response:
        return self.http.get(f"{self.api}/videos/{job_id}/{kind}")


# -- the Flutter client's parsing ---------------------------------------------------


def _num(value: Any) -> float:
    """Dart's ``(json[k] as num).toDouble()``: a number, never null, a string or a bool."""
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value
    assert math.isfinite(value), value
    return float(value)


def _text(value: Any) -> str:
    assert isinstance(value, str), value
    return value


@dataclass
class FlutterAnalysis:
    width: float
    height: float
    fps: float
    feedback: list[tuple[str, str, str]]  # (timestamp "m:ss", type, feedback)
    poses: list[tuple[float, list[tuple[str, float, float, float]]]]


def parse_like_flutter(raw: bytes) -> FlutterAnalysis:
    doc = json.loads(raw)
    video = doc["video"]
    width, height, fps = _num(video["width"]), _num(video["height"]), _num(video["fps"])
    feedback = [
        (_text(item["timestamp"]), _text(item["type"]), _text(item["feedback"]))
        for item in doc["feedback_items"]
    ]
    for timestamp, kind, _ in feedback:
        assert re.fullmatch(r"\d+:[0-5]\d", timestamp), timestamp
        assert kind in ("positive", "negative"), kind
    poses = [
        (
            _num(pose["timestamp"]),
            [
                (_text(k["name"]), _num(k["x"]), _num(k["y"]), _num(k["confidence"]))
                for k in pose["keypoints"]
            ],
        )
        for pose in doc["pose_data"]
    ]
    # The painter scales x by the view's width over the video's: pixels of the video.
    for _, keypoints in poses:
        for _, x, y, _ in keypoints:
            assert -0.5 * width <= x <= 1.5 * width and -0.5 * height <= y <= 1.5 * height
    return FlutterAnalysis(width, height, fps, feedback, poses)


# -- the replay ---------------------------------------------------------------------


def test_a_seed_client_replays_its_flows_against_a_real_server(
    server: Server, tiny_clip: Path
) -> None:
    client = SeedClient(server.url, server.token)
    try:
        root = httpx.get(f"{server.url}/api/v1/", timeout=30)  # public, as the seed's was
        assert root.status_code == 200 and isinstance(root.json()["message"], str)

        accepted = client.upload(tiny_clip)
        assert accepted["status"] == "queued" and isinstance(accepted["stage"], str)
        job_id = accepted["job_id"]
        statuses = client.poll(job_id)
        assert all(isinstance(status["stage"], str) for status in statuses)
        finished = statuses[-1]
        assert finished["status"] == "finished", finished
        assert finished["result"] == {"num_frames": 10, "status": "complete"}

        result = client.result(job_id)
        downloads = result["downloads"]
        assert set(downloads) >= SEED_DOWNLOADS | OUR_DOWNLOADS, sorted(downloads)
        assert set(result["s3_results"]) == set(downloads)
        for name, key in result["s3_results"].items():
            assert job_id in key, (name, key)
        assert result["s3_results"]["visualization"] == result["s3_results"]["overlay"]
        files = {name: client.download(url) for name, url in downloads.items()}
        assert files["visualization"] == files["overlay"] and files["overlay"][4:8] == b"ftyp"

        coco = json.loads(files["coco17"])
        width, height = coco["width"], coco["height"]
        points_2d = json.loads(files["keypoints_2d"])
        points_3d = json.loads(files["keypoints_3d"])
        assert len(points_2d) == len(points_3d) == result["num_frames"] == 10
        for frame_2d, frame_3d, pose in zip(points_2d, points_3d, coco["pose_data"], strict=True):
            assert len(frame_2d) == len(frame_3d) == 17
            assert all(len(p) == 2 for p in frame_2d) and all(len(p) == 3 for p in frame_3d)
            if not pose["keypoints"]:
                assert frame_2d == [[0, 0]] * 17 and frame_3d == [[0, 0, 0]] * 17
                continue
            for (x, y), (wx, wy, wz), point in zip(
                frame_2d, frame_3d, pose["keypoints"], strict=True
            ):
                assert x == pytest.approx(point["x"] * width, abs=0.011)
                assert y == pytest.approx(point["y"] * height, abs=0.011)
                assert max(abs(wx), abs(wy), abs(wz)) < 3.0  # metres around the hips

        # analysis.json, read exactly as the Flutter client reads it.
        parsed = parse_like_flutter(files["analysis"])
        assert (parsed.width, parsed.height) == (width, height)
        assert parsed.fps == pytest.approx(json.loads(files["result"])["video"]["fps"], abs=1e-3)
        assert len(parsed.poses) == 10
        drawn = [(x, y) for _, keypoints in parsed.poses for _, x, y, _ in keypoints]
        assert drawn and max(x for x, _ in drawn) > 1.0  # pixels, not 0–1
        for (timestamp, keypoints), pose in zip(parsed.poses, coco["pose_data"], strict=True):
            assert timestamp == pytest.approx(pose["timestamp"])
            assert [k[0] for k in keypoints] == [k["name"] for k in pose["keypoints"]]
            for (_, x, y, _), point in zip(keypoints, pose["keypoints"], strict=True):
                assert x == pytest.approx(point["x"] * width, abs=0.011)
                assert y == pytest.approx(point["y"] * height, abs=0.011)
        feedback = json.loads(files["result"])["feedback"]
        assert feedback, "the clip should give feedback to check its client form"
        assert parsed.feedback == [
            (clock(item["time_ms"]), kind, item["message"])
            for item, kind in zip(
                feedback, [c["type"] for c in client_feedback(feedback)], strict=True
            )
        ]

        # The seed's per-file routes: a signed link each, fetched without a token.
        expected = {
            VideoFile.VISUALIZATION: files["overlay"],
            VideoFile.KEYPOINTS2D: files["keypoints_2d"],
            VideoFile.KEYPOINTS3D: files["keypoints_3d"],
            VideoFile.SCORES: files["result"],
            VideoFile.FEEDBACK: files["analysis"],
        }
        for kind, content in expected.items():
            got = client.video_file(job_id, kind.value)
            assert got.status_code == 200, got.text
            link = got.json()
            assert link["url"].startswith(server.url) and "sig=" in link["url"]
            assert client.download(link["url"]) == content, kind

        legacy = client.upload_legacy(tiny_clip)
        assert isinstance(legacy["stage"], str)
        assert legacy["s3_key"].endswith("/tiny.mp4")
        assert client.poll(legacy["job_id"])[-1]["status"] == "finished"
        assert set(client.result(legacy["job_id"])["downloads"]) >= SEED_DOWNLOADS

        deleted = client.http.delete(f"{client.api}/analyze/{job_id}")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["job_id"] == job_id and deleted.json()["status"] == "deleted"
        assert isinstance(deleted.json()["message"], str)
        gone = client.video_file(job_id, "keypoints2d")
        assert gone.status_code == 404 and gone.json()["detail"]["reason"] == "job_not_found"
    finally:
        client.close()


# -- edges, in process ----------------------------------------------------------------


@pytest.mark.anyio
async def test_an_old_job_without_the_new_files_answers_404_with_a_reason(
    api: Api, tiny_clip: Path
) -> None:
    job_id = (await upload_flow(api.client, tiny_clip))["job_id"]
    assert (await wait_until_ended(api.client, job_id))["status"] == "finished"
    old = {"result", "overlay", "landmarks_csv", "angles_csv", "coco17"}  # before issue 10

    def as_before(session: Any) -> None:
        record = session.get(JobRecord, job_id)
        for name, key in record.artifacts.items():
            if name not in old:
                path = api.service.storage.local_path(key)
                assert path is not None
                path.unlink()
        record.artifacts = {k: v for k, v in record.artifacts.items() if k in old}

    api.service.database.write(as_before)
    for kind in (VideoFile.KEYPOINTS2D, VideoFile.KEYPOINTS3D, VideoFile.FEEDBACK):
        got = await api.client.get(f"/api/v1/videos/{job_id}/{kind.value}")
        assert got.status_code == 404, got.text
        detail = got.json()["detail"]
        assert detail["reason"] == "object_missing" and detail["kind"] == kind.value
        assert ARTIFACT_NAMES[VIDEO_ARTIFACTS[kind]] in detail["message"]
        assert "Upload the clip again" in detail["message"]
    for kind in (VideoFile.VISUALIZATION, VideoFile.SCORES):
        assert (await api.client.get(f"/api/v1/videos/{job_id}/{kind.value}")).status_code == 200
    result = (await api.client.get(f"/api/v1/analyze/{job_id}/result")).json()
    assert set(result["downloads"]) == old | {"visualization"}


@pytest.mark.anyio
async def test_videos_before_the_end_and_for_an_unknown_kind(api: Api) -> None:
    ticket = (
        await api.client.post("/api/v1/analyze/upload-url", params={"filename": "w.mp4"})
    ).json()
    waiting = await api.client.get(f"/api/v1/videos/{ticket['job_id']}/scores")
    assert waiting.status_code == 409 and waiting.json()["detail"]["reason"] == "not_finished"
    status = (await api.client.get(f"/api/v1/analyze/{ticket['job_id']}/status")).json()
    assert status["stage"] == "awaiting_upload" and status["result"] is None
    unknown = await api.client.get(f"/api/v1/videos/{ticket['job_id']}/passwd")
    assert unknown.status_code == 422
    anonymous = await api.anonymous.get(f"/api/v1/videos/{ticket['job_id']}/scores")
    assert anonymous.status_code == 401


@pytest.mark.anyio
async def test_moving_the_one_rewrites_the_client_feedback(api: Api, music_clip: Path) -> None:
    job_id = (await upload_flow(api.client, music_clip))["job_id"]
    assert (await wait_until_ended(api.client, job_id, 120))["status"] == "finished"

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        links = (await api.client.get(f"/api/v1/analyze/{job_id}/result")).json()["downloads"]
        result = (await api.anonymous.get(links["result"])).json()
        return result, (await api.anonymous.get(links["analysis"])).json()

    result, before = await both()
    assert before["feedback_items"] == client_feedback(result["feedback"])
    moved = await api.client.post(f"/api/v1/analyze/{job_id}/counts", json={"shift_beats": 1})
    assert moved.status_code == 200, moved.text
    result, after = await both()
    assert after["feedback_items"] == client_feedback(result["feedback"])
    assert after["feedback_items"] != before["feedback_items"]  # the counts in the words moved
    assert after["pose_data"] == before["pose_data"] and after["video"] == before["video"]


@pytest.mark.anyio
async def test_the_seeds_cors_setting_and_the_public_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://coach.example, https://studio.example")
    settings = make_settings(
        tmp_path / "data",
        public_base_url="https://dance.example.org",
        allowed_hosts=["127.0.0.1"],
    )
    assert settings.cors_origins == ["https://coach.example", "https://studio.example"]
    async with running_api(settings, consumer=False) as api:
        for origin in ("https://coach.example", "https://studio.example"):
            got = await api.anonymous.get("/api/v1/", headers={"Origin": origin})
            assert got.headers.get("access-control-allow-origin") == origin
        stranger = await api.anonymous.get("/api/v1/", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers
        # The public URL's host passes the Host check with no second setting.
        public = await api.anonymous.get("/api/v1/", headers={"Host": "dance.example.org"})
        assert public.status_code == 200, public.text
        other = await api.anonymous.get("/api/v1/", headers={"Host": "other.example.org"})
        assert other.status_code == 400 and other.json()["detail"]["reason"] == "invalid_host"


def test_the_seeds_links_with_s3(tmp_path: Path, tiny_clip: Path) -> None:
    """With a bucket, /videos/… and the downloads are presigned links to it."""
    from tests.api.conftest import serving
    from tests.api.test_serve import moto_bucket_env, moto_s3

    with (
        moto_s3() as endpoint,
        serving(
            tmp_path / "data",
            **moto_bucket_env(endpoint),
        ) as server,
    ):
        client = SeedClient(server.url, server.token)
        try:
            job_id = client.upload(tiny_clip)["job_id"]
            assert client.poll(job_id)[-1]["status"] == "finished"
            result = client.result(job_id)
            assert result["s3_results"]["keypoints_2d"] == f"results/{job_id}/keypoints_2d.json"
            for kind, name in VIDEO_ARTIFACTS.items():
                link = client.video_file(job_id, kind.value).json()
                assert link["url"].startswith(endpoint), link
                got = client.download(link["url"])
                assert got == client.download(result["downloads"][name]), kind
        finally:
            client.close()
