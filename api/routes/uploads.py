"""The signed upload route: the local store's stand-in for an S3 presigned PUT.

``PUT /api/v1/uploads/{job_id}/{filename}?expires=…&sig=…`` needs no token; the
signature (HMAC over job id, filename, Content-Type and expiry) is its authority.
The body is streamed to storage under the size cap; an honest Content-Length over
the cap is refused before reading, a chunked or lying body is cut at the cap, and a
partial file never stays behind.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import ServiceDep, SettingsDep
from api.routes.analyze import check_declared_length
from api.schemas import ErrorPublic
from api.streaming import BodyReader, run_upload

router = APIRouter(prefix="/uploads", tags=["uploads"])

_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put(
    "/{job_id}/{filename}",
    status_code=status.HTTP_200_OK,
    response_class=Response,
    responses={
        200: {"description": "Stored; now call POST /api/v1/analyze/confirm"},
        400: {"model": ErrorPublic},
        403: {"model": ErrorPublic},
        404: {"model": ErrorPublic},
        408: {"model": ErrorPublic},
        409: {"model": ErrorPublic},
        413: {"model": ErrorPublic},
        507: {"model": ErrorPublic},
    },
    openapi_extra=_RAW_BODY,
    summary="Receive the raw bytes of a clip at a signed upload URL",
)
async def put_upload(
    job_id: str,
    filename: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    service.verify_upload_link(job_id, filename, content_type, expires or "", sig or "")
    check_declared_length(request, settings.max_upload_bytes)
    reader = BodyReader(request.receive)
    size = await run_upload(
        request, lambda: service.receive_upload(job_id, filename, reader.chunks())
    )
    return Response(status_code=status.HTTP_200_OK, headers={"X-Upload-Size": str(size)})
