"""Signed, expiring links for the local store: the stand-in for S3's presigned URLs.

Without S3 a client still PUTs its clip to, and fetches results from, a link that
needs no token: the API serves ``…?expires=…&sig=…`` and checks the signature
here. One function signs them all (:func:`sign`): HMAC-SHA256 over the link's fields
and its expiry, joined by ``|``, with a key from the server's secret. An upload link
signs ``job_id|filename|content_type|expires`` with the secret itself; a download
link signs ``job_id|name|GET|expires`` with a key derived from it, so an upload
signature can never pass as a download one; a share link (a student's report, issue 12)
signs ``share_id|report|expires`` with a third derived key, so it opens that report and
nothing else, and no other signature opens it. The engine only signs and verifies:
the routes a link points at are the API's business.

The secret comes from settings or is generated once into ``{data_dir}/secret.key``
(mode 0600).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from dance_analysis.config import Settings
from dance_analysis.errors import BadSignature, LinkExpired, UploadExpired

SECRET_FILE = "secret.key"
_DOWNLOAD_METHOD = "GET"
_DOWNLOAD_KEY_LABEL = b"dance-analysis download links"
_SHARE_KEY_LABEL = b"dance-analysis share links"
_SHARE_PURPOSE = "report"


def sign(key: bytes, fields: Sequence[str], expires: int) -> str:
    """The hex signature of a link: HMAC-SHA256 over ``field|field|…|expires``."""
    message = "|".join([*fields, str(expires)]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify(
    key: bytes, fields: Sequence[str], expires: int | str, sig: str, *, now: float | None = None
) -> None:
    """Raise :class:`BadSignature` or :class:`UploadExpired` unless the link is good.

    The signature is checked first (in constant time), so a forged link learns nothing
    about expiry; a genuine link past its time gets the "ask again" answer.
    """
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        raise BadSignature() from None
    expected = sign(key, fields, expires_at)
    if not hmac.compare_digest(expected.encode(), sig.encode("ascii", "replace")):
        raise BadSignature()
    if (time.time() if now is None else now) > expires_at:
        raise UploadExpired()


# --- upload links: one PUT of one name, with one content type ---------------------------


def sign_upload(secret: bytes, job_id: str, filename: str, content_type: str, expires: int) -> str:
    return sign(secret, (job_id, filename, content_type), expires)


def verify_upload(
    secret: bytes,
    job_id: str,
    filename: str,
    content_type: str,
    expires: int | str,
    sig: str,
    *,
    now: float | None = None,
) -> None:
    verify(secret, (job_id, filename, content_type), expires, sig, now=now)


# --- download links: one GET of one result file ------------------------------------------


def sign_download(secret: bytes, job_id: str, name: str, expires: int) -> str:
    return sign(_download_key(secret), (job_id, name, _DOWNLOAD_METHOD), expires)


def verify_download(
    secret: bytes, job_id: str, name: str, expires: int | str, sig: str, *, now: float | None = None
) -> None:
    verify(_download_key(secret), (job_id, name, _DOWNLOAD_METHOD), expires, sig, now=now)


def _download_key(secret: bytes) -> bytes:
    return hmac.new(secret, _DOWNLOAD_KEY_LABEL, hashlib.sha256).digest()


# --- share links: one student's report, for whoever holds the link, until it expires ---


def sign_share(secret: bytes, share_id: str, expires: int) -> str:
    return sign(_share_key(secret), (share_id, _SHARE_PURPOSE), expires)


def verify_share(
    secret: bytes, share_id: str, expires: int | str, sig: str, *, now: float | None = None
) -> None:
    """Raise :class:`BadSignature`, or :class:`LinkExpired` for a genuine link past its time."""
    try:
        verify(_share_key(secret), (share_id, _SHARE_PURPOSE), expires, sig, now=now)
    except UploadExpired:
        raise LinkExpired() from None


def _share_key(secret: bytes) -> bytes:
    return hmac.new(secret, _SHARE_KEY_LABEL, hashlib.sha256).digest()


# --- the secret ----------------------------------------------------------------------------


def load_secret(settings: Settings) -> bytes:
    """The server's signing key: from settings, else created once in the data folder.

    Creation is race-free across processes: the key is written to a private temp file
    and hard-linked into place, so a second process either wins or reads the winner's
    complete key.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.data_dir) / SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    value = path.read_text().strip()
    if len(value) < 32:
        raise RuntimeError(f"{path} holds no usable secret; delete it to make a new one")
    return value.encode()
