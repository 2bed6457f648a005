"""One clip from file to published artifacts: read → estimate → clean → measure → render → write.

Three threads share the work so the model never waits: a reader decodes frames ahead
on a background thread, the caller's thread runs pose estimation (MediaPipe's graph
releases the GIL while it works), and a renderer draws each frame and feeds the H.264
encoder on another background thread. Bounded channels between them keep at most a
few frames in memory, however long the clip.

Everything is written into a hidden staging folder inside the output folder and moved
into place at the end, ``result.json`` last, so the output folder never holds a
half-written result. Progress and cancellation go through a small :class:`Progress`
object, so the pipeline knows nothing of terminals, Qt or HTTP.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from dance_analysis import __version__
from dance_analysis.analysis import AnalysisOptions, analyze_series
from dance_analysis.analysis.angles import JOINT_ANGLES
from dance_analysis.artifacts import (
    ARTIFACT_NAMES,
    SCHEMA_VERSION,
    write_angles_csv,
    write_coco17,
    write_landmarks_csv,
    write_result,
)
from dance_analysis.errors import CanceledError, OutputError, Reason
from dance_analysis.pose import PoseEstimator, PoseObservation, create_estimator
from dance_analysis.skeleton import BLAZEPOSE_33
from dance_analysis.video.probe import VideoInfo, VideoLimits, probe
from dance_analysis.video.reader import Frame, read_frames

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
_QUEUE_FRAMES = 8  # per channel; ~2.7 MB each at 720p, so memory stays flat
_POLL_S = 0.1  # how often a blocked thread looks whether the other side gave up
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


@dataclass(frozen=True)
class PipelineOptions:
    backend: str = "mediapipe"
    model_complexity: int = 1
    limits: VideoLimits = field(default_factory=VideoLimits)
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    overlay: bool = True
    overlay_crf: int = 23
    overlay_preset: str = "veryfast"


class Progress(Protocol):
    """What the pipeline tells its caller, and how the caller can stop it."""

    def on_stage(self, stage: str) -> None: ...

    def on_frames(self, done: int, total: int) -> None: ...

    def should_cancel(self) -> bool: ...


class NullProgress:
    def on_stage(self, stage: str) -> None:
        pass

    def on_frames(self, done: int, total: int) -> None:
        pass

    def should_cancel(self) -> bool:
        return False


@dataclass(frozen=True)
class AnalysisOutcome:
    out_dir: Path
    artifacts: dict[str, Path]
    frame_count: int
    frames_with_person: int
    feedback_count: int
    warnings: list[dict[str, Any]]
    elapsed_s: float


# --- threads and channels -------------------------------------------------------------

T = TypeVar("T")


class _Closed(Exception):
    """The other side of a channel stopped."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException


_END = object()


class _Channel(Generic[T]):
    """A bounded hand-off between two threads that either side can shut."""

    def __init__(self, maxsize: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize)
        self._closed = threading.Event()

    def put(self, item: object) -> None:
        while True:
            if self._closed.is_set():
                raise _Closed
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def get(self) -> object:
        while True:
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self._closed.is_set():
                    raise _Closed from None

    def close(self) -> None:
        self._closed.set()

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]


