"""Uploads keep the event loop and the shared threads free (issue 7 §2.4).

Figures (p50/p99 under twenty 50 MB uploads) live in ``benchmarks/upload_load.py``;
these tests check the properties behind them, not times.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest

from api.streaming import BATCH_BYTES, BodyReader
from tests.api.conftest import Api

pytestmark = pytest.mark.anyio

STALLED = 5


async def test_health_and_status_answer_while_uploads_stall_mid_stream(
    api: Api, tiny_clip: Path
) -> None:
    data = tiny_clip.read_bytes()
    tickets = []
    for index in range(STALLED):
        params = {"filename": f"{index}.mp4"}
        tickets.append((await api.client.post("/api/v1/analyze/upload-url", params=params)).json())
    streaming = [anyio.Event() for _ in range(STALLED)]
    go_on = anyio.Event()
    answers: list[httpx.Response] = []

    async def body(index: int) -> AsyncIterator[bytes]:
        yield data[:1000]
        streaming[index].set()  # taken by the server; the rest waits
        await go_on.wait()
        yield data[1000:]

    async def put(index: int) -> None:
        answers.append(
            await api.anonymous.put(
                tickets[index]["upload_url"], content=body(index),
                headers={"Content-Type": "video/mp4"},
            )
        )  # fmt: skip

    async with anyio.create_task_group() as tasks:
        for index in range(STALLED):
            tasks.start_soon(put, index)
        for event in streaming:
            await event.wait()
        # Every upload is mid-stream, and none holds a thread of the shared pool that
        # sync routes need: with a hundred of them, /health would otherwise wait.
        shared = anyio.to_thread.current_default_thread_limiter()
        assert shared.borrowed_tokens == 0, shared.statistics()
        health = await api.anonymous.get("/health")
        assert health.status_code == 200, health.text
        status = await api.client.get(f"/api/v1/analyze/{tickets[0]['job_id']}/status")
        assert status.status_code == 200 and status.json()["status"] == "awaiting_upload"
        go_on.set()
    assert [answer.status_code for answer in answers] == [200] * STALLED


async def test_the_upload_thread_gets_the_body_in_batches_not_per_message() -> None:
    message = 64 * 1024
    total = 3 * BATCH_BYTES + 5  # 48 full messages and one of 5 bytes
    sizes = [message] * (total // message) + [total % message]
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"x" * size, "more_body": i < len(sizes) - 1}
        for i, size in enumerate(sizes)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    reader = BodyReader(receive)
    hops = 0
    real_next_batch = reader.next_batch

    async def counted() -> list[bytes] | None:
        nonlocal hops
        hops += 1
        return await real_next_batch()

    reader.next_batch = counted  # type: ignore[method-assign]  # counts, changes nothing
    received = await anyio.to_thread.run_sync(lambda: sum(len(b) for b in reader.chunks()))
    # Each batch is one hop from the thread to the loop: 3 full ones, a short one and
    # the one that says "done"; per message it would be 50.
    assert hops == 5
    assert received == total == reader.received


def test_the_server_keeps_idle_connections_longer_than_clients_reuse_them(
    tmp_path: Path,
) -> None:
    # If both sides give up on an idle connection after the same time, the server's
    # close can cross the client's next request on the wire: a request with no answer.
    from api.app import create_app
    from api.server import ApiServer
    from dance_analysis.access import AccessService
    from dance_analysis.jobs.service import JobService
    from tests.api.conftest import make_settings

    settings = make_settings(tmp_path)
    service = JobService(settings)
    try:
        server = ApiServer(create_app(settings, service, AccessService(settings)))
        client_expiry = httpx.Limits().keepalive_expiry
        assert client_expiry is not None
        assert server.config.timeout_keep_alive > client_expiry
    finally:
        service.close()
