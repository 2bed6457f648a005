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
    from dance_analysis.pose.blazepose.networks import PoseNetworks

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


#: Devices torch runs our graph on when ``auto`` sees them.
ACCELERATORS = ("cuda", "rocm", "mps")


def resolve_backend(name: str, device: str | None = None) -> str:
    """The backend that will run for ``name``: ``auto`` becomes a concrete one.

    The one place that decides. ``auto``: on an accelerator (``device`` is one of
    :data:`ACCELERATORS`, as :mod:`~dance_analysis.pose.devices` detected it), our own
    graph on torch, batched; on the CPU, our own graph on LiteRT, measured the fastest
    there (``benchmarks/pose_throughput.py``: the landmark network runs as fast as on
    torch with one thread, the detector 1.8x faster, and XNNPACK's two threads stay
    fast where torch's collapse on a busy machine), and it tracks every dancer where
    MediaPipe's solution tracks one. Without LiteRT (it has no Windows wheel), torch.
    """
    if name not in BACKEND_HELP:
        raise UnknownBackend(name)
    if name != "auto":
        return name
    if device in ACCELERATORS and _installed("torch"):
        return "torch"
    if _installed("ai_edge_litert"):
        return "litert"
    return "torch" if _installed("torch") else "mediapipe"


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def create_networks(backend: str, device: str = "cpu", *, threads: int = 1) -> PoseNetworks:
    """The two BlazePose networks on ``backend`` (``torch`` or ``litert``).

    ``device`` (torch only): where torch runs them; fp16 on CUDA and ROCm, where it
    keeps the landmarks within a fraction of a pixel. ``threads``: CPU threads.
    """
    if backend == "litert":
        from dance_analysis.pose.blazepose.litert_net import LitertNetworks

        return LitertNetworks(num_threads=threads)
    if backend == "torch":
        from dance_analysis.pose.blazepose.torch_net import TorchNetworks

        if device == "cpu":
            import torch

            # More threads than cores we may use make torch's workers spin against the
            # decoder and the encoder (measured: 150-1500 ms a crop instead of 20).
            torch.set_num_threads(threads)
        return TorchNetworks(device, half=device in ("cuda", "rocm"))
    raise UnknownBackend(backend)


def create_estimator(
    backend: str,
    *,
    model_complexity: int = 1,
    mock_people: int = 1,
    device: str = "cpu",
    threads: int = 1,
) -> PoseEstimator:
    """A fresh estimator (tracking state is per clip, so make one per clip).

    ``backend`` as :func:`resolve_backend` takes it; ``device``: the detected device
    (``auto`` decides by it, torch runs on it). ``mock_people``: how many dancers the
    mock scene holds (1 or 2; mock only). ``threads``: CPU threads for our graph.
    """
    backend = resolve_backend(backend, device)
    if backend == "mediapipe":
        from dance_analysis.pose.mediapipe_backend import MediaPipePose

        return MediaPipePose(model_complexity=model_complexity)
    if backend == "mock":
        from dance_analysis.pose.mock import MockPose

        return MockPose(people=mock_people)
    from dance_analysis.pose.blazepose.estimator import BlazePoseGraph

    return BlazePoseGraph(create_networks(backend, device, threads=threads))


__all__ = [
    "BACKENDS",
    "BACKEND_HELP",
    "ModelInfo",
    "PersonPose",
    "PoseEstimator",
    "PoseObservation",
    "UnknownBackend",
    "create_estimator",
    "create_networks",
    "resolve_backend",
]
