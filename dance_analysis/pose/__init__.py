"""Pose estimation: one interface, several backends, and accelerator detection.

Backends are imported only when created, so importing this package stays cheap.
"""

from __future__ import annotations

from dance_analysis.pose.base import ModelInfo, PoseEstimator, PoseObservation

BACKENDS = ("mediapipe", "litert", "mock")


def create_estimator(backend: str, *, model_complexity: int = 1) -> PoseEstimator:
    """A fresh estimator (tracking state is per clip, so make one per clip)."""
    if backend == "mediapipe":
        from dance_analysis.pose.mediapipe_backend import MediaPipePose

        return MediaPipePose(model_complexity=model_complexity)
    if backend == "litert":
        from dance_analysis.pose.blazepose.estimator import BlazePoseGraph
        from dance_analysis.pose.blazepose.litert_net import LitertNetworks

        return BlazePoseGraph(LitertNetworks(num_threads=1))
    if backend == "mock":
        from dance_analysis.pose.mock import MockPose

        return MockPose()
    raise ValueError(f"unknown pose backend {backend!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "ModelInfo", "PoseEstimator", "PoseObservation", "create_estimator"]
