"""The pose-estimator interface every backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dance_analysis.skeleton import BLAZEPOSE_33, Skeleton


@dataclass(frozen=True)
class PoseObservation:
    """One person's pose in one frame, in the native BlazePose-33 joint order.

    ``landmarks``: (33, 4) ``[x, y, z, visibility]``; x, y normalised 0–1 to the
    displayed frame, z in roughly x's scale (smaller is nearer the camera).
    ``world``: (33, 4) ``[x, y, z, visibility]``, metres, origin between the hips,
    y pointing down.
    """

    landmarks: npt.NDArray[np.float64]
    world: npt.NDArray[np.float64]


@dataclass(frozen=True)
class PersonPose:
    """One person found in one frame, with the id of their track through the clip.

    ``id`` counts from 1 in order of first appearance and stays the same person's for
    the whole clip (a person hidden briefly keeps it). ``box``: normalised
    ``(x0, y0, x1, y1)`` around the person's landmarks in the displayed frame.
    ``score``: how sure the model is that this person is there (0–1).
    """

    id: int
    pose: PoseObservation
    box: tuple[float, float, float, float]
    score: float


@dataclass(frozen=True)
class ModelInfo:
    """What produced the poses; recorded in every result."""

    backend: str
    model: str
    device: str  # where this backend actually runs: "cpu", "cuda", ...
    note: str = ""
    versions: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "model": self.model,
            "device": self.device,
            "note": self.note,
            "versions": dict(self.versions),
        }


def landmark_box(
    landmarks: npt.NDArray[np.float64], visibility_min: float = 0.5
) -> tuple[float, float, float, float]:
    """Normalised ``(x0, y0, x1, y1)`` around a pose's confident joints (all of them when
    none is confident), clipped to the frame: what a backend that finds one person
    reports as that person's box."""
    confident = landmarks[landmarks[:, 3] >= visibility_min]
    points = (confident if len(confident) else landmarks)[:, :2]
    x0, y0 = np.clip(points.min(axis=0), 0.0, 1.0)
    x1, y1 = np.clip(points.max(axis=0), 0.0, 1.0)
    return float(x0), float(y0), float(x1), float(y1)


def one_person(pose: PoseObservation | None) -> list[PersonPose]:
    """A one-person backend's answer to ``estimate_people``: id 1 (the only track it
    has), its box from the landmarks, its score the mean visibility."""
    if pose is None:
        return []
    score = float(np.clip(np.mean(pose.landmarks[:, 3]), 0.0, 1.0))
    return [PersonPose(id=1, pose=pose, box=landmark_box(pose.landmarks), score=score)]


class PoseEstimator(Protocol):
    """Estimates poses frame by frame, tracking people across frames.

    ``estimate_people`` is what the pipeline calls: every person in the frame, each with
    an id that stays theirs for the whole clip. ``estimate`` is the one-dancer view kept
    for callers that need only one pose.
    """

    skeleton: Skeleton
    info: ModelInfo

    def estimate(self, image: npt.NDArray[np.uint8], t_ms: float) -> PoseObservation | None:
        """Pose in an upright RGB ``(h, w, 3)`` frame shown at ``t_ms``; None when no person."""
        ...

    def estimate_people(self, image: npt.NDArray[np.uint8], t_ms: float) -> list[PersonPose]:
        """Every person in the frame, ids stable across the clip; empty when nobody."""
        ...

    def close(self) -> None: ...


NATIVE_SKELETON = BLAZEPOSE_33
