"""Who may talk to the API, from where, and what never reaches a log.

- ``HostGuard``: a pure ASGI middleware that answers 400 before routing unless the
  ``Host`` header names this machine (or a configured host). A web page cannot reach
  the server by DNS rebinding, and ``X-Forwarded-Host`` is never consulted.
- ``BodyCap``: routes that are not uploads take at most a small body, so an
  unauthenticated client cannot make the app buffer megabytes of "JSON".
- ``require_device``: the Bearer token dependency put on every router except the
  public allow-list (``PUBLIC_ROUTES``); ``create_app`` refuses to start if a route
  has neither.
- ``RedactingFilter``: tokens, signatures and presigned query strings are replaced
  by ``***`` in every log record.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import TOO_LARGE, ApiError, error_body

if TYPE_CHECKING:
    from dance_analysis.access import AccessService, Device
    from dance_analysis.config import Settings

log = logging.getLogger("api.security")

# (method, path template) that need no token. The upload PUT is authorised by its
# signature, the pairing route by its one-time code; ``/api/v1/`` only greets. Docs
# are public so a person can read them; they reveal nothing a token would protect.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/"),
        ("POST", "/api/v1/pair"),
        ("PUT", "/api/v1/uploads/{job_id}/{filename}"),
        ("GET", "/r/{share_id}"),  # a student's report: the share link's signature
    }
)
PUBLIC_PATHS: frozenset[str] = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json"})
# The phone page (what the pairing QR code opens) and its script and style: public on
# purpose, they hold no secret and call the API only with the token pairing gives.
# The jobs page (``/jobs``) likewise: its calls carry the token the admin pastes.
# Not in the OpenAPI schema, so kept apart from PUBLIC_ROUTES.
PUBLIC_PAGES: frozenset[tuple[str, str]] = frozenset(
    {("GET", "/"), ("GET", "/static/phone.js"), ("GET", "/static/phone.css")}
    | {("GET", "/jobs"), ("GET", "/static/jobs.js"), ("GET", "/static/jobs.css")}
)

# -- Host allow-list ----------------------------------------------------------------

_HOST_RE = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?$"
)


def _lan_addresses() -> set[str]:
    """This machine's addresses as a LAN peer would use them (best effort, no traffic)."""
    found: set[str] = set()
    names = {socket.gethostname(), socket.getfqdn()}
    for name in names:
        with contextlib.suppress(OSError):
            found.update(socket.gethostbyname_ex(name)[2])
        with contextlib.suppress(OSError):
            found.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
    # Connecting a UDP socket sends nothing; it only asks the kernel for the route's source.
    for probe, family in (("192.0.2.1", socket.AF_INET), ("2001:db8::1", socket.AF_INET6)):
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))
            found.add(str(sock.getsockname()[0]))
    return {address.split("%")[0] for address in found}


def lan_ipv4() -> str | None:
    """The address a phone on the same network would type, if there is one."""
    candidates = sorted(
        address
        for address in _lan_addresses()
        if ":" not in address and not ipaddress.ip_address(address).is_loopback
    )
    private = [address for address in candidates if ipaddress.ip_address(address).is_private]
    found = private or candidates
    return found[0] if found else None


def default_allowed_hosts() -> set[str]:
    hostname = socket.gethostname().lower()
    hosts = {"localhost", "127.0.0.1", "::1", hostname, f"{hostname}.local"}
    hosts.add(socket.getfqdn().lower())
    hosts.update(_lan_addresses())
    return hosts


def allowed_hosts(settings: Settings) -> set[str]:
    configured = {host.strip().lower().rstrip(".") for host in settings.allowed_hosts}
    hosts = configured or default_allowed_hosts()
    if settings.public_base_url:
        public = urlsplit(settings.public_base_url).hostname
        if public:
            hosts.add(public.lower())
    return hosts


def parse_host(value: str) -> tuple[str, int | None] | None:
    """``(hostname, port)`` of a Host header, or None when it is anything but a host."""
    match = _HOST_RE.match(value)
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    if match["v6"] is not None:
        try:
            return str(ipaddress.IPv6Address(match["v6"])), port
        except ValueError:
            return None
    return match["name"].lower().rstrip("."), port


class HostGuard:
    """Reject any request whose Host is not in the allow-list, before routing."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.allow_any = False
        self.exact: set[str] = set()
        self.suffixes: list[str] = []
        for host in hosts:
            if host == "*":
                self.allow_any = True
            elif host.startswith("*."):
                self.suffixes.append(host[1:])
            else:
                parsed = parse_host(host if ":" not in host else f"[{host}]")
                self.exact.add(parsed[0] if parsed else host)

    def allows(self, raw: bytes) -> bool:
        parsed = parse_host(raw.decode("latin-1"))
        if parsed is None:
            return False
        name = parsed[0]
        if self.allow_any or name in self.exact:
            return True
        return any(name.endswith(suffix) for suffix in self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        if len(hosts) == 1 and self.allows(hosts[0]):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _send_json(
            send, 400, error_body("invalid_host", "This server does not answer to that host name.")
        )


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    import json

    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# -- Body cap for everything that is not an upload -----------------------------------

SMALL_BODY_BYTES = 1024 * 1024


def is_upload(method: str, path: str) -> bool:
    return (method == "PUT" and path.startswith("/api/v1/uploads/")) or (
        method == "POST" and path.rstrip("/") == "/api/v1/analyze"
    )


class BodyCap:
    """At most ``SMALL_BODY_BYTES`` of body for every route but the two upload routes."""

    def __init__(self, app: ASGIApp, limit: int = SMALL_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_upload(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await _send_json(send, 413, error_body(TOO_LARGE, "The request body is too large."))
                return
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise StarletteHTTPException(413, "The request body is too large.")
            return message

        await self.app(scope, capped_receive, send)


# -- Bearer tokens ------------------------------------------------------------------

bearer = HTTPBearer(
    auto_error=False,
    description="A device token: pair a device (POST /api/v1/pair) or run `token create`.",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized(reason: str, message: str) -> ApiError:
    return ApiError(401, reason, message, headers={"WWW-Authenticate": "Bearer"})


def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Device | None:
    """The device behind the token; None only when authentication is switched off."""
    state = request.state
    if state.settings.auth_disabled:
        return None
    if credentials is None:
        raise _unauthorized("unauthorized", "This route needs a device token (Bearer).")
    access: AccessService = state.access
    device = access.verify(credentials.credentials)
    if device is None:
        raise _unauthorized("invalid_token", "The device token is unknown or was revoked.")
    return device


def require_device(request: Request, credentials: BearerDep) -> Device | None:
    """Put on every non-public router; runs in the thread pool (the lookup is a query)."""
    return authenticate(request, credentials)


# -- Log redaction ------------------------------------------------------------------

_SECRET_PATTERNS = (
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+)?[^\s\"',}]+"), r"\1\2***"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (
        re.compile(
            r"(?i)([?&;](?:token|sig|signature|x-amz-signature|x-amz-credential|"
            r"x-amz-security-token|awsaccesskeyid)=)[^&\s\"']*"
        ),
        r"\1***",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with secrets replaced; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_REDACTED_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "api", "httpx", "botocore")


def install_log_redaction() -> None:
    """Filter the loggers that see URLs and headers, and every handler of the root logger."""
    redactor = RedactingFilter()
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(redactor)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(redactor)
