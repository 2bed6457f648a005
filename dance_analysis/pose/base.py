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


class PoseEstimator(Protocol):
    """Estimates one dancer's pose frame by frame, tracking across frames."""

    skeleton: Skeleton
    info: ModelInfo

    def estimate(self, image: npt.NDArray[np.uint8], t_ms: float) -> PoseObservation | None:
        """Pose in an upright RGB ``(h, w, 3)`` frame shown at ``t_ms``; None when no person."""
        ...

    def close(self) -> None: ...


NATIVE_SKELETON = BLAZEPOSE_33
