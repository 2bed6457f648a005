"""Random access to a clip's pictures by index, for a player.

The pipeline reads a clip once, front to back (:mod:`dance_analysis.video.reader`);
a player jumps around. :class:`FrameDecoder` indexes the presentation timestamps
once (demuxing only, no decoding), then returns picture *i* by seeking to the key
frame before it and decoding forward, or simply by decoding the next picture when
asked for ``i + 1``.

It opens the file as every reader of an upload does (:func:`open_input`: sniffed,
locked-down demuxer), takes the stream the pipeline takes (:func:`pick_video_stream`)
and stands pictures upright with the pipeline's own code (:func:`upright_rgb`), so
picture *i* here is picture *i* of the analysis and its landmarks fit it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame

from dance_analysis.video.container import open_input, pick_video_stream
from dance_analysis.video.probe import DEFAULT_LIMITS, VideoInfo, VideoLimits, probe
from dance_analysis.video.reader import quarter_turns_counter_clockwise, upright_rgb

FloatArray = npt.NDArray[np.float64]


class FrameDecoder:
    """Picture ``i`` of a clip as upright RGB; not thread-safe (one owner thread).

    ``t_ms``: (n,) presentation times in ms from the first picture, as the result's.
    ``decoded``: pictures handed out so far (the player's tests count them).
    """

    def __init__(self, path: Path, limits: VideoLimits = DEFAULT_LIMITS) -> None:
        self.info: VideoInfo = probe(path, limits)
        self._quarter_turns = quarter_turns_counter_clockwise(self.info.rotation)
        self._files = ExitStack()
        try:
            self._container = self._files.enter_context(open_input(self.info.path))
            self._stream = pick_video_stream(self.info.path, self._container)
            for other in self._container.streams:
                if other.index != self._stream.index:
                    other.discard = av.stream.Discard.all
            self._stream.codec_context.thread_type = "AUTO"
            # Presentation order; edit-list pre-roll is never shown, so not indexed.
            self.pts: list[int] = sorted(
                packet.pts
                for packet in self._container.demux(self._stream)
                if packet.pts is not None and packet.size > 0 and not packet.is_discard
            )
        except BaseException:
            self._files.close()
            raise
        ms_per_tick = float(self.info.time_base) * 1000.0
        self.t_ms: FloatArray = (
            np.asarray(self.pts, dtype=np.float64) - self.info.start_pts
        ) * ms_per_tick
        self.decoded = 0
        self._pictures: Iterator[VideoFrame] | None = None
        self._last_index = -2

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Picture ``index`` (clamped to the clip) as (height, width, 3) uint8 RGB."""
        if not self.pts:
            raise EOFError("the clip has no pictures")
        index = min(max(index, 0), self.frame_count - 1)
        target = self.pts[index]
        if index != self._last_index + 1 or self._pictures is None:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
            self._pictures = self._container.decode(self._stream)
        picture = None
        for candidate in self._pictures:
            if candidate.pts is not None and candidate.pts < target:
                continue  # decoding forward from the key frame
            picture = candidate
            break
        if picture is None:  # the decoder ended early: start over next time
            self._pictures = None
            self._last_index = -2
            raise EOFError(f"picture {index + 1} could not be decoded")
        self._last_index = index
        self.decoded += 1
        image: npt.NDArray[np.uint8] = upright_rgb(picture, self.info, self._quarter_turns, None)
        return image

    def close(self) -> None:
        self._pictures = None
        self._files.close()

    def __enter__(self) -> FrameDecoder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
