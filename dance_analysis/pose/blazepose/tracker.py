"""Tracking every person in a clip with the two BlazePose networks.

Sans-IO: :meth:`MultiPoseTracker.step` is a generator that yields the network work it
needs (a :class:`DetectRequest`, then a :class:`LandmarkRequest`) and is sent the
outputs back, returning the people of the frame. It never runs a network itself, so a
driver can gather the requests of many trackers (a clip's segments, several clips)
into one batch: :func:`run_lockstep`. :func:`run_step` drives one tracker.

Per frame: every live person's region comes from their previous landmarks (as in
MediaPipe's pose solution); the detector runs on the first frame, while nobody is
tracked, on every frame within ``reid_ms`` after someone was lost (they may be back),
and every ``detect_every`` frames to find newcomers.
A detection over a live person's region is that person. A newcomer near where someone
was lost a moment ago, in a similar pose, is that person again and gets their id.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from dance_analysis.pose.base import PersonPose, PoseObservation
from dance_analysis.pose.blazepose import detection as det
from dance_analysis.pose.blazepose import landmarks as lm
from dance_analysis.pose.blazepose.networks import (
    Detections,
    FloatArray,
    LandmarkOutputs,
    PoseNetworks,
)
from dance_analysis.pose.blazepose.roi import Rect, alignment_rect, crop, roi_from_points
from dance_analysis.pose.blazepose.smoothing import PoseSmoother

F64 = npt.NDArray[np.float64]

SAME_REGION_IOU = 0.4  # a detection this much over a live person's region is them
MERGE_IOU = 0.7  # two people whose landmark boxes overlap this much are one
REID_IOU = 0.3  # a newcomer must overlap where the lost person was ...
REID_POSE = 0.5  # ... and stand alike (mean joint distance in torso lengths)


@dataclass(frozen=True)
class DetectRequest:
    images: FloatArray  # (N, 224, 224, 3) in [-1, 1]


@dataclass(frozen=True)
class LandmarkRequest:
    crops: FloatArray  # (N, 256, 256, 3) in [0, 1]


Request: TypeAlias = DetectRequest | LandmarkRequest
Output: TypeAlias = Detections | LandmarkOutputs
Step: TypeAlias = Generator[Request, Output, list[PersonPose]]


class Tracker(Protocol):
    def step(self, image: npt.NDArray[np.uint8], t_ms: float) -> Step: ...


@dataclass
class _Track:
    id: int  # 0 until the person is confirmed by the landmark network
    rect: Rect  # where to look in this frame
    smoother: PoseSmoother = field(default_factory=PoseSmoother)
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    pose: F64 | None = None  # last (33, 2) landmarks in pixels
    lost_ms: float = 0.0


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def pose_distance(a: F64, b: F64) -> float:
    """Mean joint distance of two (33, 2) poses in torso lengths, each centred on its
    hips: how alike two people stand, wherever they are."""

    def normalised(p: F64) -> F64:
        hips = p[[23, 24]].mean(0)
        torso = float(np.linalg.norm(p[[11, 12]].mean(0) - hips)) or 1.0
        return (p - hips) / torso

    return float(np.linalg.norm(normalised(a) - normalised(b), axis=1).mean())


class MultiPoseTracker:
    """Every person in one clip, each with a stable id (1, 2, ... by first appearance).

    ``smoothing_fps``: the clock the landmark smoothing sees, one frame every
    1/fps s whatever the clip's real timing (None: the real timestamps). Re-finding a
    lost person always uses the real timestamps.
    """

    def __init__(
        self,
        *,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        detect_every: int = 15,
        reid_ms: float = 1000.0,
        smoothing_fps: float | None = 30.0,
    ) -> None:
        self.min_detection = min_detection_confidence
        self.min_tracking = min_tracking_confidence
        self.detect_every = detect_every
        self.reid_ms = reid_ms
        self.smoothing_fps = smoothing_fps
        self._live: list[_Track] = []
        self._lost: list[_Track] = []
        self._next_id = 1
        self._frame = 0
        self._last_detect = 0

    def step(self, image: npt.NDArray[np.uint8], t_ms: float) -> Step:
        """One upright RGB frame shown at ``t_ms``: yields at most one detector request
        and one landmark request (send each its outputs), returns the people by id."""
        height, width = image.shape[:2]
        self._frame += 1
        t_us = (
            round(self._frame * round(1e6 / self.smoothing_fps))
            if self.smoothing_fps
            else round(t_ms * 1000)
        )
        self._lost = [t for t in self._lost if t_ms - t.lost_ms <= self.reid_ms]

        newcomers: list[_Track] = []
        if (
            not self._live
            or self._lost  # someone lost a moment ago may be back
            or self._frame == 1
            or self._frame - self._last_detect >= self.detect_every
        ):
            self._last_detect = self._frame
            tensor, box = det.detector_input(image)
            out = yield DetectRequest(tensor[None])
            assert isinstance(out, Detections)
            found = det.detections(out.boxes[0], out.scores[0], box, self.min_detection)
            for person in found:
                rect = roi_from_points(person.keypoints[0], person.keypoints[1], width, height)
                taken = [t.rect.bounds() for t in (*self._live, *newcomers)]
                if all(iou(rect.bounds(), b) < SAME_REGION_IOU for b in taken):
                    newcomers.append(_Track(id=0, rect=rect))

        tracks = [*self._live, *newcomers]
        if not tracks:
            return []
        crops = np.stack([crop(image, t.rect) for t in tracks])
        out = yield LandmarkRequest(crops)
        assert isinstance(out, LandmarkOutputs)

        people: list[tuple[_Track, PersonPose]] = []
        for i, track in enumerate(tracks):
            flag = float(out.flag[i, 0])
            if flag < self.min_tracking:
                if track.id:
                    track.lost_ms = t_ms
                    track.smoother.reset()
                    self._lost.append(track)
                continue
            people.append((track, self._update(track, out, i, t_us, flag, width, height)))

        people = self._merge(people)
        for track, _ in people:
            if not track.id:
                track.id = self._reidentify(track) or self._new_id()
        self._live = [track for track, _ in people]
        return sorted(
            (PersonPose(id=track.id, pose=p.pose, box=p.box, score=p.score) for track, p in people),
            key=lambda p: p.id,
        )

    def _update(
        self,
        track: _Track,
        out: LandmarkOutputs,
        i: int,
        t_us: int,
        flag: float,
        width: int,
        height: int,
    ) -> PersonPose:
        raw = lm.refine(lm.crop_landmarks(out.landmarks[i]), out.heatmap[i])
        frame = lm.project(raw, track.rect)
        world = lm.world(out.world[i], track.rect)
        # The person's size for the smoothing: the unsmoothed auxiliary points' square.
        size = alignment_rect(frame[33, :2], frame[34, :2], width, height)
        scale = (size.w * width + size.h * height) / 2.0
        landmarks, aux, world_s = track.smoother.apply(
            t_us, frame[:33, :4], frame[33:35, :3], world[:33], scale, width, height
        )
        track.rect = roi_from_points(aux[0], aux[1], width, height)
        xy = landmarks[:, :2]
        track.box = (
            float(xy[:, 0].min()),
            float(xy[:, 1].min()),
            float(xy[:, 0].max()),
            float(xy[:, 1].max()),
        )
        track.pose = xy * (width, height)
        return PersonPose(
            id=track.id,
            pose=PoseObservation(landmarks=landmarks, world=world_s),
            box=track.box,
            score=flag,
        )

    def _merge(self, people: list[tuple[_Track, PersonPose]]) -> list[tuple[_Track, PersonPose]]:
        """Two tracks that have converged onto one person: keep the older."""
        # Confirmed tracks first, by id; newcomers (id 0) last.
        order = sorted(people, key=lambda tp: (tp[0].id == 0, tp[0].id))
        kept: list[tuple[_Track, PersonPose]] = []
        for track, person in order:
            if all(iou(track.box, other.box) < MERGE_IOU for other, _ in kept):
                kept.append((track, person))
        return kept

    def _reidentify(self, track: _Track) -> int:
        """The id of a person lost a moment ago where ``track`` appeared, standing as
        they did; 0 when nobody fits."""
        assert track.pose is not None
        best, best_distance = None, REID_POSE
        for lost in self._lost:
            if lost.pose is None or iou(track.box, lost.box) < REID_IOU:
                continue
            distance = pose_distance(track.pose, lost.pose)
            if distance < best_distance:
                best, best_distance = lost, distance
        if best is None:
            return 0
        self._lost.remove(best)
        return best.id

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1


def _run(networks: PoseNetworks, request: Request) -> Output:
    if isinstance(request, DetectRequest):
        return networks.detect(request.images)
    return networks.landmarks(request.crops)


def run_step(
    tracker: Tracker, networks: PoseNetworks, image: npt.NDArray[np.uint8], t_ms: float
) -> list[PersonPose]:
    """One frame of one tracker, its network work run as it asks."""
    step = tracker.step(image, t_ms)
    try:
        request = next(step)
        while True:
            request = step.send(_run(networks, request))
    except StopIteration as done:
        result: list[PersonPose] = done.value
        return result


def _split(output: Output, sizes: list[int]) -> list[Output]:
    bounds = np.cumsum([0, *sizes])
    parts: list[Output] = []
    for a, b in pairwise(bounds.tolist()):
        if isinstance(output, Detections):
            parts.append(Detections(output.boxes[a:b], output.scores[a:b]))
        else:
            parts.append(
                LandmarkOutputs(
                    output.landmarks[a:b], output.flag[a:b], output.heatmap[a:b], output.world[a:b]
                )
            )
    return parts


def run_lockstep(
    trackers: Sequence[Tracker],
    images: Sequence[npt.NDArray[np.uint8]],
    t_ms: Sequence[float],
    networks: PoseNetworks,
) -> list[list[PersonPose]]:
    """One frame for each tracker, with all their detector work in one network call
    and all their landmark work in another: how a GPU sees many segments at once."""
    steps = [t.step(image, ms) for t, image, ms in zip(trackers, images, t_ms, strict=True)]
    results: list[list[PersonPose] | None] = [None] * len(steps)
    pending: dict[int, Request] = {}

    def advance(i: int, output: Output | None) -> None:
        try:
            pending[i] = next(steps[i]) if output is None else steps[i].send(output)
        except StopIteration as done:
            pending.pop(i, None)
            results[i] = done.value

    for i in range(len(steps)):
        advance(i, None)
    while pending:
        # Detection first: the trackers it serves then join this round's landmark call.
        kind: type = (
            DetectRequest
            if any(isinstance(r, DetectRequest) for r in pending.values())
            else LandmarkRequest
        )
        waiting = [i for i, r in pending.items() if isinstance(r, kind)]
        inputs = [
            r.images if isinstance(r, DetectRequest) else r.crops
            for r in (pending[i] for i in waiting)
        ]
        batch = np.concatenate(inputs)
        request: Request = DetectRequest(batch) if kind is DetectRequest else LandmarkRequest(batch)
        for i, part in zip(
            waiting, _split(_run(networks, request), [len(x) for x in inputs]), strict=True
        ):
            advance(i, part)
    return [r if r is not None else [] for r in results]
