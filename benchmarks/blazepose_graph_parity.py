"""How close our own BlazePose graph comes to MediaPipe's pose solution and to the
published reference on the squats clip, on LiteRT or on torch (any device).

    .venv/bin/python benchmarks/blazepose_graph_parity.py [--backend litert|torch]
        [--device cpu|cuda|rocm|mps]

Image landmarks in pixels of the 720x1280 frame, world landmarks in centimetres.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.blazepose_graph_speed import frames
from dance_analysis.pose.blazepose.estimator import BlazePoseGraph
from dance_analysis.pose.mediapipe_backend import MediaPipePose
from tests.conftest import SHARED_DATA


def main() -> None:
    import argparse

    from dance_analysis.pose import create_networks

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="litert", choices=["litert", "torch"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "rocm", "mps"])
    args = parser.parse_args()
    clip = frames()
    networks = create_networks(args.backend, args.device)
    print(f"our graph on {networks.backend} {networks.device}")
    theirs, ours = MediaPipePose(), BlazePoseGraph(networks)
    a, b, wa, wb = [], [], [], []
    for i, frame in enumerate(clip):
        x, y = theirs.estimate(frame, i * 200.0), ours.estimate(frame, i * 200.0)
        assert x is not None and y is not None
        a.append(x.landmarks[:, :2])
        b.append(y.landmarks[:, :2])
        wa.append(x.world[:, :3])
        wb.append(y.world[:, :3])
    size = np.array([720.0, 1280.0])
    pixels = np.linalg.norm((np.array(a) - np.array(b)) * size, axis=-1)
    world = np.linalg.norm(np.array(wa) - np.array(wb), axis=-1) * 100
    print(
        f"vs solution, image: mean {pixels.mean():.2f} px, p95 {np.percentile(pixels, 95):.2f} px"
    )
    print(f"vs solution, world: mean {world.mean():.2f} cm, p95 {np.percentile(world, 95):.2f} cm")
    reference = np.array(json.loads((SHARED_DATA / "pose_squats.full.json").read_text()))[..., :2]
    for name, points in (("solution", a), ("ours", b)):
        error = np.linalg.norm(np.array(points) * size - reference, axis=-1)
        p95 = np.percentile(error, 95)
        print(f"{name} vs reference: mean {error.mean():.2f} px, p95 {p95:.2f} px")


if __name__ == "__main__":
    main()
