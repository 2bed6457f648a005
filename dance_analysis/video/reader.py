"""Decoded frames, upright, with the container's own timestamps.

:func:`read_frames` streams: it holds one decoded picture at a time (plus what the
decoder buffers), so memory does not grow with the clip. It reads until the
demuxer says the file ends, never up to a count from the header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import av
import cv2
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video.container import open_input, pick_video_stream
from dance_analysis.video.probe import DEFAULT_LIMITS, VideoInfo, VideoLimits

# Decoder threading, measured on this project's 2-core machine: 300 frames of
# 720x1280 H.264 (libx264 veryfast, 30 fps), decode + rgb24, median of 5 runs:
#   thread_type NONE, 1 thread             0.76 s wall, 0.88 s CPU
#   SLICE, thread_count 0 (PyAV default)   0.76 s wall, 0.88 s CPU (one slice per picture)
#   FRAME or AUTO, 2 threads               0.47 s wall, 0.57 s CPU (1.2 cores)
#   AUTO, thread_count 0 (= cores)         0.47 s wall, 0.58 s CPU
# Frame threading is what helps H.264; with two threads it stays near one core,
# leaving the other for the pose model on the caller's thread. The count is fixed
# so a bigger machine does not hand the decoder every core.
_THREAD_TYPE = "AUTO"
_THREAD_COUNT = 2


@dataclass(frozen=True, eq=False)  # eq=False: comparing images element-wise is never meant
class Frame:
    """One picture of the clip.

    ``image``: (height, width, 3) uint8 RGB, upright (rotation metadata applied),
    C-contiguous. ``pts``: in :attr:`VideoInfo.time_base` units, relative to
    :attr:`VideoInfo.start_pts` and strictly increasing. ``t_ms``: the same in ms.
    """

    index: int  # 0-based, presentation order, counts every frame yielded
    pts: int
    t_ms: float
    image: np.ndarray


def read_frames(
    info: VideoInfo,
    limits: VideoLimits = DEFAULT_LIMITS,
    *,
    into: Callable[[], np.ndarray] | None = None,
) -> Iterator[Frame]:
    """Decode ``info.path`` frame by frame.

    ``into``, when given, returns the (height, width, 3) uint8 array each picture is
    converted into (e.g. a shared-memory slot), saving a copy per frame; otherwise
    every frame gets a fresh array.

    Packets that fail to decode are skipped and counted; once more than
    ``limits.max_decode_errors`` of the clip's frames are lost the generator raises
    ``corrupt_stream``. The file is closed when the generator is exhausted, raises
    or is closed early.
    """
    quarter_turns = quarter_turns_counter_clockwise(info.rotation)
    ms_per_tick = float(info.time_base) * 1000.0
    # A frame without a timestamp gets the typical interval after the previous one.
    typical_step = max(1, round(1.0 / (info.fps * float(info.time_base)))) if info.fps else 1
    allowed_losses = limits.max_decode_errors * max(info.frame_count, 1)

    with open_input(info.path) as container:
        stream = pick_video_stream(info.path, container)
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        stream.codec_context.thread_type = _THREAD_TYPE
        stream.codec_context.thread_count = _THREAD_COUNT

        packets = lost = index = 0
        previous_pts: int | None = None
        for packet in _demuxed(info, container, stream):
            flushing = packet.size == 0  # the demuxer's end-of-stream marker
            # Edit-list pre-roll is decoded (later pictures refer to it) but the
            # decoder drops its pictures, so it is not counted.
            if not flushing and not packet.is_discard:
                packets += 1
            try:
                decoded = stream.decode(None if flushing else packet)
            except av.FFmpegError:
                lost += 1
                if lost > allowed_losses:
                    raise _too_many_losses(info, lost) from None
                continue
            for picture in decoded:
                pts = _relative_pts(picture, info.start_pts, previous_pts, typical_step)
                previous_pts = pts
                yield Frame(
                    index=index,
                    pts=pts,
                    t_ms=pts * ms_per_tick,
                    image=upright_rgb(
                        picture, info, quarter_turns, None if into is None else into()
                    ),
                )
                index += 1

    # Pictures the decoder swallowed without an error are losses too.
    if packets - index > allowed_losses:
        raise _too_many_losses(info, packets - index)


def _demuxed(
    info: VideoInfo, container: InputContainer, stream: VideoStream
) -> Iterator[av.Packet]:
    # probe() read every packet already, so this fails only if the file changed or
    # the disk is failing; still a reason for the user, not a traceback.
    try:
        yield from container.demux(stream)
    except av.FFmpegError as exc:
        raise MediaError(
            Reason.CORRUPT_STREAM,
            f"“{info.path.name}” could not be read to the end; the file is damaged.",
        ) from exc


def _relative_pts(
    picture: VideoFrame, start_pts: int, previous: int | None, typical_step: int
) -> int:
    if picture.pts is None:
        pts = 0 if previous is None else previous + typical_step
    else:
        pts = picture.pts - start_pts
    # Duplicate or out-of-order timestamps (variable-frame-rate phones, remuxers)
    # would break every later step that divides by a time difference.
    if previous is not None and pts <= previous:
        pts = previous + 1
    return pts


def quarter_turns_counter_clockwise(rotation_cw: int) -> int:
    """np.rot90's ``k`` that stands a picture upright (shared with video/frames.py)."""
    # The picture must turn `rotation_cw` degrees clockwise to stand upright;
    # np.rot90 turns counter-clockwise for positive k.
    return (-rotation_cw // 90) % 4


# np.rot90's k (counter-clockwise quarter turns) as OpenCV rotations, which copy once.
_CV2_ROTATIONS = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


def upright_rgb(
    picture: VideoFrame, info: VideoInfo, quarter_turns: int, out: np.ndarray | None
) -> np.ndarray:
    """A decoded picture as upright (height, width, 3) uint8 RGB, into ``out`` when given."""
    width, height = info.coded_width, info.coded_height
    if (
        picture.format.name == "yuv420p"
        and (picture.width, picture.height) == (width, height)
        and width % 2 == 0
        and height % 2 == 0
    ):
        # The common phone case. OpenCV's SIMD conversion costs about 1 ms less
        # per 720p frame than swscale's (measured), on the thread that feeds the model.
        planes = picture.to_ndarray(format="yuv420p")
        rgb: np.ndarray = cv2.cvtColor(
            planes, cv2.COLOR_YUV2RGB_I420, dst=None if quarter_turns else out
        )
    else:
        # Everything else (10-bit, full range, odd sizes, a size change midway,
        # which is legal in H.264) goes through swscale, scaled to the probed size
        # so every image keeps one shape.
        rgb = picture.to_ndarray(format="rgb24", width=width, height=height)
    if quarter_turns:
        return cv2.rotate(rgb, _CV2_ROTATIONS[quarter_turns], dst=out)
    if out is None:
        return np.ascontiguousarray(rgb)  # rows may carry the decoder's padding
    if rgb is not out:
        np.copyto(out, rgb)
    return out


def _too_many_losses(info: VideoInfo, lost: int) -> MediaError:
    return MediaError(
        Reason.CORRUPT_STREAM,
        f"“{info.path.name}” is damaged: {lost} of its {info.frame_count} pictures cannot be "
        "decoded. Please export or record it again.",
    )
