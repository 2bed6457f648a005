"""Device management and pairing under attack (issue 7 §2.2, §2.3, §2.8).

Rights come from the kind of token, never from the client's address; guessing
pairing codes is braked per client, atomically, without locking out anyone else.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.server import ApiServer
from dance_analysis.access import MAX_FAILURES_PER_CLIENT, AccessService
from dance_analysis.jobs.service import JobService
from tests.api.conftest import Api, make_settings

MANAGE = (("POST", "/api/v1/pairing-codes"), ("GET", "/api/v1/devices"),
          ("DELETE", "/api/v1/devices/00000000-0000-0000-0000-000000000000"))  # fmt: skip


async def _paired_token(api: Api) -> str:
    code = api.access.new_pairing_code().code
    paired = await api.anonymous.post("/api/v1/pair", json={"code": code, "device_name": "phone"})
    assert paired.status_code == 200, paired.text
    return str(paired.json()["token"])


@pytest.mark.anyio
async def test_a_paired_phone_cannot_manage_devices_even_from_loopback(api: Api) -> None:
    token = await _paired_token(api)
    app = api.client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1",
        headers={"Authorization": f"Bearer {token}"},
    ) as phone:  # fmt: skip
        assert (await phone.get("/api/v1/jobs")).status_code == 200  # the token works
        for method, path in MANAGE:
            response = await phone.request(method, path)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["detail"]["reason"] == "forbidden"
    devices = (await api.client.get("/api/v1/devices")).json()["data"]
    assert {d["name"]: d["kind"] for d in devices} == {"tests": "owner", "phone": "paired"}


@pytest.mark.anyio
async def test_an_owner_token_manages_devices_from_any_address(api: Api) -> None:
    app = api.client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("192.168.1.50", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers=api.auth
    ) as studio:
        created = await studio.post("/api/v1/pairing-codes")
        assert created.status_code == 201, created.text
        listed = await studio.get("/api/v1/devices")
        assert listed.status_code == 200 and listed.json()["count"] == 1


@pytest.mark.anyio
async def test_revoking_an_unknown_device_is_404_and_a_known_one_204_twice(api: Api) -> None:
    missing = await api.client.delete("/api/v1/devices/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404, missing.text
    assert missing.json()["detail"]["reason"] == "device_not_found"
    token = await _paired_token(api)
    phone = next(d for d in api.access.list_devices() if d.name == "phone")
    for _ in range(2):  # revoking again is harmless
        assert (await api.client.delete(f"/api/v1/devices/{phone.id}")).status_code == 204
    gone = await api.anonymous.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[ApiServer, AccessService]]:
    settings = make_settings(tmp_path / "data")
    service = JobService(settings)
    access = AccessService(settings)
    server = ApiServer(create_app(settings, service, access), "127.0.0.1", 0, access_log=False)
    server.start()
    try:
        yield server, access
    finally:
        server.stop()
        service.close()


def test_a_hundred_concurrent_guesses_get_only_the_limit_evaluated(
    live: tuple[ApiServer, AccessService],
) -> None:
    server, access = live
    code = access.new_pairing_code().code
    start = threading.Barrier(100)

    def guess(number: int) -> int:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            start.wait()  # all hundred in flight together
            body = {"code": f"WRONG{number:03d}", "device_name": "bot"}
            response = client.post("/api/v1/pair", json=body)
            if response.status_code == 429:
                assert response.json()["detail"]["reason"] == "rate_limited"
                assert int(response.headers["retry-after"]) > 0
            return response.status_code

    with ThreadPoolExecutor(100) as pool:
        statuses = Counter(pool.map(guess, range(100)))
    # 403 means the code was evaluated (and was wrong); 429 means it never was.
    assert statuses[403] <= MAX_FAILURES_PER_CLIENT, statuses
    assert statuses[403] + statuses[429] == 100, statuses

    # The guesser is braked, but another client still pairs with the real code.
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=other, base_url=server.url, timeout=60) as phone:
        paired = phone.post("/api/v1/pair", json={"code": code, "device_name": "phone"})
    assert paired.status_code == 200, paired.text
