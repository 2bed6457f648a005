"""URLs handed to clients: built from the address the client used, signed, expiring.

A link must work from the caller's network, so it is built from ``public_base_url``
when one is configured, else from the request's own scheme and ``Host`` header, which
``HostGuard`` has already checked against the allow-list (never from
``X-Forwarded-Host``, never from an internal host name). The engine signs (see
:mod:`dance_analysis.storage.signing`: upload links for the local store, and
download links so a ``<video src>`` on a phone can fetch them without a header, and
share links to a student's report); this module knows the routes and builds the URLs.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

from fastapi import Request

from dance_analysis.config import Settings
from dance_analysis.jobs.shares import Share
from dance_analysis.jobs.views import UploadTicket
from dance_analysis.storage.keys import safe_filename
from dance_analysis.storage.signing import sign_download, verify_download

UPLOADS_PATH = "/api/v1/uploads"  # api/routes/uploads.py under the API prefix
JOBS_PATH = "/api/v1/jobs"  # api/routes/jobs.py under the API prefix
SHARES_PATH = "/r"  # api/routes/shares.py: a student's report by share link


def base_url(request: Request, settings: Settings) -> str:
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    host = request.headers.get("host", "localhost")
    return f"{request.url.scheme}://{host}"


def absolute(request: Request, settings: Settings, path_or_url: str) -> str:
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    return f"{base_url(request, settings)}{path_or_url}"


def upload_link(request: Request, settings: Settings, ticket: UploadTicket) -> str:
    """Where the client PUTs its clip: S3's presigned URL, or our signed upload route."""
    if ticket.upload_url is not None:
        return ticket.upload_url
    assert ticket.signature is not None  # the local store always signs
    query = urlencode({"expires": ticket.expires_at, "sig": ticket.signature})
    job, name = quote(ticket.job_id, safe=""), quote(ticket.filename, safe="")
    return absolute(request, settings, f"{UPLOADS_PATH}/{job}/{name}?{query}")


def signed_artifact_path(secret: bytes, job_id: str, name: str, expires_s: int) -> str:
    expires = int(time.time()) + expires_s
    query = urlencode({"expires": expires, "sig": sign_download(secret, job_id, name, expires)})
    return f"{JOBS_PATH}/{quote(job_id, safe='')}/artifacts/{quote(name, safe='')}?{query}"


def verify_artifact_link(secret: bytes, job_id: str, name: str, expires: str, sig: str) -> None:
    """Raise ``BadSignature`` / ``UploadExpired`` unless the download link is genuine."""
    verify_download(secret, job_id, name, expires, sig)


def share_link(api_url: str, share: Share) -> str:
    """A share link: the report route with the share's expiry and signature (the desktop
    writes the same link, ``gui.share.share_link``)."""
    query = urlencode({"expires": share.expires, "sig": share.signature})
    return f"{api_url.rstrip('/')}{SHARES_PATH}/{quote(share.id, safe='')}?{query}"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A header no filename can break: ASCII-safe, quoted, with the RFC 5987 twin."""
    safe = safe_filename(filename)
    return f"{disposition}; filename=\"{safe}\"; filename*=UTF-8''{quote(safe, safe='')}"
