"""The FastAPI app factory: routers, middleware, error handlers and the lifespan.

``create_app(settings, service, access)`` builds an app around services the caller
owns (``main.py``, the desktop app, a test): the app never creates or closes them.
The lifespan hands them to every request as a typed state (``AppState``), so two
apps can live in one process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from api.errors import install_error_handlers
from api.routes import (
    analyze,
    compare,
    health,
    jobs,
    jobs_page,
    pairing,
    phone,
    shares,
    students,
    uploads,
    videos,
)
from api.schemas import ErrorPublic
from api.security import (
    PUBLIC_PAGES,
    PUBLIC_ROUTES,
    BodyCap,
    HostGuard,
    allowed_hosts,
    install_log_redaction,
    require_device,
)
from api.streaming import UPLOAD_THREADS
from dance_analysis.access import AccessService
from dance_analysis.config import Settings
from dance_analysis.jobs.service import JobService

log = logging.getLogger("api")

API_PREFIX = "/api/v1"
# Sync routes and dependencies share this pool (anyio's default is 40). Uploads do
# not take from it: they stream on their own threads (api.streaming.run_upload).
THREAD_POOL_SIZE = 100

AUTH_DISABLED_WARNING = (
    "AUTHENTICATION IS DISABLED (DANCE_AUTH_DISABLED=true): anyone who can reach this "
    "server can upload clips, read every result and delete jobs. Use this only on a "
    "trusted network."
)


class AppState(TypedDict):
    """What the lifespan hands every request (``request.state``)."""

    settings: Settings
    service: JobService
    access: AccessService
    upload_threads: anyio.CapacityLimiter  # uploads' own threads (api.streaming.run_upload)


_AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorPublic, "description": "The body could not be parsed"},
    401: {"model": ErrorPublic, "description": "No token, or an unknown or revoked one"},
    422: {"model": ErrorPublic, "description": "The request is invalid"},
}
_PUBLIC_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorPublic, "description": "The body could not be parsed"},
    422: {"model": ErrorPublic, "description": "The request is invalid"},
}


def create_app(settings: Settings, service: JobService, access: AccessService) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[AppState]:
        install_log_redaction()
        if settings.auth_disabled:
            log.warning(AUTH_DISABLED_WARNING)
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, THREAD_POOL_SIZE)
        yield AppState(
            settings=settings,
            service=service,
            access=access,
            upload_threads=anyio.CapacityLimiter(UPLOAD_THREADS),
        )

    app = FastAPI(
        title="Dance Analysis API",
        version="1.0",
        summary="Upload a clip of a dancer; get a skeleton overlay, joint angles and feedback.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)

    protected = [Depends(require_device)]
    app.include_router(health.router, responses=_PUBLIC_RESPONSES)
    app.include_router(phone.router)  # the page the pairing QR code opens (PUBLIC_PAGES)
    app.include_router(jobs_page.router)  # the studio's jobs page (PUBLIC_PAGES)
    app.include_router(pairing.public_router, prefix=API_PREFIX, responses=_PUBLIC_RESPONSES)
    app.include_router(uploads.router, prefix=API_PREFIX, responses=_PUBLIC_RESPONSES)
    app.include_router(jobs.downloads_router, prefix=API_PREFIX, responses=_AUTH_RESPONSES)
    app.include_router(shares.public_router, responses=_PUBLIC_RESPONSES)  # signed report links
    for router in (
        analyze.router, compare.router, jobs.router, pairing.router, videos.router, shares.router,
        students.router,
    ):  # fmt: skip
        app.include_router(
            router, prefix=API_PREFIX, dependencies=protected, responses=_AUTH_RESPONSES
        )
    _refuse_unguarded_routes(app)

    # Outermost last: the Host check runs before CORS, the body cap and routing.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Range"],
            expose_headers=["Content-Range", "Content-Length", "Content-Disposition"],
            max_age=600,
        )
    app.add_middleware(BodyCap)
    app.add_middleware(HostGuard, hosts=sorted(allowed_hosts(settings)))
    return app


# Download links authenticate inside the route: a token *or* a link's signature.
_SELF_GUARDED = frozenset({jobs.get_artifact})


def _calls(dependant: Dependant) -> set[object]:
    found: set[object] = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _refuse_unguarded_routes(app: FastAPI) -> None:
    """A new route that forgot the token dependency fails start-up, not a pen test."""
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        guarded = require_device in _calls(route.dependant) or route.endpoint in _SELF_GUARDED
        for method in route.methods or ():
            public = (method, route.path) in PUBLIC_ROUTES | PUBLIC_PAGES
            if not guarded and not public:
                raise RuntimeError(f"{method} {route.path} has no authentication dependency")
