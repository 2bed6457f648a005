"""URLs handed to clients: built from the address the client used, signed, expiring.

A link must work from the caller's network, so it is built from ``public_base_url``
when one is configured, else from the request's own scheme and ``Host`` header, which
``HostGuard`` has already checked against the allow-list (never from
``X-Forwarded-Host``, never from an internal host name). Download links carry an
HMAC signature so a ``<video src>`` on a phone can fetch them without a header; the
key is derived from the server secret and differs from the upload-link key, so an
upload signature can never pass as a download one.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote, urlencode

from fastapi import Request

from dance_analysis.config import Settings
from dance_analysis.storage.keys import safe_filename
from dance_analysis.storage.signing import sign_upload, verify_upload

DOWNLOAD_METHOD = "GET"


def base_url(request: Request, settings: Settings) -> str:
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    host = request.headers.get("host", "localhost")
    return f"{request.url.scheme}://{host}"


def absolute(request: Request, settings: Settings, path_or_url: str) -> str:
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    return f"{base_url(request, settings)}{path_or_url}"


def download_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"dance-analysis download links", hashlib.sha256).digest()


def signed_artifact_path(secret: bytes, job_id: str, name: str, expires_s: int) -> str:
    expires = int(time.time()) + expires_s
    sig = sign_upload(download_key(secret), job_id, name, DOWNLOAD_METHOD, expires)
    query = urlencode({"expires": expires, "sig": sig})
    return f"/api/v1/jobs/{quote(job_id, safe='')}/artifacts/{quote(name, safe='')}?{query}"


def verify_artifact_link(secret: bytes, job_id: str, name: str, expires: str, sig: str) -> None:
    """Raise ``BadSignature`` / ``UploadExpired`` unless the download link is genuine."""
    verify_upload(download_key(secret), job_id, name, DOWNLOAD_METHOD, expires, sig)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A header no filename can break: ASCII-safe, quoted, with the RFC 5987 twin."""
    safe = safe_filename(filename)
    return f"{disposition}; filename=\"{safe}\"; filename*=UTF-8''{quote(safe, safe='')}"
