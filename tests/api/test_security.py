"""Tokens on every route, pairing, the Host allow-list, CORS and log redaction."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from api.security import PUBLIC_ROUTES, RedactingFilter, redact
from tests.api.conftest import Api, running_api
from tests.settings import make_settings

pytestmark = pytest.mark.anyio

_METHODS = ("get", "post", "put", "delete", "patch")


def _operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in _METHODS
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


async def test_every_route_but_the_public_ones_needs_a_live_token(api: Api) -> None:
    schema = (await api.anonymous.get("/openapi.json")).json()
    operations = _operations(schema)
    assert len(operations) >= 15  # the enumeration really found the API
    assert {op for op in operations if op in PUBLIC_ROUTES} == PUBLIC_ROUTES

    revoked = api.access.create_token("soon revoked")
    device = next(d for d in api.access.list_devices() if d.name == "soon revoked")
    api.access.revoke(device.id)

    for method, path in operations:
        url = _concrete(path)
        for headers in ({}, {"Authorization": f"Bearer {revoked}"}, {"Authorization": "Basic x"}):
            response = await api.anonymous.request(method, url, headers=headers)
            if (method, path) in PUBLIC_ROUTES:
                assert response.status_code != 401, (method, path)
            else:
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert response.json()["detail"]["reason"] in ("unauthorized", "invalid_token")


async def test_public_routes_answer_without_a_token(api: Api) -> None:
    for path in ("/health", "/api/v1/health"):
        health = await api.anonymous.get(path)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert set(health.json()["checks"]) >= {"database", "queue", "storage"}
    assert (await api.anonymous.get("/docs")).status_code == 200
    upload = await api.anonymous.put("/api/v1/uploads/x/y.mp4", content=b"abc")
    assert upload.status_code == 403
    assert upload.json()["detail"]["reason"] == "bad_signature"


async def test_pairing_code_is_single_use(api: Api) -> None:
    created = await api.client.post("/api/v1/pairing-codes")
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert created.json()["expires_in"] <= api.settings.pairing_code_ttl_s

    paired = await api.anonymous.post("/api/v1/pair", json={"code": code, "device_name": "phone"})
    assert paired.status_code == 200, paired.text
    token = paired.json()["token"]
    mine = await api.anonymous.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200

    again = await api.anonymous.post("/api/v1/pair", json={"code": code, "device_name": "thief"})
    assert again.status_code == 403
    assert again.json()["detail"]["reason"] == "pairing_failed"

    devices = (await api.client.get("/api/v1/devices")).json()["data"]
    phone = next(d for d in devices if d["name"] == "phone")
    assert (await api.client.delete(f"/api/v1/devices/{phone['id']}")).status_code == 204
    after = await api.anonymous.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401


async def test_pairing_code_expires(tmp_path: Path) -> None:
    async with running_api(make_settings(tmp_path, pairing_code_ttl_s=1), consumer=False) as api:
        code = api.access.new_pairing_code().code
        time.sleep(1.2)
        late = await api.anonymous.post("/api/v1/pair", json={"code": code, "device_name": "p"})
        assert late.status_code == 403


async def test_guessing_pairing_codes_is_rate_limited(api: Api) -> None:
    api.access.new_pairing_code()
    statuses = []
    for guess in range(30):
        response = await api.anonymous.post(
            "/api/v1/pair", json={"code": f"GUESS{guess:03d}", "device_name": "bot"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["detail"]["reason"] == "rate_limited"
            break
    assert statuses[0] == 403 and statuses[-1] == 429, statuses


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "evil.example", "X-Forwarded-Host": "127.0.0.1"},
        {"Host": "127.0.0.1/evil"},
        {"Host": "user@127.0.0.1"},
        {"Host": "127.0.0.1:80:80"},
        {"Host": "127.0.0.1.evil.example"},
        {"Host": ""},
    ],
)
async def test_foreign_hosts_are_rejected_before_routing(api: Api, headers: dict[str, str]) -> None:
    # /health needs no token, so only the Host check can refuse it.
    response = await api.anonymous.get("/health", headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"]["reason"] == "invalid_host"


async def test_a_request_without_host_is_rejected(api: Api) -> None:
    app = api.client._transport.app  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/health", "headers": [],
             "query_string": b"", "http_version": "1.0", "scheme": "http"}  # fmt: skip
    await app(scope, receive, send)
    assert sent[0]["status"] == 400


async def test_cors_is_granted_only_to_configured_origins(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins=["https://coach.example"])
    async with running_api(settings, consumer=False) as api:
        evil = await api.client.get("/api/v1/jobs", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers
        good = await api.client.get("/api/v1/jobs", headers={"Origin": "https://coach.example"})
        assert good.headers["access-control-allow-origin"] == "https://coach.example"
        preflight = await api.anonymous.options(
            "/api/v1/jobs",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in preflight.headers


async def test_no_cors_by_default(api: Api) -> None:
    response = await api.client.get("/api/v1/jobs", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_auth_disabled_is_loud_and_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="api"):
        async with running_api(make_settings(tmp_path, auth_disabled=True), consumer=False) as api:
            response = await api.anonymous.get("/api/v1/jobs")
            assert response.status_code == 200
    assert any("AUTHENTICATION IS DISABLED" in r.getMessage() for r in caplog.records)


def test_redaction_of_tokens_and_signatures() -> None:
    line = (
        '127.0.0.1:5 - "PUT /api/v1/uploads/j/a.mp4?expires=1&sig=deadbeef HTTP/1.1" 200 '
        "Authorization: Bearer s3cr3t-token GET /x?X-Amz-Credential=AKIA%2F1&"
        "X-Amz-Signature=abc123&token=tok"
    )
    cleaned = redact(line)
    for secret in ("deadbeef", "s3cr3t-token", "AKIA", "abc123", "=tok"):
        assert secret not in cleaned, cleaned
    assert "expires=1" in cleaned and "sig=***" in cleaned

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/api/v1/jobs/j/artifacts/overlay?expires=9&sig=cafe", "1.1", 200),
        None,
    )  # fmt: skip
    assert RedactingFilter().filter(record)
    assert "cafe" not in record.getMessage() and "sig=***" in record.getMessage()


async def test_errors_never_leak_a_traceback(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/analyze/confirm", params={"job_id": "../../etc", "s3_key": "../../etc/passwd"}
    )
    assert 400 <= response.status_code < 500
    assert "Traceback" not in response.text
    assert set(response.json()["detail"]) >= {"reason", "message"}
