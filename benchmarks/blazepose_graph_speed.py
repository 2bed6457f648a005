"""Per-frame time of our own BlazePose graph on LiteRT (1 thread) against MediaPipe's
pose solution on the same frames, one dancer and two.

    .venv/bin/python benchmarks/blazepose_graph_speed.py

Times the estimator calls only (frames decoded beforehand); median and mean over the
squats clip, after a first pass to warm both up.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dance_analysis.pose.blazepose.estimator import BlazePoseGraph
from dance_analysis.pose.blazepose.litert_net import LitertNetworks
from dance_analysis.pose.mediapipe_backend import MediaPipePose
from tests.conftest import SHARED_DATA

Frame = npt.NDArray[np.uint8]


def frames() -> list[Frame]:
    import cv2

    capture = cv2.VideoCapture(str(SHARED_DATA / "pose_squats.mp4"))
    out: list[Frame] = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            return out
        out.append(np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8))


def timed(run: Callable[[Frame, float], object], clip: list[Frame]) -> list[float]:
    times = []
    for i, frame in enumerate(clip):
        start = time.perf_counter()
        run(frame, i * 200.0)
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    median, mean = statistics.median(times), statistics.mean(times)
    print(f"{name:56s} median {median:6.1f} ms  mean {mean:6.1f} ms")


def main() -> None:
    one = frames()
    two = [np.ascontiguousarray(np.concatenate([f, np.roll(f[:, ::-1], 40, 0)], 1)) for f in one]
    networks = LitertNetworks(num_threads=1)
    for name, clip in (("one dancer (720x1280)", one), ("two dancers (1440x1280)", two)):
        for label, make in (
            ("mediapipe Pose.process", lambda: MediaPipePose()),
            ("BlazePoseGraph litert 1 thread", lambda: BlazePoseGraph(networks)),
        ):
            timed(make().estimate, clip)  # warm up
            estimator = make()
            run = (
                estimator.estimate_people
                if isinstance(estimator, BlazePoseGraph)
                else estimator.estimate
            )
            report(f"{name}: {label}", timed(run, clip))


if __name__ == "__main__":
    main()
