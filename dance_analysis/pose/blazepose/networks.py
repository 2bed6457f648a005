"""The two BlazePose networks as the graph sees them: batches in, raw tensors out.

Runtimes (``torch_net.TorchNetworks``, ``litert_net.LitertNetworks``) implement
:class:`PoseNetworks`. They run the models exactly: no normalisation, no decoding; the
graph prepares the inputs and reads the outputs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from dance_analysis.errors import MediaError, Reason

FloatArray = npt.NDArray[np.float32]

DETECTOR_SIZE = 224
"""The detector's input: (N, 224, 224, 3) RGB, float32 in [-1, 1]."""
LANDMARK_SIZE = 256
"""The landmark network's input: (N, 256, 256, 3) RGB, float32 in [0, 1]."""
NUM_ANCHORS = 2254
NUM_LANDMARKS = 39  # 33 body joints + 6 auxiliary points (two of which make the next ROI)


class Detections(NamedTuple):
    boxes: FloatArray  # (N, 2254, 12): box (cx, cy, w, h) and 4 keypoints, in 224 px, raw
    scores: FloatArray  # (N, 2254, 1): logits


class LandmarkOutputs(NamedTuple):
    landmarks: FloatArray  # (N, 195): 39 × (x, y, z, visibility, presence), 256 px, logits
    flag: FloatArray  # (N, 1): pose presence, already a probability (0–1)
    heatmap: FloatArray  # (N, 64, 64, 39): for refining x, y
    world: FloatArray  # (N, 117): 39 × (x, y, z), metres, hip-centred


class PoseNetworks(Protocol):
    backend: str  # "torch" or "litert"
    device: str  # where the networks actually run: "cpu", "cuda", "rocm", "mps"

    def detect(self, images: FloatArray) -> Detections: ...

    def landmarks(self, crops: FloatArray) -> LandmarkOutputs: ...


@dataclass(frozen=True)
class ModelFiles:
    detector: Path
    landmark: Path


def model_files() -> ModelFiles:
    """The ``.tflite`` files inside the installed mediapipe wheel (nothing is imported).

    Raises :class:`MediaError` (``model_unavailable``) when the wheel or a file is missing.
    """
    spec = importlib.util.find_spec("mediapipe")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in map(Path, roots):
        files = ModelFiles(
            detector=root / "modules" / "pose_detection" / "pose_detection.tflite",
            landmark=root / "modules" / "pose_landmark" / "pose_landmark_full.tflite",
        )
        if files.detector.is_file() and files.landmark.is_file():
            return files
    raise MediaError(
        Reason.MODEL_UNAVAILABLE,
        "The pose models are missing: reinstall the app (they come with mediapipe 0.10.21).",
    )
