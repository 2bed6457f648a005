"""Hand-made poses for the analysis tests: a dancer standing straight, and ways to bend it.

World landmarks are in metres, hip-centred, y pointing down (MediaPipe's convention).
The standing pose lies in the x-y plane, so its 2D projection has the same angles.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

# A portrait phone clip; the projection keeps pixels square.
WIDTH, HEIGHT = 720, 1280
_PIXELS_PER_METRE = 600.0
_CENTRE_PX = (360.0, 500.0)

_STANDING = {
    "shoulder": (0.18, -0.50, 0.0),
    "elbow": (0.18, -0.22, 0.0),
    "wrist": (0.18, 0.04, 0.0),
    "pinky": (0.18, 0.12, 0.0),
    "index": (0.18, 0.12, 0.0),
    "thumb": (0.18, 0.12, 0.0),
    "hip": (0.10, 0.0, 0.0),
    "knee": (0.10, 0.45, 0.0),
    "ankle": (0.10, 0.90, 0.0),
    "heel": (0.10, 0.95, 0.05),
    "foot_index": (0.10, 0.95, -0.15),
}


def index(joint: str) -> int:
    return BLAZEPOSE_33.index(joint)


def standing(n: int) -> FloatArray:
    """``(n, 33, 4)`` world landmarks of a dancer standing straight, fully visible.

    The dancer's left side is at +x. Elbows and knees are straight (180°), trunk upright.
    """
    pose = np.zeros((33, 4))
    pose[:, :3] = (0.0, -0.65, -0.05)  # face points
    for part, (x, y, z) in _STANDING.items():
        pose[index(f"left_{part}"), :3] = (x, y, z)
        pose[index(f"right_{part}"), :3] = (-x, y, z)
    pose[:, 3] = 1.0
    return np.repeat(pose[None], n, axis=0)


def bend_knee(
    world: FloatArray, frames: slice | npt.NDArray[np.bool_], degrees: float, side: str = "left"
) -> None:
    """Bend one knee to ``degrees`` (in the x-y plane) in the given frames, in place.

    The shin swings outwards and the foot comes with it."""
    knee, ankle = index(f"{side}_knee"), index(f"{side}_ankle")
    outwards = 1.0 if side == "left" else -1.0
    theta = np.radians(degrees)
    shin = 0.45 * np.array([outwards * np.sin(theta), -np.cos(theta), 0.0])
    shift = world[frames, knee, :3] + shin - world[frames, ankle, :3]
    for joint in (ankle, index(f"{side}_heel"), index(f"{side}_foot_index")):
        world[frames, joint, :3] += shift


def to_image(world: FloatArray) -> FloatArray:
    """Project world landmarks onto a ``WIDTH`` x ``HEIGHT`` frame, normalised 0-1."""
    image = world.copy()
    image[..., 0] = (_CENTRE_PX[0] + _PIXELS_PER_METRE * world[..., 0]) / WIDTH
    image[..., 1] = (_CENTRE_PX[1] + _PIXELS_PER_METRE * world[..., 1]) / HEIGHT
    image[..., 2] = world[..., 2] * _PIXELS_PER_METRE / WIDTH
    return image


def timeline(seconds: float, fps: float) -> FloatArray:
    """Timestamps in ms at a constant frame rate."""
    return np.arange(round(seconds * fps)) * 1000.0 / fps