def _start_producer(
    name: str, produce: Callable[[], Iterator[T]]
) -> tuple[_Channel[T], threading.Thread]:
    """Run ``produce`` on a thread, its items arriving through a bounded channel."""
    channel: _Channel[T] = _Channel(_QUEUE_FRAMES)

    def run() -> None:
        items = produce()
        try:
            for item in items:
                channel.put(item)
            channel.put(_END)
        except _Closed:
            pass
        except BaseException as error:  # handed to the consumer, who raises it
            with contextlib.suppress(_Closed):
                channel.put(_Failure(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return channel, thread


class _Renderer:
    """Draws poses on frames and encodes them, on its own thread."""

    def __init__(self, path: Path, info: VideoInfo, options: PipelineOptions) -> None:
        from dance_analysis.video.writer import VideoWriter

        self._writer = VideoWriter(
            path,
            width=info.width,
            height=info.height,
            time_base=info.time_base,
            crf=options.overlay_crf,
            preset=options.overlay_preset,
        )
        self._visibility_min = options.analysis.visibility_min
        self.channel: _Channel[tuple[Frame, PoseObservation | None]] = _Channel(_QUEUE_FRAMES)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="overlay-renderer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from dance_analysis.render import draw_pose

        try:
            for frame, pose in self.channel:
                if pose is not None:
                    draw_pose(
                        frame.image, pose.landmarks, pose.world, visibility_min=self._visibility_min
                    )
                self._writer.write(frame.image, frame.pts)
        except _Closed:
            pass
        except BaseException as error:
            self.error = error
        finally:
            self.channel.close()
            self._writer.close()

    def submit(self, frame: Frame, pose: PoseObservation | None) -> None:
        try:
            self.channel.put((frame, pose))
        except _Closed:
            raise self.error or RuntimeError("overlay renderer stopped") from None

    def finish(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(_Closed):
                self.channel.put(_END)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        self.channel.close()
        self._thread.join()


# --- the pipeline ---------------------------------------------------------------------


@dataclass
class _Track:
    """Per-frame model output, gathered as frames arrive."""

    t_ms: list[float] = field(default_factory=list)
    landmarks: list[FloatArray | None] = field(default_factory=list)
    world: list[FloatArray | None] = field(default_factory=list)

    def add(self, frame: Frame, pose: PoseObservation | None) -> None:
        self.t_ms.append(frame.t_ms)
        self.landmarks.append(None if pose is None else pose.landmarks)
        self.world.append(None if pose is None else pose.world)

    @staticmethod
    def _stack(rows: list[FloatArray | None]) -> FloatArray:
        out = np.full((len(rows), len(BLAZEPOSE_33.joints), 4), np.nan)
        for i, row in enumerate(rows):
            if row is not None:
                out[i] = row
        return out

    def arrays(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        return (
            np.asarray(self.t_ms, dtype=np.float64),
            self._stack(self.landmarks),
            self._stack(self.world),
        )


def _estimate(
    info: VideoInfo,
    estimator: PoseEstimator,
    renderer: _Renderer | None,
    limits: VideoLimits,
    progress: Progress,
) -> _Track:
    track = _Track()
    frames, reader = _start_producer("frame-reader", lambda: read_frames(info, limits))
    try:
        for frame in frames:
            if progress.should_cancel():
                raise CanceledError()
            pose = estimator.estimate(frame.image, frame.t_ms)
            track.add(frame, pose)
            if renderer is not None:
                renderer.submit(frame, pose)
            done = len(track.t_ms)
            # The container's count can be wrong; progress must never pass 100 %.
            progress.on_frames(done, max(info.frame_count, done))
    finally:
        frames.close()
        reader.join()
    return track


def _pin_malloc_mmap_threshold() -> None:
    """Keep glibc from hoarding freed frames, so memory stays flat (Linux only).

    Frames (2.7 MB at 720p) are allocated on the reader thread and freed on the
    renderer's. glibc raises its mmap threshold after the first such free, so later
    frames come from per-thread heaps that return memory late: measured here, RSS
    swung between 650 MB and 1.5 GB over a 60 s clip. A fixed threshold of 1 MiB
    (which also turns the dynamic adjustment off) kept it at 610 MB throughout.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):  # musl and other libcs: nothing to tune
        log.debug("mallopt unavailable; leaving the allocator as it is")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    import av

    return {
        "dance_analysis": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "av": str(av.__version__),
    }


def _header(
    info: VideoInfo,
    sha256: str,
    estimator: PoseEstimator,
    options: PipelineOptions,
    series: Any,
    frame_count: int,
    artifacts: list[str],
) -> dict[str, Any]:
    from dance_analysis.artifacts import json_ready
    from dance_analysis.pose.devices import detect_device

    video = info.to_dict()
    video.update(
        name=info.path.name, sha256=sha256, frame_count=frame_count,
        header_frame_count=info.header_frame_count, probed_frame_count=info.frame_count,
    )  # fmt: skip
    model = estimator.info.to_dict()
    model["versions"] = {**_library_versions(), **dict(estimator.info.versions)}
    model["accelerator"] = detect_device().to_dict()
    analysis = series.to_dict()
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "dance-analysis", "version": __version__},
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "video": video,
        "model": model,
        "skeleton": BLAZEPOSE_33.to_dict(),
        "options": {
            "cutoff_hz": options.analysis.cutoff_hz,
            "max_gap_s": options.analysis.max_gap_s,
            "visibility_min": options.analysis.visibility_min,
        },
        "coverage": analysis.pop("coverage"),
        "angles": {
            "definitions": {name: list(joints) for name, joints in JOINT_ANGLES.items()}
            | {"trunk": ["mid_hip", "mid_shoulder", "vertical"]},
            "unit": "degrees",
            "summary": analysis["angles"],
            "series": {name: json_ready(values, 3) for name, values in series.angles.items()},
        },
        "metrics": analysis["metrics"],
        "feedback": analysis["feedback"],
        "warnings": analysis["warnings"],
        "artifacts": {key: ARTIFACT_NAMES[key] for key in artifacts},
    }


def _publish(staging: Path, out_dir: Path, names: list[str]) -> dict[str, Path]:
    """Move finished files into ``out_dir``; result.json last, as the commit mark."""
    result_name = ARTIFACT_NAMES["result"]
    (out_dir / result_name).unlink(missing_ok=True)  # an old result must not describe new files
    published = {}
    for key in sorted(names, key=lambda k: k == "result"):
        target = out_dir / ARTIFACT_NAMES[key]
        os.replace(staging / ARTIFACT_NAMES[key], target)
        published[key] = target
    return published


def analyze_clip(
    clip: str | Path,
    out_dir: str | Path,
    options: PipelineOptions | None = None,
    progress: Progress | None = None,
) -> AnalysisOutcome:
    """Analyse ``clip`` and publish its artifacts into ``out_dir``.

    Raises :class:`MediaError` for a clip it refuses, :class:`OutputError` when the
    results cannot be written, :class:`CanceledError` when ``progress`` asks to stop.
    """
    options = options or PipelineOptions()
    progress = progress or NullProgress()
    clip, out_dir = Path(clip), Path(out_dir)
    started = time.perf_counter()

    _pin_malloc_mmap_threshold()
    progress.on_stage("probe")
    info = probe(clip, options.limits)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=out_dir))
    except OSError as error:
        raise OutputError(
            Reason.OUTPUT_NOT_WRITABLE, f"Cannot write results to {out_dir}: {error.strerror}."
        ) from error

    try:
        with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
            sha256 = pool.submit(sha256_file, clip)  # overlaps with the model's first frames
            progress.on_stage("pose")
            estimator = create_estimator(options.backend, model_complexity=options.model_complexity)
            video_only = staging / "overlay.video-only.mp4"
            renderer = _Renderer(video_only, info, options) if options.overlay else None
            try:
                track = _estimate(info, estimator, renderer, options.limits, progress)
                if renderer is not None:
                    renderer.finish()
            except BaseException:
                if renderer is not None:
                    renderer.abort()
                raise
            finally:
                estimator.close()

            progress.on_stage("measure")
            t_ms, landmarks, world = track.arrays()
            series = analyze_series(
                t_ms,
                landmarks,
                world,
                width=info.width,
                height=info.height,
                options=options.analysis,
            )

            progress.on_stage("write")
            names = ["landmarks_csv", "angles_csv", "coco17"]
            write_landmarks_csv(
                staging / ARTIFACT_NAMES["landmarks_csv"],
                t_ms,
                landmarks,
                world,
                series.clean_landmarks,
            )
            write_angles_csv(staging / ARTIFACT_NAMES["angles_csv"], t_ms, series.angles)
            write_coco17(
                staging / ARTIFACT_NAMES["coco17"],
                t_ms,
                landmarks,
                width=info.width,
                height=info.height,
            )
            if renderer is not None:
                from dance_analysis.video.writer import finalize_mp4

                finalize_mp4(
                    video_only,
                    staging / ARTIFACT_NAMES["overlay"],
                    audio_source=clip if info.has_audio else None,
                )
                names.append("overlay")
            names.append("result")
            header = _header(info, sha256.result(), estimator, options, series, len(t_ms), names)
            write_result(
                staging / ARTIFACT_NAMES["result"],
                header,
                t_ms,
                landmarks,
                world,
                series.clean_landmarks,
            )
            published = _publish(staging, out_dir, names)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise OutputError(
                Reason.INSUFFICIENT_STORAGE, "The disk is full: free some space and try again."
            ) from error
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    found = int((~np.isnan(landmarks[:, :, 0]).all(axis=1)).sum())
    return AnalysisOutcome(
        out_dir=out_dir,
        artifacts=published,
        frame_count=len(t_ms),
        frames_with_person=found,
        feedback_count=len(series.feedback),
        warnings=list(series.warnings),
        elapsed_s=time.perf_counter() - started,
    )
