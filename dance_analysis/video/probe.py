"""Facts about a clip, and the decision whether it can be analysed at all.

:func:`probe` is the gate every upload passes before any real work: it refuses what
is not a video, is damaged, too big or too long, with a reason code and a sentence a
coach understands, and otherwise returns a :class:`VideoInfo` the reader, the
pipeline and the result JSON rely on. The checks run cheapest and most dangerous
first: file system, content sniffing (no FFmpeg yet), headers (no decoding yet), then
one pass over the packets that decodes only the first picture (for its rotation).

Counts and rates come from the packets, not the header: phones, editors and
remuxers write frame counts and frame rates that are missing or wrong.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.stream import VideoStream

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video.container import (
    SNIFF_BYTES,
    codec_name_without_decoder,
    open_input,
    pick_video_stream,
    sniff,
)

# Frame intervals that differ from the typical one by more than this share make a
# clip "variable frame rate". One tick more is always allowed: a 120 fps clip in
# Matroska's millisecond time base alternates 8 and 9 ms and is still constant.
_VFR_TOLERANCE = 0.10


@dataclass(frozen=True)
class VideoLimits:
    """What the service agrees to analyse."""

    max_side_px: int = 4096  # 4K phone clips pass; 8K/16K are refused
    max_duration_s: float = 20 * 60
    max_decode_errors: float = 0.2  # share of frames that may fail to decode (used by the reader)


DEFAULT_LIMITS = VideoLimits()


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learnt about a clip. Times are in ``time_base`` units."""

    path: Path
    size_bytes: int
    container: str  # demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str  # e.g. "h264"
    coded_width: int  # as stored in the stream, before rotation
    coded_height: int
    width: int  # as displayed: rotation applied
    height: int
    rotation: int  # 0/90/180/270: clockwise degrees a player turns the decoded picture
    fps: float  # average, from the timestamps
    variable_frame_rate: bool
    frame_count: int  # demuxed video packets; the header's count is not trusted
    header_frame_count: int | None  # what the container claimed (None when absent)
    duration_s: float
    time_base: Fraction  # of the video stream
    start_pts: int  # first presentation timestamp of the video stream, in time_base
    has_audio: bool
    audio_codec: str | None

    def to_dict(self) -> dict[str, object]:
        """JSON-able facts: the file's name only (never a server path), Fractions as text."""
        facts: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        facts["path"] = self.path.name
        facts["time_base"] = str(self.time_base)
        return facts


def probe(path: str | Path, limits: VideoLimits = DEFAULT_LIMITS) -> VideoInfo:
    """Validate a clip and describe it, or raise :class:`MediaError` saying why not.

    Reasons: ``file_not_found``, ``empty_file``, ``not_a_video`` (decided from the
    first bytes, before any FFmpeg code runs), ``corrupt_container``,
    ``no_video_stream`` (audio only, or audio with cover art), ``unsupported_codec``,
    ``resolution_too_large`` (from the headers, before any decoding),
    ``too_long`` and ``corrupt_stream`` (the file ends in the middle of the video
    data, or no picture in it decodes).
    """
    path = Path(path)
    size_bytes = _regular_file_size(path)
    with path.open("rb") as fileobj:
        family = sniff(fileobj.read(SNIFF_BYTES), f"“{path.name}”")
    with open_input(path, family=family) as container:
        return _describe(path, size_bytes, container, limits)


def _regular_file_size(path: Path) -> int:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise MediaError(Reason.FILE_NOT_FOUND, f"There is no file “{path.name}”.") from exc
    if not stat.S_ISREG(st.st_mode):
        # A folder, a device or a pipe: reading one could block forever.
        raise MediaError(Reason.NOT_A_VIDEO, f"“{path.name}” is not a file, so not a video.")
    if st.st_size == 0:
        raise MediaError(
            Reason.EMPTY_FILE,
            f"“{path.name}” is empty (0 bytes). The upload may have failed; please try again.",
        )
    return st.st_size


