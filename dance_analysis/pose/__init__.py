"""Pose estimation: one interface, several backends, and accelerator detection.

Backends are imported only when created, and the interface (numpy) only when first
used, so importing this package stays cheap: the command line reads its backend names
from here on the ``--help`` path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dance_analysis.errors import DanceAnalysisError, Reason

if TYPE_CHECKING:
    from dance_analysis.pose.base import ModelInfo, PersonPose, PoseEstimator, PoseObservation

_FROM_BASE = ("ModelInfo", "PersonPose", "PoseEstimator", "PoseObservation")


def __getattr__(name: str) -> Any:
    """The interface's names, imported on first use (PEP 562)."""
    if name in _FROM_BASE:
        from dance_analysis.pose import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: What ``--backend`` and ``DANCE_POSE_BACKEND`` accept, each with what it is.
BACKEND_HELP = {
    "auto": "pick by device (the default)",
    "torch": "our own BlazePose graph on torch (CPU, CUDA, ROCm, MPS)",
    "litert": "our own BlazePose graph on LiteRT (CPU, XNNPACK)",
    "mediapipe": "MediaPipe's pose solution (CPU, one dancer)",
    "mock": "synthetic dancers, no model (the mock mode, USE_MOCK_ANALYSIS=true)",
}
BACKENDS = tuple(BACKEND_HELP)


class UnknownBackend(DanceAnalysisError):
    """A backend name (``--backend``, ``DANCE_POSE_BACKEND``) that names none we have."""

    def __init__(self, name: str) -> None:
        super().__init__(
            Reason.UNKNOWN_BACKEND,
            f"“{name[:64]}” is not a pose backend we have. Choose one of: {', '.join(BACKENDS)}.",
        )


def resolve_backend(name: str) -> str:
    """The backend that will run for ``name``: ``auto`` becomes a concrete one.

    FOR NOW ``auto`` is always ``mediapipe``. This is the one place that decides: once our
    own graph is in, it chooses by device here (torch on an accelerator, …).
    """
    if name not in BACKEND_HELP:
        raise UnknownBackend(name)
    if name == "auto":
        return "mediapipe"
    return name


def create_estimator(
    backend: str, *, model_complexity: int = 1, mock_people: int = 1
) -> PoseEstimator:
    """A fresh estimator (tracking state is per clip, so make one per clip).

    ``mock_people``: how many dancers the mock scene holds (1 or 2; mock only).
    """
    backend = resolve_backend(backend)
    if backend == "mediapipe":
        from dance_analysis.pose.mediapipe_backend import MediaPipePose

        return MediaPipePose(model_complexity=model_complexity)
    if backend == "mock":
        from dance_analysis.pose.mock import MockPose

        return MockPose(people=mock_people)
    # torch and litert: our own graph (issue 11) is wired in here when it lands.
    raise DanceAnalysisError(
        Reason.MODEL_UNAVAILABLE,
        f"The {backend} backend (our own pose graph) is not part of this build: "
        "choose auto or mediapipe.",
    )


__all__ = [
    "BACKENDS",
    "BACKEND_HELP",
    "ModelInfo",
    "PersonPose",
    "PoseEstimator",
    "PoseObservation",
    "UnknownBackend",
    "create_estimator",
    "resolve_backend",
]
