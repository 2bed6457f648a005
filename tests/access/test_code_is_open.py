"""AccessService.code_is_open: what the desktop polls to replace a used pairing code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import dance_analysis.access as access_module
from dance_analysis.access import AccessService
from tests.jobs.services import make_settings


def test_a_code_is_open_until_used(tmp_path: Path) -> None:
    access = AccessService(make_settings(tmp_path))
    code = access.new_pairing_code().code
    assert access.code_is_open(code)
    assert access.code_is_open(code.lower()[:4] + "-" + code[4:])  # as a person types it

    access.pair(code, "Ana's phone")

    assert not access.code_is_open(code)
    assert not access.code_is_open("ABCDEFGH")  # never issued


def test_an_expired_code_is_not_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    access = AccessService(make_settings(tmp_path))
    code = access.new_pairing_code()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=code.ttl_s + 1)
    monkeypatch.setattr(access_module, "utcnow", lambda: later)  # the clock, moved on
    assert not access.code_is_open(code.code)