def _describe(
    path: Path, size_bytes: int, container: InputContainer, limits: VideoLimits
) -> VideoInfo:
    stream = pick_video_stream(path, container)
    if stream.codec_context is None:
        codec = codec_name_without_decoder(container, stream.index)
        raise MediaError(
            Reason.UNSUPPORTED_CODEC,
            f"“{path.name}” is compressed with the “{codec}” video codec, which this app "
            "cannot decode. Please export it as H.264 (MP4) and try again.",
        )
    codec = stream.codec_context.codec.canonical_name
    coded_width, coded_height = stream.codec_context.width, stream.codec_context.height
    if coded_width <= 0 or coded_height <= 0:
        raise MediaError(
            Reason.CORRUPT_CONTAINER,
            f"“{path.name}” does not say how big its picture is; the file is damaged.",
        )
    if max(coded_width, coded_height) > limits.max_side_px:
        raise MediaError(
            Reason.RESOLUTION_TOO_LARGE,
            f"“{path.name}” is {coded_width}×{coded_height} pixels; the largest this app "
            f"analyses is {limits.max_side_px} pixels on the longer side (4K). Please "
            "export it at 4K or lower.",
        )
    time_base = stream.time_base
    if time_base is None or time_base <= 0:
        raise MediaError(Reason.CORRUPT_CONTAINER, f"“{path.name}” has no usable time base.")
    header_duration_s = _header_duration_s(container, stream)
    if header_duration_s is not None and header_duration_s > limits.max_duration_s:
        raise _too_long(path, header_duration_s, limits)

    packets = _scan_packets(path, container, stream, limits)
    audio = next(iter(container.streams.audio), None)
    rotation = packets.rotation
    width, height = (
        (coded_height, coded_width) if rotation in (90, 270) else (coded_width, coded_height)
    )
    return VideoInfo(
        path=path,
        size_bytes=size_bytes,
        container=container.format.name,
        codec=codec,
        coded_width=coded_width,
        coded_height=coded_height,
        width=width,
        height=height,
        rotation=rotation,
        fps=packets.fps,
        variable_frame_rate=packets.variable_frame_rate,
        frame_count=packets.count,
        header_frame_count=stream.frames or None,
        duration_s=packets.duration_s,
        time_base=time_base,
        start_pts=packets.start_pts,
        has_audio=audio is not None,
        audio_codec=_audio_codec_name(audio),
    )


