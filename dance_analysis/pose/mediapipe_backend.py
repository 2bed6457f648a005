"""BlazePose GHUM (full) through MediaPipe's ``solutions.pose``, on the CPU.

mediapipe 0.10.21 is the last release whose wheel carries the BlazePose models, so
this runs offline. Its Python solution graph has no GPU path on Linux, so the backend
runs on the CPU whatever accelerator the machine has; the result records both.

MediaPipe's graph is fed its own simulated 30 fps clock rather than the clip's real
timestamps: measured on ``pose_squats.mp4`` (5 fps), the real clock made its
landmark smoothing weaker and the error against the published reference worse
(mean 5.9 px, p95 15.6 px instead of 4.0 px and 8.3 px). Time-aware cleaning is
done afterwards by ``analysis.filters`` with the real timestamps.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.pose.base import ModelInfo, PersonPose, PoseObservation, one_person
from dance_analysis.skeleton import BLAZEPOSE_33

_MODEL_NAMES = {0: "blazepose_ghum_lite", 1: "blazepose_ghum_full", 2: "blazepose_ghum_heavy"}


def _as_array(landmark_list: Any) -> npt.NDArray[np.float64]:
    # The protobuf message offers no bulk accessor; 33 attribute reads per frame are
    # a few microseconds, far below the model's cost.
    return np.array(
        [(p.x, p.y, p.z, p.visibility) for p in landmark_list.landmark], dtype=np.float64
    )


class MediaPipePose:
    """One tracked dancer per clip (a crowd gives whoever it locks on to); create one
    estimator per clip (tracking state)."""

    skeleton = BLAZEPOSE_33

    def __init__(
        self,
        *,
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        # Quieten the C++ side's start-up chatter (glog); must be set before import.
        os.environ.setdefault("GLOG_minloglevel", "2")
        import mediapipe as mp

        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=model_complexity,
            smooth_landmarks=True,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self.info = ModelInfo(
            backend="mediapipe",
            model=_MODEL_NAMES[model_complexity],
            device="cpu",
            note="MediaPipe's pose solution runs on the CPU",
            versions=(("mediapipe", mp.__version__), ("numpy", np.__version__)),
        )

    def estimate(self, image: npt.NDArray[np.uint8], t_ms: float) -> PoseObservation | None:
        result = self._pose.process(image)
        if result.pose_landmarks is None:
            return None
        return PoseObservation(
            landmarks=_as_array(result.pose_landmarks),
            world=_as_array(result.pose_world_landmarks),
        )

    def estimate_people(self, image: npt.NDArray[np.uint8], t_ms: float) -> list[PersonPose]:
        """MediaPipe's solution tracks one person: at most one, always id 1."""
        return one_person(self.estimate(image, t_ms))

    def close(self) -> None:
        self._pose.close()
