"""A clip cut into independent pieces that decode at once, each from its own keyframe.

A GPU runs the pose networks far faster than one decoder feeds it, so a clip is cut
into segments that several decoders read side by side (each seeded by the detector on
the pose side). A segment starts on a keyframe: seeking there and decoding forward
gives exactly the pictures the sequential reader gives, with the same indices and
timestamps, without decoding anything twice. The cut points come from one pass over
the packets (no decoding), the same pass :func:`probe` makes.

Pictures that sort before their segment's keyframe (the leading B-frames of an open
GOP, which need the previous GOP to decode) belong to the previous segment; each
reader keeps exactly the pictures whose timestamps fall inside its range.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import av

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video.container import open_input, pick_video_stream
from dance_analysis.video.probe import DEFAULT_LIMITS, VideoInfo, VideoLimits
from dance_analysis.video.reader import (
    Frame,
    quarter_turns_counter_clockwise,
    upright_rgb,
)


@dataclass(frozen=True)
class Segment:
    """Pictures ``start``..``stop - 1`` (presentation order) of a clip.

    ``seek_pts``: the keyframe's timestamp (absolute, as stored in the stream) that the
    decoder seeks to; ``first_pts``/``end_pts``: the absolute timestamps the segment's
    pictures lie in, ``first_pts <= pts < end_pts`` (``end_pts`` None: to the end).
    """

    start: int
    stop: int
    seek_pts: int
    first_pts: int
    end_pts: int | None

    def __len__(self) -> int:
        return self.stop - self.start


def plan_segments(info: VideoInfo, count: int, *, min_frames: int = 1) -> list[Segment]:
    """Cut the clip into at most ``count`` segments of about equal length, at keyframes.

    Fewer come back when the clip has fewer keyframes (an all-intra clip cuts anywhere;
    one long GOP cannot be cut at all) or when a segment would have fewer than
    ``min_frames`` pictures. None come back when the timestamps cannot be trusted
    (missing or repeated): then only :func:`read_frames` reads the clip exactly.
    """
    timestamps, keyframes = _packet_timestamps(info)
    if not timestamps:
        return []
    order = sorted(timestamps)
    if len(set(order)) != len(order):  # broken timestamps: only a sequential read is exact
        return []
    index_of = {pts: i for i, pts in enumerate(order)}
    total = len(order)
    # A keyframe may start a segment when no later packet in decode order sorts before
    # it: then everything from it on decodes without the pictures before it (closed GOP).
    later_min = list(timestamps)
    for position in range(len(later_min) - 2, -1, -1):
        later_min[position] = min(later_min[position], later_min[position + 1])
    cuttable = sorted(
        index_of[pts]
        for position, pts in enumerate(timestamps)
        if keyframes[position] and later_min[position] >= pts
    )
    if not cuttable or cuttable[0] != 0:
        cuttable = [0, *cuttable]
    wanted = max(1, min(count, total // max(1, min_frames)))
    starts = [0]
    for k in range(1, wanted):
        target = round(k * total / wanted)
        best = min(cuttable, key=lambda i: abs(i - target))
        if best - starts[-1] >= min_frames and total - best >= min_frames:
            starts.append(best)
    starts = sorted(set(starts))
    segments = []
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else total
        segments.append(
            Segment(
                start=start,
                stop=stop,
                seek_pts=order[start],
                first_pts=order[start],
                end_pts=order[stop] if stop < total else None,
            )
        )
    return segments


def read_segment(
    info: VideoInfo, segment: Segment, limits: VideoLimits = DEFAULT_LIMITS
) -> Iterator[Frame]:
    """The segment's pictures, upright RGB, indexed and timed as :func:`read_frames` does."""
    del limits  # the sequential pass (probe, the overlay) already judged the stream
    quarter_turns = quarter_turns_counter_clockwise(info.rotation)
    ms_per_tick = float(info.time_base) * 1000.0
    with open_input(info.path) as container:
        stream = pick_video_stream(info.path, container)
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        stream.codec_context.thread_type = "AUTO"
        stream.codec_context.thread_count = 2
        if segment.start > 0:
            container.seek(segment.seek_pts, stream=stream, backward=True, any_frame=False)
        index = segment.start
        try:
            for packet in container.demux(stream):
                for picture in stream.decode(packet):
                    if picture.pts is None or picture.pts < segment.first_pts:
                        continue
                    if segment.end_pts is not None and picture.pts >= segment.end_pts:
                        return
                    pts = picture.pts - info.start_pts
                    yield Frame(
                        index=index,
                        pts=pts,
                        t_ms=pts * ms_per_tick,
                        image=upright_rgb(picture, info, quarter_turns, None),
                    )
                    index += 1
                    if index >= segment.stop:
                        return
        except av.FFmpegError as exc:
            raise MediaError(
                Reason.CORRUPT_STREAM,
                f"“{info.path.name}” could not be read to the end; the file is damaged.",
            ) from exc


def _packet_timestamps(info: VideoInfo) -> tuple[list[int], list[bool]]:
    """Every video packet's timestamp in decode order, and whether it is a keyframe."""
    timestamps: list[int] = []
    keyframes: list[bool] = []
    with open_input(info.path) as container:
        stream = pick_video_stream(info.path, container)
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            if packet.pts is None:  # no cut point can be trusted
                return [], []
            timestamps.append(int(packet.pts))
            keyframes.append(bool(packet.is_keyframe))
    return timestamps, keyframes