def _header_duration_s(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _too_long(path: Path, duration_s: float, limits: VideoLimits) -> MediaError:
    return MediaError(
        Reason.TOO_LONG,
        f"“{path.name}” runs {_how_long(duration_s)} or more; this app analyses up to "
        f"{_how_long(limits.max_duration_s)}. Please trim it and try again.",
    )


def _how_long(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def _audio_codec_name(audio: av.audio.stream.AudioStream | None) -> str | None:
    if audio is None:
        return None
    if audio.codec_context is None:
        return "unknown"
    # The decoder's name can be an implementation ("mp3float"); the codec's is stable.
    return audio.codec_context.codec.canonical_name


@dataclass(frozen=True)
class _Packets:
    count: int
    start_pts: int
    fps: float
    variable_frame_rate: bool
    duration_s: float
    rotation: int


def _scan_packets(
    path: Path, container: InputContainer, stream: VideoStream, limits: VideoLimits
) -> _Packets:
    """One pass over the video packets: count them, collect their timestamps.

    The first picture is decoded on the way, only to learn the display rotation:
    PyAV exposes the display matrix on decoded frames, not on streams.
    """
    time_base = stream.time_base
    assert time_base is not None  # checked by the caller
    limit_ticks = limits.max_duration_s / time_base
    for other in container.streams:
        if other.index != stream.index:
            other.discard = av.stream.Discard.all  # do not even read their data

    timestamps: list[int] = []
    count = 0
    last_duration = 0
    last_pts: int | None = None
    first_pts: int | None = None
    rotation: int | None = None
    demuxed = 0
    decoder = stream.codec_context
    decoder.thread_count = 1  # one picture; no thread pool for it
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # end-of-stream marker
            demuxed += 1
            if rotation is None:
                rotation = _rotation_of_first_picture(stream, packet)
            if packet.is_discard:
                # Edit-list pre-roll (a cut that starts mid-GOP): decoded as a
                # reference for what follows, never shown, not counted.
                continue
            count += 1
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None:
                timestamps.append(ts)
                first_pts = ts if first_pts is None else min(first_pts, ts)
                if last_pts is None or ts >= last_pts:
                    last_pts, last_duration = ts, packet.duration or 0
                if ts - first_pts > limit_ticks:
                    raise _too_long(path, float((ts - first_pts) * time_base), limits)
    except av.FFmpegError as exc:
        raise MediaError(
            Reason.CORRUPT_STREAM,
            f"“{path.name}” is damaged partway through and cannot be read to the end.",
        ) from exc
    # In MP4/MOV the header's count is the sample table the demuxer reads by, so
    # fewer packets than that means the data stops early. (Other containers have
    # no such promise: a Matroska or MPEG-TS file cut short just ends sooner.)
    if container.format.name.startswith("mov") and demuxed < stream.frames:
        raise _cut_short(path)
    if rotation is None:
        rotation = _rotation_of_first_picture(stream, None)
    if count == 0 or rotation is None:
        raise MediaError(
            Reason.CORRUPT_STREAM,
            f"“{path.name}” has a video track, but none of its pictures can be decoded.",
        )
    return _timing(timestamps, count, time_base, last_duration, stream, rotation)


def _cut_short(path: Path) -> MediaError:
    # The headers promised more than the file holds: an upload or a copy that
    # stopped early. RELIABILITY §4 asks for a deterministic choice; analysing the
    # first part would report a dance that silently ends early, so refuse it.
    return MediaError(
        Reason.CORRUPT_STREAM,
        f"“{path.name}” ends in the middle of the video: the file is incomplete (an "
        "upload that was cut off looks like this). Please send it again.",
    )


def _rotation_of_first_picture(stream: VideoStream, packet: av.Packet | None) -> int | None:
    """Feed one packet (None: flush); the rotation once a picture comes out."""
    try:
        frames = stream.decode(packet)
    except av.FFmpegError:
        return None  # a damaged first packet; the next one may decode
    if not frames:
        return None
    # VideoFrame.rotation is counter-clockwise in [-180, 180]; ours is clockwise.
    return (-round(frames[0].rotation / 90) * 90) % 360


def _timing(
    timestamps: list[int],
    count: int,
    time_base: Fraction,
    last_duration: int,
    stream: VideoStream,
    rotation: int,
) -> _Packets:
    # Presentation order: B-frames make decode order jump back and forth.
    pts = np.sort(np.asarray(timestamps, dtype=np.int64))
    if pts.size >= 2 and pts[-1] > pts[0]:
        intervals = np.diff(pts)
        typical = float(np.median(intervals))
        fps = (pts.size - 1) / float((pts[-1] - pts[0]) * time_base)
        allowed = max(_VFR_TOLERANCE * typical, 1.0)
        variable = bool(np.any(np.abs(intervals - typical) > allowed))
        tail = last_duration if last_duration > 0 else typical
        duration_s = float((int(pts[-1]) + tail - int(pts[0])) * time_base)
    else:
        # One picture (or no timestamps): the header's rate is all there is.
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        variable = False
        if last_duration > 0:
            duration_s = float(last_duration * time_base)
        else:
            duration_s = 1.0 / fps if fps else 0.0
    return _Packets(
        count=count,
        start_pts=int(pts[0]) if pts.size else 0,
        fps=fps,
        variable_frame_rate=variable,
        duration_s=duration_s,
        rotation=rotation,
    )
