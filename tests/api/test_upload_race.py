"""A signed PUT that began before confirm and ends after it (issue 7 §2.1).

The PUT's body is an async generator that stops after its first chunk until the
test lets it go, so "confirm happens mid-PUT" is an order of events, not a timing.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.api.conftest import Api, files_under, make_settings, running_api

pytestmark = pytest.mark.anyio


async def test_a_put_ending_after_confirm_cannot_replace_the_confirmed_file(
    tmp_path: Path, tiny_clip: Path
) -> None:
    async with running_api(make_settings(tmp_path / "data"), consumer=False) as api:
        await _race(api, tiny_clip)


async def _race(api: Api, clip: Path) -> None:
    good = clip.read_bytes()
    ticket = (
        await api.client.post("/api/v1/analyze/upload-url", params={"filename": "a.mp4"})
    ).json()
    headers = {"Content-Type": "video/mp4", "Authorization": ""}
    first = await api.anonymous.put(ticket["upload_url"], content=good, headers=headers)
    assert first.status_code == 200, first.text

    streaming = anyio.Event()
    go_on = anyio.Event()

    async def hostile_body() -> AsyncIterator[bytes]:
        yield good[:64] + b"X" * 4000  # starts like a video, ends as other bytes
        streaming.set()  # the server has taken the first chunk: the PUT is under way
        await go_on.wait()
        yield b"Y" * 4000

    answer: list[httpx.Response] = []

    async def put_hostile() -> None:
        answer.append(
            await api.anonymous.put(ticket["upload_url"], content=hostile_body(), headers=headers)
        )

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(put_hostile)
        await streaming.wait()
        params = {"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]}
        confirm = await api.client.post("/api/v1/analyze/confirm", params=params)
        assert confirm.status_code == 202, confirm.text
        go_on.set()

    late = answer[0]
    assert late.status_code == 409, late.text
    assert late.json()["detail"]["reason"] == "invalid_state"
    assert "already confirmed" in late.json()["detail"]["message"]

    root = Path(api.settings.data_dir)
    stored = root / "storage" / ticket["s3_key"]
    assert stored.read_bytes() == good  # the confirmed bytes, untouched
    assert not files_under(root, lambda p: ".partial" in p.name)
    job = (await api.client.get(f"/api/v1/jobs/{ticket['job_id']}")).json()
    assert job["size_bytes"] == len(good)
    assert job["sha256"] == hashlib.sha256(good).hexdigest()
