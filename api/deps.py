"""Short dependency aliases for route signatures (full-stack-fastapi-template style).

Everything a route needs comes from the typed state the lifespan hands the app
(``api.app.AppState``); nothing is global, so two apps can live in one process.
The getters are ``async`` on purpose: they only read the state, and a sync
dependency would cost every request a hop to the thread pool and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.security import require_device
from dance_analysis.access import AccessService, Device
from dance_analysis.config import Settings
from dance_analysis.jobs.service import JobService


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


async def get_service(request: Request) -> JobService:
    service: JobService = request.state.service
    return service


async def get_access(request: Request) -> AccessService:
    access: AccessService = request.state.access
    return access


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[JobService, Depends(get_service)]
AccessDep = Annotated[AccessService, Depends(get_access)]
# None only when authentication is switched off (``auth_disabled``).
CurrentDevice = Annotated[Device | None, Depends(require_device)]
