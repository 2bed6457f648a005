"""Every person's pose through a whole clip, the clip cut into segments tracked at once.

This is how a GPU is kept busy: one picture at a time leaves it idle between tiny
batches, so the clip is cut at keyframes (:mod:`dance_analysis.video.segments`) into
segments that decode side by side on CPU threads, each tracked by its own
:class:`~dance_analysis.pose.blazepose.tracker.MultiPoseTracker` seeded by the detector,
and every step sends all the segments' crops to the network as one batch
(:func:`~dance_analysis.pose.blazepose.tracker.run_lockstep`). Several clips batch the
same way: their segments simply join the lock-step. The segments' ids are joined at
the cuts afterwards (:mod:`dance_analysis.pose.stitch`).

Decoding threads, not processes: PyAV and OpenCV release the GIL while they decode
and convert, and the pictures then need no copy between processes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dance_analysis.errors import CanceledError
from dance_analysis.pose.base import PersonPose
from dance_analysis.pose.blazepose.networks import PoseNetworks
from dance_analysis.pose.blazepose.tracker import MultiPoseTracker, run_lockstep
from dance_analysis.pose.stitch import stitch_segments
from dance_analysis.video.probe import DEFAULT_LIMITS, VideoInfo, VideoLimits
from dance_analysis.video.reader import Frame, read_frames
from dance_analysis.video.segments import Segment, plan_segments, read_segment

#: Pictures each decoding thread may hold ready (bounds memory: 2.7 MB each at 720p).
READ_AHEAD = 4
#: A segment shorter than this is not worth its detector start and its fresh smoothing.
MIN_SEGMENT_FRAMES = 16


@dataclass(frozen=True)
class ClipPoses:
    """One clip's frames in order: their times and the people in each, ids joined."""

    t_ms: list[float]
    people: list[list[PersonPose]]
    segments: int  # how many segments were tracked at once


@dataclass(frozen=True)
class ClipJob:
    """A clip to track and how many segments to cut it into."""

    info: VideoInfo
    segments: int = 1
    limits: VideoLimits = DEFAULT_LIMITS
    min_segment_frames: int = MIN_SEGMENT_FRAMES


def track_clips(
    jobs: Sequence[ClipJob],
    networks: PoseNetworks,
    *,
    make_tracker: Callable[[], MultiPoseTracker] = MultiPoseTracker,
    on_frames: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> list[ClipPoses]:
    """Track several clips together: every segment of every clip in one lock-step.

    ``on_frames(n)`` is told how many pictures have been tracked so far (all clips);
    ``should_cancel()`` is asked every step and stops the work with
    :class:`CanceledError`.
    """
    plans = [_plan(job) for job in jobs]
    readers = [
        _Reader(job, segment) for job, plan in zip(jobs, plans, strict=True) for segment in plan
    ]
    trackers = [make_tracker() for _ in readers]
    results: list[list[tuple[float, list[PersonPose]]]] = [[] for _ in readers]
    done = 0
    try:
        for reader in readers:
            reader.start()
        live = list(range(len(readers)))
        while live:
            if should_cancel is not None and should_cancel():
                raise CanceledError()
            pulled = [(i, readers[i].next()) for i in live]
            ready = [(i, frame) for i, frame in pulled if frame is not None]
            live = [i for i, _ in ready]
            if not live:
                break
            stepped = run_lockstep(
                [trackers[i] for i in live],
                [frame.image for _, frame in ready],
                [frame.t_ms for _, frame in ready],
                networks,
            )
            # The pictures are not kept: their times and people are all that is needed.
            for (i, frame), people in zip(ready, stepped, strict=True):
                results[i].append((frame.t_ms, people))
            done += len(live)
            if on_frames is not None:
                on_frames(done)
    finally:
        for reader in readers:
            reader.stop()

    out: list[ClipPoses] = []
    first = 0
    for plan in plans:
        pieces = results[first : first + len(plan)]
        first += len(plan)
        times = [t_ms for piece in pieces for t_ms, _ in piece]
        joined = stitch_segments([[people for _, people in piece] for piece in pieces])
        out.append(ClipPoses(times, joined, len(plan)))
    return out


def track_clip(job: ClipJob, networks: PoseNetworks, **kwargs: Any) -> ClipPoses:
    """One clip, cut into up to ``job.segments`` pieces tracked at once."""
    return track_clips([job], networks, **kwargs)[0]


def _plan(job: ClipJob) -> list[Segment | None]:
    """The clip's segments; ``[None]``: read it in one sequential pass."""
    if job.segments <= 1:
        return [None]
    planned = plan_segments(job.info, job.segments, min_frames=job.min_segment_frames)
    return list(planned) if len(planned) > 1 else [None]


class _Reader:
    """Decodes one segment on its own thread, a few pictures ahead of the tracker."""

    _END = object()

    def __init__(self, job: ClipJob, segment: Segment | None) -> None:
        self._job = job
        self._segment = segment
        self._queue: queue.Queue[object] = queue.Queue(maxsize=READ_AHEAD)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="segment-decoder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def next(self) -> Frame | None:
        item = self._queue.get()
        if item is self._END:
            return None
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, Frame)
        return item

    def stop(self) -> None:
        self._stopping.set()
        while self._thread.is_alive():  # unblock a decoder waiting on a full queue
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _frames(self) -> Iterator[Frame]:
        if self._segment is None:
            return read_frames(self._job.info, self._job.limits)
        return read_segment(self._job.info, self._segment, self._job.limits)

    def _run(self) -> None:
        try:
            for frame in self._frames():
                if self._stopping.is_set():
                    return
                self._queue.put(frame)
            self._queue.put(self._END)
        except BaseException as error:  # handed to the tracking thread, raised there
            self._queue.put(error)
