"""Local upload links: HMAC-signed, bound to one job, name and type, and expiring."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dance_analysis.errors import BadSignature, Reason, UploadExpired
from dance_analysis.storage.signing import (
    load_secret,
    sign_upload,
    signed_upload_path,
    verify_upload,
)
from tests.jobs.services import make_settings

SECRET = b"k" * 48
JOB = "0b7f6f3e-9a53-4c6e-a2a8-6f1b8f3f2d11"


def test_a_signed_link_verifies_until_it_expires() -> None:
    expires = int(time.time()) + 60
    path = signed_upload_path(SECRET, JOB, "clip.mp4", "video/mp4", expires)
    parts = urlsplit(path)
    assert parts.path == f"/api/v1/uploads/{JOB}/clip.mp4"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    verify_upload(SECRET, JOB, "clip.mp4", "video/mp4", query["expires"], query["sig"])
    with pytest.raises(UploadExpired) as error:
        verify_upload(
            SECRET, JOB, "clip.mp4", "video/mp4", query["expires"], query["sig"], now=expires + 1
        )
    assert error.value.reason is Reason.UPLOAD_EXPIRED and error.value.http_status == 403


@pytest.mark.parametrize(
    "change",
    [
        {"job_id": "0b7f6f3e-9a53-4c6e-a2a8-6f1b8f3f2d12"},
        {"filename": "other.mp4"},
        {"content_type": "text/html"},
        {"expires": "9999999999"},
        {"sig": "0" * 64},
        {"sig": "ünïcode"},
        {"expires": "soon"},
    ],
)
def test_any_change_breaks_the_signature(change: dict[str, str]) -> None:
    expires = int(time.time()) + 60
    args = {
        "job_id": JOB,
        "filename": "clip.mp4",
        "content_type": "video/mp4",
        "expires": str(expires),
        "sig": sign_upload(SECRET, JOB, "clip.mp4", "video/mp4", expires),
    }
    args.update(change)
    with pytest.raises(BadSignature):
        verify_upload(SECRET, **args)  # type: ignore[arg-type]


def test_a_forged_expired_link_is_a_bad_signature_not_expired() -> None:
    with pytest.raises(BadSignature):
        verify_upload(SECRET, JOB, "clip.mp4", "video/mp4", 1, "0" * 64)


def test_secret_is_generated_once_private_and_stable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key=None)
    first = load_secret(settings)
    assert len(first) >= 32
    assert load_secret(settings) == first
    mode = stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]
