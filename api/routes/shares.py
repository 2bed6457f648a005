"""Share links to a student's report (issue 12): made with a token, opened without one.

- ``POST /api/v1/analyze/{job_id}/share`` (token): a new signed, expiring link to the
  finished job's report.html, with its QR code as inline SVG;
- ``GET /api/v1/analyze/{job_id}/shares`` (token): the job's links, expired ones too;
- ``GET /r/{share_id}?expires=…&sig=…`` (public, in ``PUBLIC_ROUTES``): the report,
  served inline. Its signature is its authority (:mod:`dance_analysis.jobs.shares`).

The report is served under a policy that runs no script and fetches nothing: the page
needs only its inline style and its ``data:`` pictures. A link that is forged answers
403 ``bad_signature``, one past its time 410 ``link_expired``; a browser (``Accept:
text/html``) gets those as a small page a person can read, any other client as the
API's JSON error.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ServiceDep, SettingsDep
from api.errors import ApiError
from api.links import base_url, share_link
from api.schemas import ErrorPublic, ShareCreate, ShareCreatedPublic, SharePublic, SharesPublic
from dance_analysis.errors import BadSignature, DanceAnalysisError
from dance_analysis.jobs.shares import Share

router = APIRouter(prefix="/analyze", tags=["analyze"])
public_router = APIRouter(tags=["share"])

REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
REPORT_HEADERS = {
    "Content-Security-Policy": REPORT_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link's signature is in its URL
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# A refusal: JSON, or (Accept: text/html) a page a person reads.
_AS_PAGE: dict[str, Any] = {"content": {"text/html": {}}}
BAD_LINK = (
    "This link is not valid: check that it was copied whole, or ask your coach for a new one."
)


def _public(api_url: str, share: Share) -> SharePublic:
    return SharePublic(
        url=share_link(api_url, share),
        created_at=share.created_at,
        expires_at=share.expires_at,
        expired=share.expired(),
    )


def qr_svg(text: str) -> str:
    """``text`` as a QR code: one inline ``<svg>`` element, black on white."""
    return str(segno.make(text, error="m").svg_inline(scale=4, border=2, light="#fff"))


@router.post(
    "/{job_id}/share",
    response_model=ShareCreatedPublic,
    status_code=201,
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}},
    summary="A link to the student's report that works without a token until it expires",
)
def create_share(
    job_id: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    body: Annotated[ShareCreate | None, Body()] = None,
) -> ShareCreatedPublic:
    """``{"expires_in_s": N}`` (60 s to 90 days; default 7 days). 409 ``invalid_state``
    before the job has finished or when it has no report; 404 ``job_not_found``."""
    expires_in_s = (body or ShareCreate()).expires_in_s
    share = service.create_share(job_id, expires_in_s)
    public = _public(base_url(request, settings), share)
    return ShareCreatedPublic(**public.model_dump(), qr_svg=qr_svg(public.url))


@router.get(
    "/{job_id}/shares",
    response_model=SharesPublic,
    responses={404: {"model": ErrorPublic}},
    summary="The job's share links, newest first, expired ones too",
)
def list_shares(
    job_id: str, request: Request, service: ServiceDep, settings: SettingsDep
) -> SharesPublic:
    api_url = base_url(request, settings)
    data = [_public(api_url, share) for share in service.shares(job_id)]
    return SharesPublic(data=data, count=len(data))


@public_router.get(
    "/r/{share_id}",
    response_class=Response,
    responses={
        200: {"description": "The report (text/html)", "content": {"text/html": {}}},
        403: {"model": ErrorPublic, "description": "bad_signature", **_AS_PAGE},
        404: {"model": ErrorPublic, "description": "object_missing: job deleted", **_AS_PAGE},
        410: {"model": ErrorPublic, "description": "link_expired", **_AS_PAGE},
    },
    summary="Open a shared report (no token: the link's signature)",
)
def open_share(
    share_id: Annotated[str, Path(max_length=64)],
    request: Request,
    service: ServiceDep,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    try:
        if not expires or not sig:
            raise BadSignature()
        report = service.shared_report(share_id, expires, sig)
    except DanceAnalysisError as error:
        reason = str(getattr(error.reason, "value", error.reason))
        message = BAD_LINK if isinstance(error, BadSignature) else error.message
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(_problem_page(message, reason), error.http_status, REPORT_HEADERS)
        raise ApiError(error.http_status, reason, message) from None
    headers = {**REPORT_HEADERS, "Content-Disposition": 'inline; filename="report.html"'}
    return Response(report, media_type="text/html; charset=utf-8", headers=headers)


def _problem_page(message: str, reason: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Dance report</title><style>body{font:17px/1.5 system-ui,sans-serif;"
        "margin:0;padding:40px 20px;background:#f3f1ee;color:#1d1d1f;text-align:center}"
        "main{max-width:420px;margin:0 auto;background:#fff;border-radius:14px;"
        "padding:24px}</style></head>"
        f'<body><main data-reason="{escape(reason)}"><h1>Dance report</h1>'
        f"<p>{escape(message)}</p></main></body></html>"
    )
