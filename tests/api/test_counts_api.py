"""Moving the "1" through the API (issue 8): POST /api/v1/analyze/{job_id}/counts
rewrites result.json's counts and timing from what it holds; the pose model does not run
again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, upload_flow, wait_until_ended

pytestmark = pytest.mark.anyio


async def _result_json(api: Api, job_id: str) -> dict[str, Any]:
    result = (await api.client.get(f"/api/v1/analyze/{job_id}/result")).json()
    response = await api.anonymous.get(result["downloads"]["result"])
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _count_labels(result: dict[str, Any]) -> set[str]:
    """The feedback's count labels ("count 5 of phrase 2")."""
    counts = (item.get("count") for item in result["feedback"])
    return {count["label"] for count in counts if isinstance(count, dict) and count.get("label")}


async def _finished(api: Api, clip: Path) -> str:
    job_id: str = (await upload_flow(api.client, clip))["job_id"]
    status = await wait_until_ended(api.client, job_id)
    assert status["status"] == "finished", status
    return job_id


async def test_moving_the_one_recounts_without_the_model(api: Api, music_clip: Path) -> None:
    job_id = await _finished(api, music_clip)
    before = await _result_json(api, job_id)
    job_before = api.service.get(job_id)
    beats = before["music"]["beats_ms"]
    first = beats.index(before["music"]["counts"][0]["t_ms"])

    moved = await api.client.post(f"/api/v1/analyze/{job_id}/counts", json={"shift_beats": 1})
    assert moved.status_code == 200, moved.text
    music = moved.json()["music"]
    assert music["first_one_ms"] == beats[first + 1] and music["one_set_by"] == "coach"
    assert music["tempo_bpm"] == before["music"]["tempo_bpm"]

    after = await _result_json(api, job_id)
    assert after["music"]["counts"][0] == {"t_ms": beats[first + 1], "count": 1, "phrase": 0}
    assert after["music"]["one_set_by"] == "coach"
    # Same pose data and accents: nothing was estimated again, no new attempt was made.
    assert after["frames"] == before["frames"]
    assert after["timing"]["accents_ms"] == before["timing"]["accents_ms"]
    job_after = api.service.get(job_id)
    assert (job_after.attempts, job_after.ended_at) == (job_before.attempts, job_before.ended_at)
    # The report and the Kinovea file were written again: they name the new counts.
    labels_after = _count_labels(after)
    gone = _count_labels(before) - labels_after
    assert labels_after and gone
    for name in ("report", "kva"):
        path = api.service.storage.local_path(job_after.artifacts[name])
        assert path is not None
        text = path.read_text(encoding="utf-8")
        assert all(label in text for label in labels_after), name
        assert not any(label in text for label in gone), name
    # The status and result answers say so too.
    status = (await api.client.get(f"/api/v1/analyze/{job_id}/status")).json()
    assert status["status"] == "finished"
    summary = (await api.client.get(f"/api/v1/analyze/{job_id}/result")).json()["music"]
    assert summary["first_one_ms"] == beats[first + 1]

    # A moment: the "1" goes to the beat nearest it.
    target = beats[first + 3]
    at = await api.client.post(f"/api/v1/analyze/{job_id}/counts", json={"one_ms": target - 40})
    assert at.status_code == 200, at.text
    ones = [c["t_ms"] for c in (await _result_json(api, job_id))["music"]["counts"]
            if c["count"] == 1]  # fmt: skip
    assert target in ones
    assert api.service.get(job_id).one_ms == target

    # Analysed again, the clip keeps the coach's "1": the new job counts from it too.
    again = api.service.reanalyse(job_id)
    assert again.one_ms == target
    assert (await wait_until_ended(api.client, again.id))["status"] == "finished"
    redone = await _result_json(api, again.id)
    assert redone["music"]["one_set_by"] == "coach"
    assert target in [c["t_ms"] for c in redone["music"]["counts"] if c["count"] == 1]


async def test_a_clip_without_music_has_no_one_to_move(api: Api, tiny_clip: Path) -> None:
    job_id = await _finished(api, tiny_clip)
    response = await api.client.post(f"/api/v1/analyze/{job_id}/counts", json={"shift_beats": 1})
    assert response.status_code == 409
    assert response.json()["detail"]["reason"] == "no_music"


async def test_bad_moves_are_refused(api: Api) -> None:
    ticket = await api.client.post("/api/v1/analyze/upload-url", params={"filename": "a.mp4"})
    job_id = ticket.json()["job_id"]
    url = f"/api/v1/analyze/{job_id}/counts"
    for body in ({}, {"one_ms": 1000.0, "shift_beats": 1}, {"shift_beats": "1"},
                 {"shift_beats": 1000}, {"one_ms": -5}):  # fmt: skip
        response = await api.client.post(url, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]["reason"] == "invalid_request"
    waiting = await api.client.post(url, json={"shift_beats": 1})
    assert waiting.status_code == 409
    assert waiting.json()["detail"]["reason"] == "invalid_state"
    missing = await api.client.post("/api/v1/analyze/0123456789abcdef/counts", json={"one_ms": 0})
    assert missing.status_code == 404
