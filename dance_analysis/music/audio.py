"""Decoding a clip's sound: the first audio track, as mono float32 at one fixed rate.

The only module of the music package that touches PyAV (imported inside the function,
so that importing the package stays cheap). The file is opened with
:func:`dance_analysis.video.container.open_input`, the same sniffing and locked-down
demuxer every other reader of an upload goes through.

Time: ``Audio.start_s`` says where ``samples[0]`` lies on the clip's clock, whose zero
is the video's first frame (the same zero as the pose frames' ``t_ms``). The audio of a
clip rarely starts exactly there (an edit list, a recorder that starts the sound late),
and the dancer's timing is measured against the beats on that clock, so the offset is
kept, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from av.container import InputContainer
    from numpy.typing import NDArray

#: The analysis rate. 22 050 Hz keeps everything a beat tracker uses (kick to hi-hat)
#: and halves the work of 44.1/48 kHz.
ANALYSIS_RATE = 22_050


@dataclass(frozen=True)
class Audio:
    """Mono samples in [-1, 1] and where they start on the clip's clock."""

    samples: NDArray[np.float32]
    rate: int
    start_s: float  # samples[0]'s time, seconds after the video's first frame

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.rate


def load_audio(
    path: Path,
    *,
    rate: int = ANALYSIS_RATE,
    video_start_s: float | None = None,
    max_seconds: float | None = None,
) -> Audio | None:
    """Decode ``path``'s first audio track; None when it has none (or none that decodes).

    ``video_start_s`` is the video's first presentation time in seconds (the pipeline
    knows it from the probe: ``info.start_pts * time_base``); left out, the video
    stream's declared start time is used, and 0 for a file without pictures.
    ``max_seconds`` stops decoding after that much sound.

    A file that is not media at all raises the same :class:`MediaError` as the video
    readers (it came from the user); a damaged audio track is not the user's problem
    here: what decoded before the damage is kept, and nothing decoded means None.
    """
    import av

    from dance_analysis.video.container import open_input

    with open_input(path) as container:
        audio_streams = list(container.streams.audio)
        if not audio_streams:
            return None
        stream = audio_streams[0]
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all  # do not even read their data
        if video_start_s is None:
            video_start_s = _declared_video_start(container)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[NDArray[np.float32]] = []
        first_time: float | None = None
        decoded = 0
        limit = None if max_seconds is None else int(max_seconds * rate)
        try:
            for frame in container.decode(stream):
                if first_time is None and frame.time is not None:
                    first_time = float(frame.time)
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    chunks.append(chunk)
                    decoded += chunk.size
                if limit is not None and decoded >= limit:
                    break
            else:
                for out in resampler.resample(None):  # the resampler's tail
                    chunks.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        except (av.FFmpegError, ValueError):
            pass  # keep what decoded before the damage
    if not chunks:
        return None
    samples = np.concatenate(chunks)
    if limit is not None:
        samples = samples[:limit]
    if samples.size == 0:
        return None
    np.clip(samples, -1.0, 1.0, out=samples)
    start = (first_time if first_time is not None else 0.0) - video_start_s
    return Audio(samples=samples, rate=rate, start_s=start)


def _declared_video_start(container: InputContainer) -> float:
    """The first video stream's start time from the headers, in seconds (0 if none)."""
    for stream in container.streams.video:
        if stream.start_time is not None and stream.time_base is not None:
            return float(stream.start_time * stream.time_base)
    return 0.0
