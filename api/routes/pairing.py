"""Devices and pairing: trade a one-time code for a token, list and revoke devices."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request, Response, status

from api.deps import AccessDep, CurrentDevice, SettingsDep
from api.errors import ApiError
from api.schemas import (
    DevicePublic,
    DevicesPublic,
    ErrorPublic,
    PairCreate,
    PairingCodePublic,
    TokenPublic,
)
from dance_analysis.access import Device


def _device_public(device: Device) -> DevicePublic:
    return DevicePublic(
        id=device.id,
        name=device.name,
        created_at=device.created_at,
        last_used_at=device.last_used_at,
        revoked=device.revoked,
        kind=device.kind,
    )


def require_device_manager(device: CurrentDevice) -> None:
    """Device management needs an owner token (``token create``); a phone's cannot.

    A token lets a phone use the API; it must not let it mint codes for more devices
    or revoke the studio's own tokens (RELIABILITY §25). Rights come from the kind of
    token, never from the client's address: a phone's request relayed through the
    server machine (a tunnel, a proxy) arrives from loopback too.
    """
    if device is None:  # authentication switched off: everything is open, and said so
        return
    if not device.manages_devices:
        raise ApiError(
            403,
            "forbidden",
            "This device's token may use the API but not manage devices: use the desktop "
            "app or a token made with `token create`.",
        )


# POST /pair is public: the one-time code is its credential.
public_router = APIRouter(tags=["devices"])
# The rest needs a token (added by the app) of the kind that manages devices.
router = APIRouter(
    tags=["devices"],
    dependencies=[Depends(require_device_manager)],
    responses={403: {"model": ErrorPublic}},
)


@public_router.post(
    "/pair",
    response_model=TokenPublic,
    responses={403: {"model": ErrorPublic}, 429: {"model": ErrorPublic}},
    summary="Trade a pairing code (shown by the desktop app) for a device token",
)
def pair(body: PairCreate, request: Request, access: AccessDep) -> TokenPublic:
    client = request.client.host if request.client else ""
    token = access.pair(body.code, body.device_name, client_key=client)
    return TokenPublic(token=token)


@router.get("/devices", response_model=DevicesPublic, summary="Paired devices and tokens")
def list_devices(access: AccessDep) -> DevicesPublic:
    devices = [_device_public(device) for device in access.list_devices()]
    return DevicesPublic(data=devices, count=len(devices))


@router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": ErrorPublic}},
    summary="Revoke a device's token (204 again for one already revoked; 404 if unknown)",
)
def revoke_device(device_id: str, access: AccessDep) -> Response:
    access.revoke(device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/pairing-codes",
    response_model=PairingCodePublic,
    status_code=status.HTTP_201_CREATED,
    summary="A new one-time pairing code for another device",
)
def create_pairing_code(access: AccessDep, settings: SettingsDep) -> PairingCodePublic:
    code = access.new_pairing_code()
    expires_at = getattr(code, "expires_at", None)
    if isinstance(expires_at, dt.datetime):
        left = int((expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds())
    else:
        left = settings.pairing_code_ttl_s
    return PairingCodePublic(code=code.code, expires_at=expires_at, expires_in=max(left, 0))
