"""The two networks run by LiteRT (XNNPACK) on the CPU, one image at a time.

A minimal runtime for the graph (the complete one, with batching, comes with the
torch networks); the same ``.tflite`` files MediaPipe's solution runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dance_analysis.pose.blazepose.networks import (
    Detections,
    FloatArray,
    LandmarkOutputs,
    model_files,
)


def _by_name(interpreter: Any) -> dict[str, int]:
    return {d["name"]: d["index"] for d in interpreter.get_output_details()}


class LitertNetworks:
    backend = "litert"
    device = "cpu"

    def __init__(self, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        files = model_files()
        self._detector = Interpreter(model_path=str(files.detector), num_threads=num_threads)
        self._landmark = Interpreter(model_path=str(files.landmark), num_threads=num_threads)
        self._detector.allocate_tensors()
        self._landmark.allocate_tensors()
        self._det_in = self._detector.get_input_details()[0]["index"]
        self._lm_in = self._landmark.get_input_details()[0]["index"]
        self._det_out = _by_name(self._detector)
        self._lm_out = _by_name(self._landmark)

    def detect(self, images: FloatArray) -> Detections:
        boxes, scores = [], []
        for image in images:
            self._detector.set_tensor(self._det_in, image[None].astype(np.float32))
            self._detector.invoke()
            boxes.append(self._detector.get_tensor(self._det_out["Identity"])[0])
            scores.append(self._detector.get_tensor(self._det_out["Identity_1"])[0])
        return Detections(
            boxes=np.stack(boxes).astype(np.float32), scores=np.stack(scores).astype(np.float32)
        )

    def landmarks(self, crops: FloatArray) -> LandmarkOutputs:
        names = ("Identity", "Identity_1", "Identity_3", "Identity_4")
        outs: dict[str, list[FloatArray]] = {n: [] for n in names}
        for crop in crops:
            self._landmark.set_tensor(self._lm_in, crop[None].astype(np.float32))
            self._landmark.invoke()
            for n in names:
                outs[n].append(np.array(self._landmark.get_tensor(self._lm_out[n])[0]))
        empty = len(crops) == 0
        shapes = {
            "Identity": (195,),
            "Identity_1": (1,),
            "Identity_3": (64, 64, 39),
            "Identity_4": (117,),
        }
        stacked = {
            n: np.zeros((0, *shapes[n]), np.float32) if empty else np.stack(outs[n]) for n in names
        }
        return LandmarkOutputs(
            landmarks=stacked["Identity"].astype(np.float32),
            flag=stacked["Identity_1"].astype(np.float32),
            heatmap=stacked["Identity_3"].astype(np.float32),
            world=stacked["Identity_4"].astype(np.float32),
        )
