"""H.264 MP4 output that browsers and phones play, timed exactly like the source.

:class:`VideoWriter` encodes RGB frames with the timestamps the reader gave them, in
the source's time base, so the overlay has the same frames at the same moments even
for variable-frame-rate phone clips. :func:`finalize_mp4` then adds the source's
sound without touching the video and moves the index to the front.
"""

from __future__ import annotations

import errno
import heapq
import math
from collections.abc import Iterator
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import cast

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from dance_analysis.errors import OutputError, Reason
from dance_analysis.video.container import open_input, pick_video_stream

# Audio codecs copied as they are: MP4 holds them and browsers and phones play
# them there. Anything else (PCM from a camera, ALAC, FLAC, Vorbis, AC-3, …) is
# re-encoded to AAC: ALAC and FLAC in MP4 are legal, but Chrome and Android stay silent.
_COPY_AUDIO_CODECS = frozenset({"aac", "mp3", "opus"})
_AAC_SAMPLE_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 8000)


class VideoWriter:
    """H.264 (libx264, yuv420p) MP4 of RGB frames with exact timestamps.

    ``time_base`` is the source stream's (``VideoInfo.time_base``) and ``pts`` values
    are the reader's, so nothing is rounded to a nominal frame rate. Odd widths or
    heights are cropped by one pixel: 4:2:0 chroma needs even sizes.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        width: int,
        height: int,
        time_base: Fraction,
        crf: int = 23,
        preset: str = "veryfast",
        threads: int = 1,
    ) -> None:
        if width < 2 or height < 2:
            raise ValueError(f"frame size {width}x{height} is too small to encode")
        self._path = Path(path)
        self._input_shape = (height, width, 3)
        self._width, self._height = width - width % 2, height - height % 2
        self._time_base = Fraction(time_base)
        self._pending: av.VideoFrame | None = None
        self._pending_pts: int | None = None
        self._durations: dict[int, int] = {}
        self._last_duration = 0
        self._closed = False
        self._container: OutputContainer = _open_output(self._path, {})
        stream = self._container.add_stream("libx264", options={"crf": str(crf), "preset": preset})
        stream.width, stream.height = self._width, self._height
        stream.pix_fmt = "yuv420p"
        stream.time_base = self._time_base
        stream.codec_context.time_base = self._time_base
        stream.codec_context.thread_count = threads
        self._stream: VideoStream = stream

    def write(self, image: np.ndarray, pts: int) -> None:
        """Encode ``image`` ((height, width, 3) uint8 RGB) shown at ``pts`` (in time_base)."""
        if self._closed:
            raise ValueError("write() after close()")
        if image.shape != self._input_shape or image.dtype != np.uint8:
            raise ValueError(
                f"expected a {self._input_shape} uint8 image, got {image.shape} {image.dtype}"
            )
        if self._pending_pts is not None and pts <= self._pending_pts:
            raise ValueError(f"pts must increase: {pts} after {self._pending_pts}")
        rgb = image[: self._height, : self._width]
        # OpenCV's SIMD conversion costs ~0.5 ms at 720p where PyAV's swscale path
        # costs ~4.4 ms on the encoder's thread (measured): the difference is what
        # lets the overlay keep up with the model on a 2-core machine.
        planes = cast("npt.NDArray[np.uint8]", cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420))
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = pts
        frame.time_base = self._time_base
        # Each frame is encoded once the next one arrives, so that its packet can
        # carry the real duration: the MP4 muxer needs it for the last picture, and
        # a variable-frame-rate clip has no single "frame duration" to assume.
        if self._pending_pts is not None:
            self._encode_pending(duration=pts - self._pending_pts)
        self._pending, self._pending_pts = frame, pts

    def close(self) -> None:
        """Flush the encoder and finish the file. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._pending_pts is not None:
                # Nothing follows the last picture: assume it lasts as long as the one
                # before it, which is what a constant-frame-rate source had.
                self._encode_pending(duration=self._last_duration)
            self._mux(self._stream.encode(None))
        finally:
            try:
                self._container.close()
            except OSError as exc:
                raise _output_error(self._path, exc) from exc

    def _encode_pending(self, duration: int) -> None:
        assert self._pending is not None and self._pending_pts is not None
        # libx264 does not pass frame durations through to its packets; the packets
        # keep the frames' pts (in our time base), so the duration is found by pts.
        self._durations[self._pending_pts] = duration
        self._last_duration = duration
        self._mux(self._stream.encode(self._pending))
        self._pending = self._pending_pts = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            if packet.pts is not None:
                packet.duration = self._durations.pop(packet.pts, 0)
        try:
            self._container.mux(packets)
        except OSError as exc:
            raise _output_error(self._path, exc) from exc


