"""Signed, expiring upload links for the local store (the S3 presign's stand-in).

Without S3 the three-step upload flow still works: ``upload_url`` points at this
server's ``PUT /api/v1/uploads/{job_id}/{filename}?expires=…&sig=…``. The signature
is HMAC-SHA256 over ``job_id|filename|content_type|expires`` with the server's
secret key, so a link grants one PUT of one name, with one content type, until it
expires. The secret comes from settings or is generated once into
``{data_dir}/secret.key`` (mode 0600).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from dance_analysis.config import Settings
from dance_analysis.errors import BadSignature, UploadExpired

SECRET_FILE = "secret.key"
UPLOAD_ROUTE = "/api/v1/uploads"


def _message(job_id: str, filename: str, content_type: str, expires: int) -> bytes:
    return f"{job_id}|{filename}|{content_type}|{expires}".encode()


def sign_upload(secret: bytes, job_id: str, filename: str, content_type: str, expires: int) -> str:
    """The hex signature for one upload link."""
    return hmac.new(
        secret, _message(job_id, filename, content_type, expires), hashlib.sha256
    ).hexdigest()


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
    """Raise :class:`BadSignature` or :class:`UploadExpired` unless the link is good.

    The signature is checked first (in constant time), so a forged link learns nothing
    about expiry; a genuine link past its time gets the "ask again" answer.
    """
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        raise BadSignature() from None
    expected = sign_upload(secret, job_id, filename, content_type, expires_at)
    if not hmac.compare_digest(expected.encode(), sig.encode("ascii", "replace")):
        raise BadSignature()
    if (time.time() if now is None else now) > expires_at:
        raise UploadExpired()


def signed_upload_path(
    secret: bytes, job_id: str, filename: str, content_type: str, expires: int
) -> str:
    """The server-relative URL of the local PUT route, signed."""
    sig = sign_upload(secret, job_id, filename, content_type, expires)
    query = urlencode({"expires": expires, "sig": sig})
    return f"{UPLOAD_ROUTE}/{quote(job_id, safe='')}/{quote(filename, safe='')}?{query}"


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
