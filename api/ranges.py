"""HTTP ``Range`` on file downloads, as RFC 9110 §14 says, in our one error shape.

Starlette's ``FileResponse`` answers a malformed ``Range`` or an unknown unit with a
plain-text 400 of its own, which no exception handler sees. RFC 9110 says a server
MUST ignore a range unit it does not understand and MAY ignore an invalid range set;
so both get the whole file (200). A valid set of which no range lies inside the file
gets 416 with ``Content-Range: bytes */size`` and our JSON error body. What is left
(valid, satisfiable ranges) goes to Starlette rewritten to exactly the satisfiable
ranges, so its own checks never fire.
"""

from __future__ import annotations

import os
import re

import anyio.to_thread
from fastapi.responses import FileResponse
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from api.errors import error_response

MAX_RANGES = 100  # more than this is not a download, it is a way to burn CPU: send it whole

_INT_RANGE = re.compile(r"^(\d+)-(\d*)$")
_SUFFIX_RANGE = re.compile(r"^-(\d+)$")


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"no range lies inside the {size} bytes")
        self.size = size


def satisfiable_ranges(header: str, size: int) -> str | None:
    """The ``Range`` header to serve, or None to ignore it and send the whole file.

    Returns a normalised ``bytes=first-last,…`` holding only the satisfiable ranges;
    raises :class:`RangeNotSatisfiable` when the set is valid but none is.
    """
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None  # not a range unit we know (or not a range at all): ignore it
    specs = [spec.strip() for spec in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # HTTP lists may have empty elements
    if not specs or len(specs) > MAX_RANGES:
        return None
    chosen: list[str] = []
    for spec in specs:
        if match := _INT_RANGE.match(spec):
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) else None
            if last is not None and last < first:
                return None  # an invalid range-spec makes the whole header invalid
            if first < size:
                end = size - 1 if last is None else min(last, size - 1)
                chosen.append(f"{first}-{end}")
        elif match := _SUFFIX_RANGE.match(spec):
            length = int(match.group(1))
            if length > 0 and size > 0:
                chosen.append(f"{max(size - length, 0)}-{size - 1}")
        else:
            return None
    if not chosen:
        raise RangeNotSatisfiable(size)
    return "bytes=" + ",".join(chosen)


class RangedFileResponse(FileResponse):
    """A ``FileResponse`` whose Range handling follows RFC 9110 (see the module)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"].upper() in ("GET", "HEAD"):
            headers = Headers(scope=scope)
            requested = headers.get("range")
            if_range = headers.get("if-range")
            if self.stat_result is None:
                self.stat_result = await anyio.to_thread.run_sync(os.stat, self.path)
                self.set_stat_headers(self.stat_result)
            # A failed If-Range means "send it whole" (Starlette does): no 416 then.
            if requested is not None and (if_range is None or self._should_use_range(if_range)):
                size = self.stat_result.st_size
                try:
                    served = satisfiable_ranges(requested, size)
                except RangeNotSatisfiable:
                    response = error_response(
                        416,
                        "range_not_satisfiable",
                        f"The requested range lies outside the file ({size} bytes).",
                        headers={"Content-Range": f"bytes */{size}"},
                    )
                    await response(scope, receive, send)
                    return
                rest = [(k, v) for k, v in scope["headers"] if k.lower() != b"range"]
                if served is not None:
                    rest.append((b"range", served.encode("latin-1")))
                scope = {**scope, "headers": rest}
        await super().__call__(scope, receive, send)