def finalize_mp4(
    video_path: str | Path, out_path: str | Path, *, audio_source: str | Path | None
) -> None:
    """Remux ``video_path`` into ``out_path`` with the index in front (``+faststart``).

    The video is copied, not re-encoded. With ``audio_source`` (normally the
    original upload) its first audio stream is added, shifted by the same amount
    the reader shifted the video (the source's first video timestamp becomes 0) and
    cut at the end of the video; copied when MP4 players handle the codec,
    re-encoded to AAC otherwise. A source without audio gives a silent file.
    """
    video_path, out_path = Path(video_path), Path(out_path)
    with ExitStack() as stack:
        video_in = stack.enter_context(open_input(video_path))
        audio_in = (
            None if audio_source is None else stack.enter_context(open_input(Path(audio_source)))
        )
        output = _open_output(out_path, {"movflags": "+faststart"})
        stack.callback(output.close)

        video = pick_video_stream(video_path, video_in)
        video_out = output.add_stream_from_template(video)
        sources = [_copied(video_in, video, video_out, offset_s=0.0, end_s=math.inf)]
        audio = None if audio_in is None else _first_audio(audio_in)
        if audio_in is not None and audio is not None:
            # The reader made the source's first video timestamp 0; move the sound with it.
            offset_s = _first_video_time_s(audio_in)
            end_s = _duration_s(video)
            if audio.codec_context.codec.canonical_name in _COPY_AUDIO_CODECS:
                audio_out = output.add_stream_from_template(audio)
                sources.append(_copied(audio_in, audio, audio_out, offset_s, end_s))
            else:
                sources.append(_as_aac(audio_in, audio, output, offset_s, end_s))
        try:
            # Interleaved by time, so a player that downloads progressively has the
            # sound of a moment together with its pictures.
            for packet in heapq.merge(*sources, key=_dts_s):
                output.mux(packet)
        except OSError as exc:
            raise _output_error(out_path, exc) from exc


def _first_audio(source: InputContainer) -> AudioStream | None:
    return next((s for s in source.streams.audio if s.codec_context is not None), None)


def _first_video_time_s(source: InputContainer) -> float:
    videos = [s for s in source.streams.video if not s.disposition & Disposition.attached_pic]
    if not videos or videos[0].start_time is None or videos[0].time_base is None:
        return 0.0
    return float(videos[0].start_time * videos[0].time_base)


def _duration_s(stream: VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return math.inf


def _dts_s(packet: av.Packet) -> Fraction:
    assert packet.dts is not None and packet.time_base is not None
    return packet.dts * packet.time_base


def _copied(
    source: InputContainer,
    stream: VideoStream | AudioStream,
    target: VideoStream | AudioStream,
    offset_s: float,
    end_s: float,
) -> Iterator[av.Packet]:
    """The packets of ``stream``, moved ``offset_s`` earlier, up to ``end_s``."""
    time_base = stream.time_base
    assert time_base is not None
    shift = round(offset_s / time_base)
    for packet in source.demux(stream):
        if packet.dts is None or packet.pts is None:
            continue  # end-of-stream marker
        start_s = (packet.pts - shift) * time_base
        if start_s >= end_s:
            break
        if start_s + (packet.duration or 0) * time_base <= 0:
            continue  # sound from before the first picture
        packet.pts -= shift
        packet.dts -= shift
        packet.stream = target
        yield packet


def _as_aac(
    source: InputContainer,
    audio: AudioStream,
    output: OutputContainer,
    offset_s: float,
    end_s: float,
) -> Iterator[av.Packet]:
    """Decode ``audio``, re-encode it as AAC in a new stream of ``output``.

    The stream is added now, before the caller writes anything; the packets come
    lazily.
    """
    rate = audio.codec_context.sample_rate
    rate = rate if rate in _AAC_SAMPLE_RATES else 48000
    layout = "mono" if audio.codec_context.layout.nb_channels == 1 else "stereo"
    # PyAV's encoder resamples and re-frames (1024 samples) what it is given.
    target = output.add_stream("aac", rate=rate, layout=layout)

    def packets() -> Iterator[av.Packet]:
        for frame in source.decode(audio):
            if frame.pts is None or frame.time_base is None:
                continue
            start_s = float(frame.pts * frame.time_base) - offset_s
            if start_s >= end_s:
                break
            if start_s + frame.samples / frame.sample_rate <= 0:
                continue  # sound from before the first picture
            frame.time_base = Fraction(1, frame.sample_rate)
            frame.pts = round(start_s * frame.sample_rate)
            yield from target.encode(frame)
        yield from target.encode(None)

    return packets()


def _open_output(path: Path, options: dict[str, str]) -> OutputContainer:
    try:
        # FFmpeg opens the file only when the first packet is written; fail here,
        # with a clear reason, rather than in the middle of an analysis.
        with path.open("wb"):
            pass
        return av.open(str(path), mode="w", format="mp4", options=options)
    except OSError as exc:
        raise _output_error(path, exc) from exc


def _output_error(path: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(
            Reason.INSUFFICIENT_STORAGE,
            f"The disk is full: “{path.name}” could not be written. Free some space and retry.",
        )
    return OutputError(
        Reason.OUTPUT_NOT_WRITABLE,
        f"“{path.name}” could not be written to “{path.parent.name}”. Check that the folder "
        "exists and that the app may write there.",
    )
