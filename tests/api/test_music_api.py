"""The dance style through the API (issue 8): checked, kept on the job, used by the
analysis; the tempo in the status answer and the music summary in the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from dance_analysis.jobs.service import JobService
from tests.api.conftest import Api, upload_flow, wait_until_ended
from tests.settings import make_settings

pytestmark = pytest.mark.anyio


def _unknown_style(response: object) -> None:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    assert detail["reason"] == "unknown_style"
    assert "polka" in detail["message"] and "cha-cha" in detail["message"]


async def _jobs(api: Api) -> list[str]:
    return [job["id"] for job in (await api.client.get("/api/v1/jobs")).json()["data"]]


async def test_an_unknown_style_is_refused_everywhere_before_a_job_exists(
    api: Api, tiny_clip: Path
) -> None:
    url = "/api/v1/analyze/upload-url"
    _unknown_style(await api.client.post(url, params={"filename": "a.mp4", "style": "polka"}))
    _unknown_style(await api.client.post(url, json={"filename": "a.mp4", "style": "polka"}))
    legacy = await api.client.post(
        "/api/v1/analyze",
        data={"style": "polka"},
        files={"file": ("a.mp4", tiny_clip.read_bytes(), "video/mp4")},
    )
    _unknown_style(legacy)
    _unknown_style(
        await api.client.post(
            "/api/v1/analyze",
            params={"style": "polka"},
            files={"file": ("a.mp4", tiny_clip.read_bytes(), "video/mp4")},
        )
    )
    assert await _jobs(api) == []

    # At confirm: the upload stays awaiting, so a corrected confirm can still queue it.
    ticket = (await api.client.post(url, params={"filename": "b.mp4"})).json()
    await api.anonymous.put(
        ticket["upload_url"], content=tiny_clip.read_bytes(), headers={"Content-Type": "video/mp4"}
    )
    params = {"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]}
    _unknown_style(
        await api.client.post("/api/v1/analyze/confirm", json={**params, "style": "polka"})
    )
    status = (await api.client.get(f"/api/v1/analyze/{ticket['job_id']}/status")).json()
    assert status["status"] == "awaiting_upload"


async def test_the_style_at_confirm_is_kept_and_used(api: Api, music_clip: Path) -> None:
    url = "/api/v1/analyze/upload-url"
    ticket = (await api.client.post(url, params={"filename": "g.mp4", "style": "salsa"})).json()
    assert api.service.get(ticket["job_id"]).style == "salsa"
    await api.anonymous.put(
        ticket["upload_url"], content=music_clip.read_bytes(), headers={"Content-Type": "video/mp4"}
    )
    params = {"job_id": ticket["job_id"], "s3_key": ticket["s3_key"], "style": "Cha-Cha"}
    confirm = await api.client.post("/api/v1/analyze/confirm", json=params)
    assert confirm.status_code == 202, confirm.text
    assert api.service.get(ticket["job_id"]).style == "cha-cha"  # confirm's wins, canonical

    status = await wait_until_ended(api.client, ticket["job_id"])
    assert status["status"] == "finished", status
    assert status["style"] == "cha-cha"
    assert abs(status["tempo_bpm"] - 124) <= 0.01 * 124
    result = (await api.client.get(f"/api/v1/analyze/{ticket['job_id']}/result")).json()
    music = result["music"]
    assert music["present"] is True and music["style"] == "cha-cha"
    assert music["beats_per_bar"] == 4 and music["counts"] >= 1
    assert abs(music["tempo_bpm"] - 124) <= 0.01 * 124
    assert result["num_frames"] and "result" in result["downloads"]  # old fields kept


async def test_without_a_style_the_job_uses_auto_and_a_silent_clip_has_no_tempo(
    api: Api, tiny_clip: Path
) -> None:
    accepted = await upload_flow(api.client, tiny_clip)
    status = await wait_until_ended(api.client, accepted["job_id"])
    assert status["status"] == "finished" and status["tempo_bpm"] is None
    assert status["style"] is None
    result = (await api.client.get(f"/api/v1/analyze/{accepted['job_id']}/result")).json()
    assert result["music"] == {
        "present": False, "reason": "no_audio", "tempo_bpm": None, "beats_per_bar": 4,
        "style": "auto", "counts": 0, "first_one_ms": None, "one_set_by": "tracker",
    }  # fmt: skip


async def test_the_legacy_upload_takes_a_style_field(api: Api, music_clip: Path) -> None:
    response = await api.client.post(
        "/api/v1/analyze",
        data={"style": "hip-hop"},
        files={"file": ("g.mp4", music_clip.read_bytes(), "video/mp4")},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert api.service.get(job_id).style == "hip-hop"
    await wait_until_ended(api.client, job_id)
    result = (await api.client.get(f"/api/v1/analyze/{job_id}/result")).json()
    assert result["music"]["style"] == "hip-hop"
    # Analysed again (the desktop's "analyse again"): the style goes with the clip.
    again = api.service.reanalyse(job_id)
    assert again.id != job_id and again.style == "hip-hop"


def test_a_jobs_table_from_before_music_gets_its_columns(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    service = JobService(settings)
    with service.database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE jobs DROP COLUMN style"))
        connection.execute(text("ALTER TABLE jobs DROP COLUMN music"))
        connection.execute(text("ALTER TABLE jobs DROP COLUMN one_ms"))
    service.close()
    again = JobService(settings)
    try:
        columns = {c["name"] for c in inspect(again.database.engine).get_columns("jobs")}
        assert {"style", "music", "one_ms"} <= columns
        ticket = again.create_upload("old.mp4", "video/mp4", style="waltz")
        assert again.get(ticket.job_id).style == "waltz"
    finally:
        again.close()


async def test_a_style_field_after_the_file_counts_too(api: Api, tiny_clip: Path) -> None:
    # httpx puts data fields first; build the form by hand with the file first.
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode() + tiny_clip.read_bytes()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    def with_style(value: str) -> bytes:
        return (
            body
            + (
                f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="style"\r\n\r\n'
                f"{value}\r\n--{boundary}--\r\n"
            ).encode()
        )

    refused = await api.client.post("/api/v1/analyze", content=with_style("polka"), headers=headers)
    _unknown_style(refused)
    assert await _jobs(api) == []  # the stored bytes went with the refused job
    taken = await api.client.post("/api/v1/analyze", content=with_style("rumba"), headers=headers)
    assert taken.status_code == 202, taken.text
    assert api.service.get(taken.json()["job_id"]).style == "rumba"
