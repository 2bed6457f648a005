"""The two BlazePose networks run by Google's LiteRT (XNNPACK) on the CPU.

The same ``.tflite`` files MediaPipe runs, through the same kind of runtime: this is the
reference the torch networks are checked against, and the fast path on a machine without
a GPU. Interpreters hold state between ``set_tensor`` and ``get_tensor``: one
``LitertNetworks`` belongs to one thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dance_analysis.errors import MediaError, Reason
from dance_analysis.pose.blazepose.networks import (
    DETECTOR_SIZE,
    LANDMARK_SIZE,
    Detections,
    FloatArray,
    LandmarkOutputs,
    ModelFiles,
    model_files,
)

DETECTOR_OUTPUTS = ("Identity", "Identity_1")
LANDMARK_OUTPUTS = ("Identity", "Identity_1", "Identity_3", "Identity_4")


class _Runner:
    """One interpreter at batch 1; a batch is run image by image.

    The graphs are exported for batch 1 (the detector's reshapes even name it), so
    resizing the input would not give batch-N outputs; XNNPACK gains nothing from a
    batch on the CPU anyway.
    """

    def __init__(self, path: Path, output_names: Sequence[str], num_threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        try:
            self.interpreter: Any = Interpreter(model_path=str(path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise MediaError(
                Reason.MODEL_UNAVAILABLE,
                f"The pose model {path.name} cannot be loaded ({error}). Reinstall the app.",
            ) from error
        self.input = self.interpreter.get_input_details()[0]["index"]
        by_name = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        self.outputs = [by_name[name] for name in output_names]

    def run(self, images: FloatArray) -> list[FloatArray]:
        per_image: list[list[FloatArray]] = []
        for image in np.ascontiguousarray(images, dtype=np.float32):
            self.interpreter.set_tensor(self.input, image[None])
            self.interpreter.invoke()
            per_image.append([self.interpreter.get_tensor(i) for i in self.outputs])
        return [
            np.concatenate([outputs[k] for outputs in per_image]) for k in range(len(self.outputs))
        ]


class LitertNetworks:
    backend = "litert"
    device = "cpu"

    def __init__(self, num_threads: int = 1, files: ModelFiles | None = None) -> None:
        files = files or model_files()
        self.num_threads = num_threads
        self._detector = _Runner(files.detector, DETECTOR_OUTPUTS, num_threads)
        self._landmark = _Runner(files.landmark, LANDMARK_OUTPUTS, num_threads)

    def detect(self, images: FloatArray) -> Detections:
        _check(images, DETECTOR_SIZE)
        boxes, scores = self._detector.run(images)
        return Detections(boxes, scores)

    def landmarks(self, crops: FloatArray) -> LandmarkOutputs:
        _check(crops, LANDMARK_SIZE)
        landmarks, flag, heatmap, world = self._landmark.run(crops)
        return LandmarkOutputs(landmarks, flag, heatmap, world)


def _check(images: FloatArray, size: int) -> None:
    if images.ndim != 4 or images.shape[1:] != (size, size, 3) or len(images) == 0:
        raise ValueError(f"expected (N, {size}, {size}, 3) images with N ≥ 1, got {images.shape}")
