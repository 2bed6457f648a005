"""Device tokens and pairing: hashed, revocable, single use, expiring, rate limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy

import dance_analysis.access as access_module
from dance_analysis.access import MAX_FAILURES_PER_CLIENT, AccessService
from dance_analysis.errors import DeviceNotFound, PairingFailed, RateLimited, Reason
from tests.settings import make_settings


@pytest.fixture
def access(tmp_path: Path) -> AccessService:
    return AccessService(make_settings(tmp_path))


def test_tokens_verify_until_revoked_and_are_stored_hashed(
    access: AccessService, tmp_path: Path
) -> None:
    token = access.create_token("studio script")
    device = access.verify(token)
    assert device is not None and device.name == "studio script" and not device.revoked
    assert access.verify(token + "x") is None
    assert access.verify("") is None
    assert token.encode() not in (tmp_path / "jobs.db").read_bytes()

    access.revoke(device.id)
    assert access.verify(token) is None
    assert [d.revoked for d in access.list_devices()] == [True]


def test_pairing_code_is_single_use(access: AccessService) -> None:
    code = access.new_pairing_code()
    assert len(code.code) == 8
    token = access.pair(code.code.lower()[:4] + "-" + code.code[4:], "Ana's phone")
    device = access.verify(token)
    assert device is not None and device.name == "Ana's phone"
    with pytest.raises(PairingFailed) as error:
        access.pair(code.code, "thief")
    assert error.value.http_status == 403 and error.value.reason is Reason.PAIRING_FAILED


def test_pairing_code_expires(access: AccessService, monkeypatch: pytest.MonkeyPatch) -> None:
    code = access.new_pairing_code()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=code.ttl_s + 1)
    monkeypatch.setattr(access_module, "utcnow", lambda: later)
    with pytest.raises(PairingFailed):
        access.pair(code.code, "late phone")


def test_wrong_guesses_are_rate_limited_per_client(access: AccessService) -> None:
    code = access.new_pairing_code()
    for _ in range(MAX_FAILURES_PER_CLIENT):
        with pytest.raises(PairingFailed):
            access.pair("AAAAAAAA", "guesser", client_key="10.0.0.9")
    # Now even the right code is refused for that client...
    with pytest.raises(RateLimited) as error:
        access.pair(code.code, "guesser", client_key="10.0.0.9")
    assert error.value.http_status == 429 and error.value.retry_after_s > 0
    # ...but not for another one.
    assert access.verify(access.pair(code.code, "phone", client_key="10.0.0.7")) is not None


def test_token_kinds_decide_who_manages_devices(access: AccessService) -> None:
    owner = access.verify(access.create_token("studio script"))
    phone = access.verify(access.pair(access.new_pairing_code().code, "phone"))
    assert owner is not None and owner.kind == "owner" and owner.manages_devices
    assert phone is not None and phone.kind == "paired" and not phone.manages_devices


def test_revoking_an_unknown_device_says_so(access: AccessService) -> None:
    with pytest.raises(DeviceNotFound) as error:
        access.revoke("00000000-0000-0000-0000-000000000000")
    assert error.value.http_status == 404 and error.value.reason is Reason.DEVICE_NOT_FOUND


def test_a_devices_table_from_before_token_kinds_keeps_working(tmp_path: Path) -> None:
    # The table as it was before the kind column: its tokens still verify, as paired.
    token = "an-old-token"
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/jobs.db")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "CREATE TABLE devices (id VARCHAR(36) PRIMARY KEY, name VARCHAR(100), "
            "token_sha256 VARCHAR(64) UNIQUE, created_at DATETIME, last_used_at DATETIME, "
            "revoked_at DATETIME)"
        ))  # fmt: skip
        connection.execute(
            sqlalchemy.text("INSERT INTO devices VALUES ('d1', 'old', :sha, :now, NULL, NULL)"),
            {"sha": hashlib.sha256(token.encode()).hexdigest(), "now": "2026-01-01 00:00:00"},
        )
    engine.dispose()
    access = AccessService(make_settings(tmp_path))
    device = access.verify(token)
    assert device is not None and device.name == "old"
    assert device.kind == "paired" and not device.manages_devices
    assert access.verify(access.create_token("new script")) is not None  # new rows work too
    AccessService(make_settings(tmp_path))  # and a second start finds the column in place


def test_concurrent_wrong_guesses_are_counted_before_they_are_evaluated(
    access: AccessService,
) -> None:
    access.new_pairing_code()
    barrier = threading.Barrier(40)

    def guess(number: int) -> str:
        barrier.wait()
        try:
            access.pair(f"WRONG{number:03d}", "bot", client_key="10.0.0.9")
        except PairingFailed:
            return "evaluated"
        except RateLimited:
            return "braked"
        return "paired"

    with ThreadPoolExecutor(40) as pool:
        outcomes = Counter(pool.map(guess, range(40)))
    limit = MAX_FAILURES_PER_CLIENT
    assert outcomes == {"evaluated": limit, "braked": 40 - limit}


def test_ipv6_clients_are_braked_by_their_64(access: AccessService) -> None:
    for host in range(MAX_FAILURES_PER_CLIENT):
        with pytest.raises(PairingFailed):
            access.pair("AAAAAAAA", "guesser", client_key=f"2001:db8:1:2::{host + 1:x}")
    with pytest.raises(RateLimited):
        access.pair("AAAAAAAA", "guesser", client_key="2001:db8:1:2:ffff::1")
    with pytest.raises(PairingFailed):  # another network is not braked
        access.pair("AAAAAAAA", "guesser", client_key="2001:db8:1:3::1")
