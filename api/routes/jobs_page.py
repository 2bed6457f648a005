"""The jobs page: a studio's queue in a browser (the seed's RQ dashboard, ours).

``GET /jobs`` serves one plain HTML page and ``GET /static/jobs.js`` / ``jobs.css`` its
script and style. Like the phone page they are public (``PUBLIC_PAGES`` in
``api.security``): the page holds no secret. Every call it makes goes to the
token-protected API (``GET /api/v1/jobs``, ``POST …/cancel``, ``POST …/retry``) with a
device token the studio's admin pastes once (``main.py token create NAME``); the
browser keeps it in localStorage.

The path is ``/jobs``: what the page shows, next to the API's ``/api/v1/jobs`` it
reads, and short to type. It is served with the strictest policy (no inline script,
nothing from anywhere but this server: the page loads no media), ``no-store``, and
may not be framed.
"""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from api.routes.phone import STATIC

router = APIRouter(tags=["jobs page"], include_in_schema=False)

PAGE_PATH = "/jobs"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_FILES = {
    "jobs.html": "text/html; charset=utf-8",
    "jobs.js": "text/javascript; charset=utf-8",
    "jobs.css": "text/css; charset=utf-8",
}


@cache
def _read(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _serve(name: str) -> Response:
    headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
    return Response(_read(name), media_type=_FILES[name], headers=headers)


@router.get(PAGE_PATH, summary="The jobs page: every job, its state, cancel and retry")
def jobs_page() -> Response:
    return _serve("jobs.html")


@router.get("/static/jobs.js", summary="The jobs page's script")
def jobs_script() -> Response:
    return _serve("jobs.js")


@router.get("/static/jobs.css", summary="The jobs page's style")
def jobs_style() -> Response:
    return _serve("jobs.css")
