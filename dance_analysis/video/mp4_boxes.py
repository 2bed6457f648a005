"""What an MP4/MOV's own boxes say that FFmpeg hides: timescales and data references.

FFmpeg quietly repairs or skips two things an MP4 can declare, and what reaches us
afterwards is misleading:

- a timescale of 0 (``mvhd`` or a track's ``mdhd``): FFmpeg substitutes 1, so the
  clip probes with a nonsense frame rate, or looks cut short;
- a data reference (``dref``) that puts a track's samples in *another* file: with
  ``enable_drefs`` off (as it must be, see :mod:`.container`) FFmpeg skips the track,
  which then reads as "the file ends in the middle".

:func:`check_boxes` reads the ``moov`` box (only that, bounded) and raises with the
real cause. Only ``moov``'s tree is walked; sample data is never read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dance_analysis.errors import MediaError, Reason

#: A moov larger than this is not read here (hours of samples); FFmpeg still checks it.
MAX_MOOV_BYTES = 64 << 20

_PARENTS = {b"moov", b"trak", b"mdia", b"minf", b"dinf"}
_SELF_CONTAINED = 0x000001  # dref entry flag: "the data is in this file"


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` of the boxes laid end to end in ``data``."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return  # damaged; FFmpeg will say so in its own words
        yield kind, at + header, at + size
        at += size


def _read_moov(f: BinaryIO) -> bytes | None:
    """The ``moov`` box's payload, found by hopping over the top-level boxes."""
    f.seek(0, 2)
    file_end = f.tell()
    at = 0
    while at + 8 <= file_end:
        f.seek(at)
        head = f.read(16)
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1 and len(head) == 16:
            size, header = struct.unpack_from(">Q", head, 8)[0], 16
        elif size == 0:
            size = file_end - at
        if size < header:
            return None
        if kind == b"moov":
            if size - header > MAX_MOOV_BYTES:
                return None
            f.seek(at + header)
            return f.read(size - header)
        at += size
    return None


def _walk(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    for kind, payload, box_end in _boxes(data, start, end):
        yield kind, payload, box_end
        if kind in _PARENTS:
            yield from _walk(data, payload, box_end)


def _timescale(data: bytes, payload: int, box_end: int) -> int | None:
    """The timescale of an ``mvhd`` or ``mdhd`` (version 0: 32-bit times, 1: 64-bit)."""
    if payload + 4 > box_end:
        return None
    offset = payload + 4 + (16 if data[payload] == 1 else 8)
    if offset + 4 > box_end:
        return None
    return int(struct.unpack_from(">I", data, offset)[0])


def _refers_elsewhere(data: bytes, payload: int, box_end: int) -> bool:
    """Whether a ``dref`` has an entry that puts samples in another file."""
    for _kind, entry, entry_end in _boxes(data, payload + 8, box_end):
        if entry + 4 > entry_end:
            continue
        flags = int.from_bytes(data[entry + 1 : entry + 4], "big")
        location = data[entry + 4 : entry_end].strip(b"\0")
        # Not self-contained *and* naming somewhere: an empty reference is a sloppy
        # muxer's way of saying "this file", and FFmpeg reads it as such.
        if not flags & _SELF_CONTAINED and location:
            return True
    return False


def check_boxes(f: BinaryIO, name: str) -> None:
    """Raise ``corrupt_container`` (zero timescale) or ``external_reference`` (dref)."""
    moov = _read_moov(f)
    if moov is None:
        return  # no moov (or a huge one): FFmpeg's own checks decide
    for kind, payload, box_end in _walk(moov, 0, len(moov)):
        if kind in (b"mvhd", b"mdhd") and _timescale(moov, payload, box_end) == 0:
            raise MediaError(
                Reason.CORRUPT_CONTAINER,
                f"{name} is damaged: it says its clock runs at zero ticks per second (a "
                "zero timescale), so its frames have no times. Please export or copy the "
                "clip again from the camera or editor.",
            )
        if kind == b"dref" and _refers_elsewhere(moov, payload, box_end):
            raise MediaError(
                Reason.EXTERNAL_REFERENCE,
                f"{name} does not contain its own video: it refers to another file for "
                "its pictures (a reference movie). Please export it as a self-contained "
                "MP4 or MOV and send that.",
            )


def check_file(path: Path) -> None:
    with path.open("rb") as f:
        check_boxes(f, f"“{path.name}”")
