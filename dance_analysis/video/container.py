"""Opening an untrusted media file: content sniffing and a locked-down demuxer.

Everything that reads an uploaded file goes through :func:`open_input`. It decides
what the file is from its first bytes, before FFmpeg sees it, and then lets only
the demuxers that fit that decision read it. FFmpeg's own format probing would
happily pick the HLS or concat demuxer for a text file named ``.mp4``, and those open
whatever files the text names (RELIABILITY §7); a JPEG would be handed to an image
decoder. Three locks:

1. sniffing refuses everything that does not start like a media container;
2. ``format_whitelist`` names only the demuxers for what sniffing saw; FFmpeg checks
   it after probing the format and before the demuxer reads anything, and copies it
   into the nested contexts that concat opens;
3. the file is read through a Python file object and every nested open that goes
   through FFmpeg's ``io_open`` (HLS segments, DASH, MOV data references) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import av.logging
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video.mp4_boxes import check_boxes

#: How many leading bytes sniffing looks at (enough for three MPEG-TS packets).
SNIFF_BYTES = 1024

# Reads go through Python (see lock 3); big buffers keep the callbacks few.
_IO_BUFFER_BYTES = 1 << 18


@dataclass(frozen=True)
class Family:
    """A kind of media file recognised by its first bytes."""

    name: str
    demuxers: str  # FFmpeg's format_whitelist: the demuxers allowed to read it


_MP4 = Family("MP4/MOV/3GP", "mov")
_MATROSKA = Family("Matroska/WebM", "matroska")
_AVI = Family("AVI", "avi")
_MPEGTS = Family("MPEG-TS", "mpegts")
_MPEGPS = Family("MPEG-PS", "mpeg")
_FLV = Family("FLV", "flv")
# Audio files are let through so that a song gets the helpful "no picture" answer
# (no_video_stream) instead of "not a video". Only strong signatures: a bare MPEG
# audio frame sync is two bytes and random data matches it too often.
_ID3 = Family("MP3", "mp3,aac,flac")
_WAV = Family("WAV", "wav")
_FLAC = Family("FLAC", "flac")
_OGG = Family("Ogg", "ogg")

# First boxes that an ISO-BMFF/QuickTime file starts with.
_MP4_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"})

# Things people upload by mistake, named so the message can say what the file is.
_KNOWN_NOT_VIDEO: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "a JPEG photo"),
    (b"\x89PNG\r\n\x1a\n", "a PNG picture"),
    (b"GIF8", "a GIF picture"),
    (b"%PDF", "a PDF document"),
    (b"#EXTM3U", "a playlist that points at other files"),
    (b"ffconcat version", "a list of other files"),
    (b"PK\x03\x04", "a ZIP archive"),
)


def sniff(head: bytes, name: str = "The file") -> Family:
    """Say what a file is from its first bytes, or raise ``not_a_video``.

    A whitelist: anything not positively recognised is refused, so a text file or
    a playlist never reaches a demuxer.
    """
    if len(head) >= 8 and head[4:8] in _MP4_FIRST_BOXES:
        return _MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _MATROSKA
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return _AVI
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _WAV
    if _is_mpegts(head):
        return _MPEGTS
    if head.startswith(b"\x00\x00\x01\xba"):
        return _MPEGPS
    if head.startswith(b"FLV\x01"):
        return _FLV
    if head.startswith(b"ID3"):
        return _ID3
    if head.startswith(b"fLaC"):
        return _FLAC
    if head.startswith(b"OggS"):
        return _OGG
    what = next((label for magic, label in _KNOWN_NOT_VIDEO if head.startswith(magic)), None)
    if what is None and _looks_like_text(head):
        what = "a text file"
    if what is None:
        raise MediaError(
            Reason.NOT_A_VIDEO,
            f"{name} is not a video this app can read: it does not start like an MP4, MOV, "
            "MKV, WebM, AVI, MPEG or FLV file. Please choose the video file itself.",
        )
    raise MediaError(
        Reason.NOT_A_VIDEO,
        f"{name} is {what}, not a video. Please choose the video file itself (MP4 or MOV).",
    )


def _is_mpegts(head: bytes) -> bool:
    # A sync byte every 188 bytes (plain TS) or every 192 after a 4-byte time code
    # (M2TS, as camcorders write it). Three in a row: one 0x47 is common by chance.
    for first, step in ((0, 188), (4, 192)):
        positions = range(first, len(head), step)
        if len(positions) >= 3 and all(head[p] == 0x47 for p in positions[:4]):
            return True
    return False


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sniffed window.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def _refuse_nested_open(url: str, flags: int, options: Mapping[str, str]) -> BinaryIO:
    # FFmpeg asks for this only when the file refers to another file: a playlist
    # segment, a DASH fragment, a MOV data reference. An uploaded clip never needs one.
    raise MediaError(
        Reason.NOT_A_VIDEO,
        "The file refers to other files. Only a self-contained video can be analysed.",
    )


@contextmanager
def open_input(path: Path, *, family: Family | None = None) -> Iterator[InputContainer]:
    """Sniff ``path`` and open it for demuxing; close it on exit.

    ``family`` skips sniffing (the caller has just done it, or a test wants to
    check the other locks on their own).

    FFmpeg's stream analysis (``avformat_find_stream_info``) is kept from decoding
    pictures: left alone it decodes several frames of every H.264 stream just to
    guess the reordering delay, which for a clip that declares 8K means hundreds of
    megabytes before anyone has looked at the size. The sizes still come from the
    headers, and the streams' own decoders are unaffected.

    Raises ``corrupt_container`` when the demuxer cannot make sense of the file (or
    an MP4 declares a zero timescale), ``external_reference`` when an MP4 keeps its
    samples in another file.
    """
    with path.open("rb") as fileobj:
        if family is None:
            family = sniff(fileobj.read(SNIFF_BYTES), f"“{path.name}”")
        if family is _MP4:
            # What FFmpeg would repair or skip in silence: a zero timescale, a
            # reference to another file. Said here, with the real cause.
            check_boxes(fileobj, f"“{path.name}”")
        fileobj.seek(0)
        try:
            container = av.open(
                fileobj,
                mode="r",
                # Given to avformat_open_input and to the decoders that stream
                # analysis opens; each ignores the other's keys.
                options={"skip_frame": "all"},
                container_options={
                    "format_whitelist": family.demuxers,
                    "protocol_whitelist": "file",
                    "enable_drefs": "0",
                },
                buffer_size=_IO_BUFFER_BYTES,
                io_open=_refuse_nested_open,
            )
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(
                Reason.CORRUPT_CONTAINER,
                f"“{path.name}” looks like {family.name} but cannot be opened: it is damaged "
                "or incomplete (an upload that was cut off looks like this). Please send "
                "the original file again.",
            ) from exc
        try:
            yield container
        finally:
            container.close()


def pick_video_stream(path: Path, container: InputContainer) -> VideoStream:
    """The footage: the default video stream that is not cover art, or ``no_video_stream``."""
    # Cover art (an MP3's or M4A's album picture) is demuxed as a one-picture video
    # stream flagged attached_pic: it is not footage.
    candidates = [
        s for s in container.streams.video if not s.disposition & Disposition.attached_pic
    ]
    if not candidates:
        hint = "It has sound but no picture" if container.streams.audio else "It has no picture"
        raise MediaError(
            Reason.NO_VIDEO_STREAM,
            f"“{path.name}” contains no video. {hint}: please choose the video recording itself.",
        )
    # The stream the file marks as default is the one a player shows.
    return next((s for s in candidates if s.disposition & Disposition.default), candidates[0])


_STREAM_LINE = re.compile(r"Stream #\d+:(\d+)\S*: \w+: ([\w-]+)")


def codec_name_without_decoder(container: InputContainer, stream_index: int) -> str:
    """Name the codec of a stream for which this build has no decoder.

    PyAV exposes the codec only through a decoder, so the name is read from
    FFmpeg's own description of the file (what ``ffprobe`` prints). Only used on
    the way to an ``unsupported_codec`` error.
    """
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.INFO)  # the description is logged at INFO
    try:
        description = container.dumps_format()  # type: ignore[attr-defined]  # not in PyAV's stubs
    finally:
        av.logging.set_level(previous)
    for match in _STREAM_LINE.finditer(description):
        if int(match.group(1)) == stream_index:
            return match.group(2)
    return "unknown"
