"""The coach's marks over HTTP (issue 12), on the real server on loopback:
GET and PUT /api/v1/analyze/{job_id}/marks, and each refusal with its status and reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.server import ApiServer
from dance_analysis.access import AccessService
from dance_analysis.jobs.service import JobService
from tests.api.conftest import finished_sync
from tests.settings import make_settings

ANGLE = {"kind": "angle", "t_ms": 400, "points": [[0.5, 0.2], [0.5, 0.5], [0.8, 0.5]]}
NOTE = {"id": "n1", "kind": "note", "t_ms": 200, "points": [[0.3, 0.4]], "text": "Chin up"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client of the app on a real socket, with a consumer running the mock analysis."""
    settings = make_settings(tmp_path / "data")
    service = JobService(settings)
    access = AccessService(settings)
    consumer = service.start_consumer(workers=1)
    server = ApiServer(create_app(settings, service, access), "127.0.0.1", 0)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {access.create_token('tests')}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            yield http
    finally:
        server.stop()
        consumer.stop(5)
        service.close()


def finished_job(client: httpx.Client, clip: Path) -> str:
    accepted = client.post("/api/v1/analyze", files={"file": ("dance.mp4", clip.read_bytes())})
    assert accepted.status_code == 202, accepted.text
    job_id: str = accepted.json()["job_id"]
    finished_sync(client, job_id)
    return job_id


def refusal(response: httpx.Response) -> tuple[int, str]:
    detail = response.json()["detail"]
    assert detail["message"]
    return response.status_code, detail["reason"]


def test_marks_are_put_and_read_back_over_http(client: httpx.Client, tiny_clip: Path) -> None:
    job_id = finished_job(client, tiny_clip)
    url = f"/api/v1/analyze/{job_id}/marks"
    assert client.get(url).json() == {"job_id": job_id, "marks": []}

    put = client.put(url, json={"marks": [ANGLE, NOTE]})

    assert put.status_code == 200, put.text
    saved = put.json()["marks"]
    assert [mark["kind"] for mark in saved] == ["note", "angle"]  # by time
    assert saved[0] == {**NOTE, "t_ms": 200.0}
    assert saved[1]["id"] and saved[1]["points"] == ANGLE["points"] and saved[1]["text"] == ""
    assert client.get(url).json() == {"job_id": job_id, "marks": saved}
    # marks.json is one of the job's downloads now.
    downloads = client.get(f"/api/v1/analyze/{job_id}/result").json()["downloads"]
    got = client.get(downloads["marks"], headers={"Authorization": ""})
    assert got.status_code == 200 and got.json()["marks"] == saved

    # A bad mark: 422 invalid_marks, and the saved marks stay.
    off = {**ANGLE, "points": [[0.5, 0.2], [0.5, 0.5], [1.8, 0.5]]}
    assert refusal(client.put(url, json={"marks": [NOTE, off]})) == (422, "invalid_marks")
    circle = {**NOTE, "kind": "circle"}
    assert refusal(client.put(url, json={"marks": [circle]})) == (422, "invalid_marks")
    assert refusal(client.put(url, json={"mark": []})) == (422, "invalid_request")
    assert client.get(url).json()["marks"] == saved
    # The whole set is replaced.
    assert client.put(url, json={"marks": []}).json()["marks"] == []

    # A job that has not finished (its clip never arrived): 409; an unknown job: 404.
    ticket = client.post("/api/v1/analyze/upload-url", params={"filename": "later.mp4"}).json()
    waiting = f"/api/v1/analyze/{ticket['job_id']}/marks"
    assert refusal(client.put(waiting, json={"marks": [NOTE]})) == (409, "invalid_state")
    assert refusal(client.get(waiting)) == (409, "invalid_state")
    unknown = f"/api/v1/analyze/{'0' * 32}/marks"
    assert refusal(client.put(unknown, json={"marks": [NOTE]})) == (404, "job_not_found")
    assert refusal(client.get(unknown)) == (404, "job_not_found")
    # Both methods are named where one is not allowed (two routes share the path).
    wrong = client.post(url, json={"marks": []})
    assert refusal(wrong) == (405, "method_not_allowed") and wrong.headers["Allow"] == "GET, PUT"
    # No token, no marks.
    assert client.get(url, headers={"Authorization": ""}).status_code == 401
