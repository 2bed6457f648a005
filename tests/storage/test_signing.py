"""Local upload links: HMAC-signed, bound to one job, name and type, and expiring."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import time
from pathlib import Path

import pytest

from dance_analysis.errors import BadSignature, Reason, UploadExpired
from dance_analysis.storage.signing import (
    load_secret,
    sign,
    sign_download,
    sign_upload,
    verify,
    verify_download,
    verify_upload,
)
from tests.settings import make_settings

SECRET = b"k" * 48
JOB = "0b7f6f3e-9a53-4c6e-a2a8-6f1b8f3f2d11"


def test_a_signed_link_verifies_until_it_expires() -> None:
    expires = int(time.time()) + 60
    sig = sign_upload(SECRET, JOB, "clip.mp4", "video/mp4", expires)
    verify_upload(SECRET, JOB, "clip.mp4", "video/mp4", str(expires), sig)
    with pytest.raises(UploadExpired) as error:
        verify_upload(SECRET, JOB, "clip.mp4", "video/mp4", str(expires), sig, now=expires + 1)
    assert error.value.reason is Reason.UPLOAD_EXPIRED and error.value.http_status == 403


def test_links_are_one_hmac_over_their_fields_and_expiry() -> None:
    # Links handed out before stay valid: the message is field|field|…|expires.
    expected = hmac.new(SECRET, f"{JOB}|clip.mp4|video/mp4|123".encode(), hashlib.sha256)
    assert sign_upload(SECRET, JOB, "clip.mp4", "video/mp4", 123) == expected.hexdigest()
    assert sign(SECRET, (JOB, "clip.mp4", "video/mp4"), 123) == expected.hexdigest()
    verify(SECRET, (JOB, "clip.mp4", "video/mp4"), 123, expected.hexdigest(), now=0)


def test_an_upload_signature_never_passes_as_a_download_one() -> None:
    expires = int(time.time()) + 60
    download = sign_download(SECRET, JOB, "overlay", expires)
    verify_download(SECRET, JOB, "overlay", str(expires), download)
    upload = sign_upload(SECRET, JOB, "overlay", "GET", expires)  # the same fields
    assert upload != download
    with pytest.raises(BadSignature):
        verify_download(SECRET, JOB, "overlay", str(expires), upload)
    with pytest.raises(BadSignature):
        verify_upload(SECRET, JOB, "overlay", "GET", str(expires), download)


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
