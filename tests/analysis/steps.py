"""A synthetic dancer for the timing tests: image landmarks of a body stepping on a schedule.

The body stands with shoulders at y = 0.3 and hips at y = 0.5 (a torso of 0.2 frame
heights); each step moves one foot sideways by ``STEP`` and stops it exactly at the
planted time. The foot's speed is a half sine over ``STEP_MS`` (fast mid-swing, striking
the floor), the hips and everything else stay still.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

STEP = 0.06  # 0.3 torso lengths
STEP_MS = 250.0
_FOOT_PARTS = ("ankle", "heel", "foot_index")


def standing_image(n: int) -> FloatArray:
    """``(n, 33, 4)`` normalised image landmarks of a still, fully visible dancer."""
    pose = np.zeros((33, 4))
    pose[:, :2] = (0.5, 0.2)  # face points
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for part, (x, y) in {
            "shoulder": (0.08, 0.3), "elbow": (0.09, 0.4), "wrist": (0.09, 0.5),
            "pinky": (0.09, 0.52), "index": (0.09, 0.52), "thumb": (0.09, 0.52),
            "hip": (0.05, 0.5), "knee": (0.05, 0.7), "ankle": (0.05, 0.88),
            "heel": (0.05, 0.9), "foot_index": (0.07, 0.91),
        }.items():  # fmt: skip
            pose[BLAZEPOSE_33.index(f"{side}_{part}"), :2] = (0.5 + sign * x, y)
    pose[:, 3] = 1.0
    return np.repeat(pose[None], n, axis=0)


def stepping(t_ms: npt.ArrayLike, stops_ms: Sequence[float]) -> FloatArray:
    """Landmarks at ``t_ms`` of a dancer whose feet, alternately (left first), complete a
    step at each of ``stops_ms``; each foot steps out, then back on its next step."""
    t = np.asarray(t_ms, dtype=np.float64)
    landmarks = standing_image(len(t))
    for k, stop in enumerate(stops_ms):
        side = "left" if k % 2 == 0 else "right"
        direction = 1.0 if (k // 2) % 2 == 0 else -1.0
        # Half-sine speed: the displacement is (1 − cos(π τ)) / 2 over the step.
        tau = np.clip((t - (stop - STEP_MS)) / STEP_MS, 0.0, 1.0)
        shift = direction * STEP * (1.0 - np.cos(np.pi * tau)) / 2.0
        for part in _FOOT_PARTS:
            landmarks[:, BLAZEPOSE_33.index(f"{side}_{part}"), 0] += shift
    return landmarks


def beats(first_ms: float, period_ms: float, n: int) -> list[float]:
    return [first_ms + i * period_ms for i in range(n)]


def counts(beats_ms: Sequence[float]) -> list[dict[str, float | int]]:
    """The music's counts when every beat from the first is counted (the first a "1")."""
    return [{"t_ms": b, "count": i % 8 + 1, "phrase": i // 8} for i, b in enumerate(beats_ms)]
