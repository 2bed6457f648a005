"""Our own BlazePose graph as a pose estimator: every person, any network runtime.

The landmark smoothing is fed a simulated 30 fps clock, one frame every 1/30 s, as the
mediapipe backend feeds MediaPipe's solution: that is the clock MediaPipe's filter
settings were tuned on, it keeps our results equal to the solution's, and on
``pose_squats.mp4`` (5 fps) the real clock made the error against the published
reference worse. Time-aware cleaning happens later in ``analysis.filters`` with the
real timestamps; re-finding a lost person uses the real timestamps too.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dance_analysis.pose.base import ModelInfo, PersonPose, PoseObservation
from dance_analysis.pose.blazepose.networks import PoseNetworks
from dance_analysis.pose.blazepose.tracker import MultiPoseTracker, run_step
from dance_analysis.skeleton import BLAZEPOSE_33

SIMULATED_FPS = 30.0


class BlazePoseGraph:
    """One clip's people; create one per clip (tracking state)."""

    skeleton = BLAZEPOSE_33

    def __init__(
        self,
        networks: PoseNetworks,
        *,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        detect_every: int = 15,
    ) -> None:
        self.networks = networks
        self.tracker = MultiPoseTracker(
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            detect_every=detect_every,
            smoothing_fps=SIMULATED_FPS,
        )
        self.info = ModelInfo(
            backend=networks.backend,
            model="blazepose_ghum_full",
            device=networks.device,
            note="our own BlazePose graph around MediaPipe's networks; every person tracked",
            versions=(("numpy", np.__version__),),
        )

    def estimate_people(self, image: npt.NDArray[np.uint8], t_ms: float) -> list[PersonPose]:
        """Everyone in an upright RGB frame shown at ``t_ms``, by id."""
        return run_step(self.tracker, self.networks, image, t_ms)

    def estimate(self, image: npt.NDArray[np.uint8], t_ms: float) -> PoseObservation | None:
        """The lowest-id person present, for code that follows one dancer."""
        people = self.estimate_people(image, t_ms)
        return people[0].pose if people else None

    def close(self) -> None:
        """Nothing to release: the networks belong to whoever made them."""
