"""The phone page: what a phone opens when it scans the desktop app's pairing QR code.

``GET /`` (the QR code holds ``http://<LAN-IP>:<port>/?pair=<CODE>``) serves one plain
HTML page and ``GET /static/phone.js`` / ``phone.css`` its script and style. They are
public (``PUBLIC_PAGES`` in ``api.security``): the page holds no secret, and everything
it does goes through the token-protected API with the token it gets by pairing.

The page is served with a strict Content-Security-Policy (no inline script, nothing
from outside this server except the S3 endpoint the uploads and downloads go to when
S3 is configured) and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import SettingsDep
from dance_analysis.config import Settings

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["phone"], include_in_schema=False)

_FILES = {
    "phone.html": "text/html; charset=utf-8",
    "phone.js": "text/javascript; charset=utf-8",
    "phone.css": "text/css; charset=utf-8",
}


def pairing_link(api_url: str, code: str) -> str:
    """What a pairing QR code holds: this page on the server, with the one-time code."""
    return f"{api_url.rstrip('/')}/?pair={quote(code)}"


@cache
def _read(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(settings: Settings) -> str:
    """Only this server, plus the S3 endpoint the clip is PUT to and results come from."""
    remote: list[str] = []
    if settings.s3_bucket:
        for url in (settings.s3_endpoint_url, settings.s3_public_endpoint_url):
            origin = _origin(url)
            if origin and origin not in remote:
                remote.append(origin)
        if not settings.s3_endpoint_url:
            remote.append("https://*.amazonaws.com")
    extra = "".join(f" {origin}" for origin in remote)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{extra}; media-src 'self'{extra}; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _serve(name: str, settings: Settings) -> Response:
    headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # the pairing code is in the page's URL
    }
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = content_security_policy(settings)
        headers["X-Frame-Options"] = "DENY"
    return Response(_read(name), media_type=_FILES[name], headers=headers)


@router.get("/", summary="The phone page: pair, upload a clip, watch the result")
def phone_page(settings: SettingsDep) -> Response:
    return _serve("phone.html", settings)


@router.get("/static/phone.js", summary="The phone page's script")
def phone_script(settings: SettingsDep) -> Response:
    return _serve("phone.js", settings)


@router.get("/static/phone.css", summary="The phone page's style")
def phone_style(settings: SettingsDep) -> Response:
    return _serve("phone.css", settings)
