"""Health: real checks of the database, the queue and storage; public. And the
original backend's greeting at ``/api/v1/``, public too (it says nothing but a name)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServiceDep
from api.schemas import HealthPublic, RootPublic

router = APIRouter(tags=["health"])
log = logging.getLogger("api.health")


def _check(service: ServiceDep) -> JSONResponse:
    try:
        checks = {name: bool(ok) for name, ok in service.health().items()}
    except Exception:
        log.exception("health check failed")
        checks = {"service": False}
    healthy = all(checks.values())
    body = HealthPublic(status="ok" if healthy else "degraded", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": HealthPublic, "description": "A dependency is down"}
}


@router.get("/health", response_model=HealthPublic, responses=_RESPONSES, summary="Health")
def health(service: ServiceDep) -> JSONResponse:
    return _check(service)


@router.get("/api/v1/health", response_model=HealthPublic, responses=_RESPONSES, summary="Health")
def health_v1(service: ServiceDep) -> JSONResponse:
    return _check(service)


ROOT_MESSAGE = "Dance Analysis API: see /docs"


@router.get("/api/v1/", response_model=RootPublic, summary="The API's greeting")
def root() -> RootPublic:
    """The original backend's root: ``{message}``; clients use it to see the server is up."""
    return RootPublic(message=ROOT_MESSAGE)
