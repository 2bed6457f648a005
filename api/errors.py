"""How every error leaves the API: ``{"detail": {"reason", "message"}}`` and a status.

Domain errors (``DanceAnalysisError``) carry their own status and reason, so one
handler renders them all (polar's pattern). Errors that belong to HTTP itself (no
token, a bad Host, a route that does not exist, a malformed request) are ``ApiError``s
with the same shape. Anything else is a bug: the client gets a 500 with a generic
sentence, the traceback goes to the log and never into a response.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dance_analysis.errors import DanceAnalysisError, Reason

log = logging.getLogger("api")

# A body over a cap, whichever cap and however it was noticed: one reason, one 413.
TOO_LARGE = Reason.UPLOAD_TOO_LARGE.value

_HTTP_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    411: "length_required",
    413: TOO_LARGE,
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid_request",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error of the HTTP layer, rendered like a domain error."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers
        self.extra = extra or {}


def error_body(reason: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"detail": {**(extra or {}), "reason": reason, "message": message}}


def error_response(
    status: int,
    reason: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(reason, message, extra), status_code=status, headers=headers)


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DanceAnalysisError)
    reason = getattr(exc.reason, "value", exc.reason)
    retry_after = getattr(exc, "retry_after_s", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(exc.http_status, str(reason), exc.message, headers)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.reason, exc.message, exc.headers, exc.extra)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason = _HTTP_REASONS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else reason.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return error_response(exc.status_code, reason, message, headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method the API documents at this route's path: Starlette's 405 names only
    the first route's, which is wrong where two routes share a path (GET and PUT of
    …/marks). "" when the route is not known (Starlette's own header then stands)."""
    route_path = getattr(request.scope.get("route"), "path", None)
    if route_path is None:
        return ""
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template))
        if template.endswith(route_path) and re.fullmatch(pattern, request.url.path):
            return ", ".join(method for method in _METHODS if method.lower() in operations)
    return ""


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg"))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    message = "; ".join(_describe(error) for error in errors[:5]) or "The request is invalid."
    # Only locations and messages go back: pydantic's "input" would echo whatever was
    # sent (a token, a 10 KB filename) into the response.
    fields = [{"loc": list(error.get("loc", ())), "msg": str(error.get("msg"))} for error in errors]
    return error_response(422, "invalid_request", message, extra={"errors": fields[:20]})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Something went wrong on the server.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DanceAnalysisError, _on_domain_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
