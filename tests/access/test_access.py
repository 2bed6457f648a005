"""Device tokens and pairing: hashed, revocable, single use, expiring, rate limited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import dance_analysis.access as access_module
from dance_analysis.access import MAX_FAILURES_PER_CLIENT, AccessService
from dance_analysis.errors import PairingFailed, RateLimited, Reason
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
