"""An MP4 with a zero timescale or a reference to another file says so (issue 7 §2.9).

Before, both read as "the file ends in the middle" (or probed with a nonsense frame
rate): FFmpeg repairs a zero timescale to 1 and skips a track whose samples live in
another file. The fixtures are the small squats clip with bytes patched at run time.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video.probe import probe

_PARENTS = ("moov", "trak", "mdia", "minf", "dinf")


def _chain(data: bytes, path: list[str]) -> list[int]:
    """Offsets of the boxes along ``path`` (e.g. moov/trak/mdia/mdhd), outermost first."""
    start, end, found = 0, len(data), []
    for name in path:
        at = start
        while at + 8 <= end:
            size, kind = struct.unpack_from(">I4s", data, at)
            if kind == name.encode():
                break
            at += size
        else:
            raise KeyError(f"no {name} box")
        found.append(at)
        start, end = at + 8, at + size
    return found


def zero_timescale(data: bytes, box: str) -> bytes:
    """``box`` (mvhd or the video track's mdhd) with its timescale set to 0."""
    path = ["moov", box] if box == "mvhd" else ["moov", "trak", "mdia", box]
    at = _chain(data, path)[-1]
    patched = bytearray(data)
    version = patched[at + 8]
    struct.pack_into(">I", patched, at + 8 + 4 + (16 if version == 1 else 8), 0)
    return bytes(patched)


def _alias_to(path: bytes) -> bytes:
    """A QuickTime alias record (as FFmpeg's mov demuxer reads it) naming ``path``."""
    record = bytes(10) + bytes([3]) + b"Mac".ljust(27, b"\0") + bytes(12)
    record += bytes([9]) + b"other.mov".ljust(63, b"\0") + bytes(16)
    record += struct.pack(">hh", -1, -1) + bytes(16)
    record += struct.pack(">HH", 2, len(path)) + path + b"\0" * (len(path) % 2)
    return record + struct.pack(">hH", -1, 0)


def external_reference(data: bytes, kind: bytes, location: bytes) -> bytes:
    """The video track's ``dref`` replaced by one entry that is not self-contained."""
    chain = _chain(data, ["moov", "trak", "mdia", "minf", "dinf", "dref"])
    dref = chain[-1]
    entry = struct.pack(">I4sI", 12 + len(location), kind, 0) + location  # flags 0
    new = struct.pack(">I4sII", 16 + len(entry), b"dref", 0, 1) + entry
    old_size = struct.unpack_from(">I", data, dref)[0]
    patched = bytearray(data[:dref] + new + data[dref + old_size :])
    for parent in chain[:-1]:  # every box around it grows by as much
        size = struct.unpack_from(">I", patched, parent)[0]
        struct.pack_into(">I", patched, parent, size + len(new) - old_size)
    return bytes(patched)


def refusal(path: Path) -> MediaError:
    with pytest.raises(MediaError) as refused:
        probe(path)
    return refused.value


@pytest.mark.parametrize("box", ["mdhd", "mvhd"])
def test_a_zero_timescale_is_named(small_clip: Path, tmp_path: Path, box: str) -> None:
    clip = tmp_path / f"{box}0.mp4"
    clip.write_bytes(zero_timescale(small_clip.read_bytes(), box))
    error = refusal(clip)
    assert error.reason is Reason.CORRUPT_CONTAINER
    assert "zero timescale" in error.message and "ends in the middle" not in error.message


@pytest.mark.parametrize(
    ("kind", "location"),
    [(b"alis", _alias_to(b"/Users/coach/other.mov")), (b"url ", b"file:///etc/passwd\0")],
    ids=["alias", "url"],
)
def test_a_reference_to_another_file_is_named(
    small_clip: Path, tmp_path: Path, kind: bytes, location: bytes
) -> None:
    clip = tmp_path / "reference.mov"
    clip.write_bytes(external_reference(small_clip.read_bytes(), kind, location))
    error = refusal(clip)
    assert error.reason is Reason.EXTERNAL_REFERENCE
    assert "refers to another file" in error.message


def test_an_empty_reference_still_means_this_file(small_clip: Path, tmp_path: Path) -> None:
    # Some muxers clear the self-contained flag but name nothing: that is this file.
    clip = tmp_path / "sloppy.mp4"
    clip.write_bytes(external_reference(small_clip.read_bytes(), b"url ", b""))
    assert probe(clip).frame_count == probe(small_clip).frame_count == 10
