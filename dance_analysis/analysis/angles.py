"""Joint angles: their definitions on the BlazePose skeleton, how they are computed per
frame, and their summary over a clip.

Angles are in degrees. Give :func:`compute_angles` world landmarks (metres, 3D, the same
whatever the camera) when there are any; 2D image landmarks must be in square pixels
(x times width, y times height), or every angle away from the axes comes out skewed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.jsonable import finite_or_none
from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

# name -> (a, b, c): the angle ABC at joint b, 180° when a, b and c are in line.
JOINT_ANGLES: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "left_elbow": ("left_shoulder", "left_elbow", "left_wrist"),
        "right_elbow": ("right_shoulder", "right_elbow", "right_wrist"),
        "left_shoulder": ("left_hip", "left_shoulder", "left_elbow"),
        "right_shoulder": ("right_hip", "right_shoulder", "right_elbow"),
        "left_hip": ("left_shoulder", "left_hip", "left_knee"),
        "right_hip": ("right_shoulder", "right_hip", "right_knee"),
        "left_knee": ("left_hip", "left_knee", "left_ankle"),
        "right_knee": ("right_hip", "right_knee", "right_ankle"),
        "left_ankle": ("left_knee", "left_ankle", "left_foot_index"),
        "right_ankle": ("right_knee", "right_ankle", "right_foot_index"),
    }
)
# The lean of the hip-midpoint -> shoulder-midpoint line from vertical: 0° upright,
# 90° horizontal, 180° upside down. Not a three-point angle, so computed on its own.
TRUNK = "trunk"
ANGLE_NAMES: tuple[str, ...] = (*JOINT_ANGLES, TRUNK)

_TRIPLES = np.array([[BLAZEPOSE_33.index(j) for j in triple] for triple in JOINT_ANGLES.values()])
_HIPS = [BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")]
_SHOULDERS = [BLAZEPOSE_33.index("left_shoulder"), BLAZEPOSE_33.index("right_shoulder")]


def angle_at(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike) -> FloatArray:
    """The angle ABC in degrees (0–180) at vertex ``b``.

    Points are ``(..., 2)`` or ``(..., 3)`` and broadcast against each other. NaN in any
    point, or a zero-length arm, gives NaN.
    """
    vertex = np.asarray(b, dtype=np.float64)
    ba = np.asarray(a, dtype=np.float64) - vertex
    bc = np.asarray(c, dtype=np.float64) - vertex
    if ba.shape[-1] == 2:
        cross = np.abs(ba[..., 0] * bc[..., 1] - ba[..., 1] * bc[..., 0])
    elif ba.shape[-1] == 3:
        cross = np.linalg.norm(np.cross(ba, bc), axis=-1)
    else:
        raise ValueError(f"points must be 2D or 3D, got shape {ba.shape}")
    dot = np.sum(ba * bc, axis=-1)
    # atan2 of |a×b| and a·b stays accurate near 0° and 180°, where arccos does not.
    degrees = np.degrees(np.arctan2(cross, dot))
    degenerate = ~(ba != 0).any(axis=-1) | ~(bc != 0).any(axis=-1)
    result: FloatArray = np.where(degenerate, np.nan, degrees)
    return result


def trunk_lean(points: npt.ArrayLike) -> FloatArray:
    """Lean of the torso from vertical in degrees, per frame, from ``(N, 33, D)`` points.

    Both image and MediaPipe world coordinates have y pointing down, so "up" is -y; the
    camera is assumed level.
    """
    array = np.asarray(points, dtype=np.float64)
    torso = array[:, _SHOULDERS].mean(axis=1) - array[:, _HIPS].mean(axis=1)
    up = -torso[..., 1]
    sideways = np.linalg.norm(np.delete(torso, 1, axis=-1), axis=-1)
    degrees = np.degrees(np.arctan2(sideways, up))
    result: FloatArray = np.where((up == 0) & (sideways == 0), np.nan, degrees)
    return result


def compute_angles(points: npt.ArrayLike) -> dict[str, FloatArray]:
    """Every angle in :data:`ANGLE_NAMES`, each ``(N,)`` degrees, from ``(N, 33, D)`` points.

    ``D`` is 3 for world landmarks (metres) or 2 for image landmarks in square pixels.
    Missing points (NaN) give NaN angles.
    """
    array = np.asarray(points, dtype=np.float64)
    joints = len(BLAZEPOSE_33.joints)
    if array.ndim != 3 or array.shape[1] != joints or array.shape[2] not in (2, 3):
        raise ValueError(f"expected points of shape (N, 33, 2|3), got {array.shape}")
    a, b, c = (array[:, _TRIPLES[:, k]] for k in range(3))  # each (N, angles, D)
    values = angle_at(a, b, c)
    angles = {name: values[:, i] for i, name in enumerate(JOINT_ANGLES)}
    angles[TRUNK] = trunk_lean(array)
    return angles


def summarize(series: npt.ArrayLike, t_ms: npt.ArrayLike) -> dict[str, float | None]:
    """Min, max, range and mean of an angle series, when the extremes occur, and coverage.

    ``coverage`` is the fraction of frames with a value. Every other entry is None when
    the series has no value at all: the result goes into JSON, which has no NaN.
    """
    values = np.asarray(series, dtype=np.float64)
    t = np.asarray(t_ms, dtype=np.float64)
    present = np.isfinite(values)
    coverage = float(present.mean()) if len(values) else 0.0
    if not present.any():
        return dict.fromkeys(("min", "max", "range", "mean", "t_min_ms", "t_max_ms"), None) | {
            "coverage": coverage
        }
    found, times = values[present], t[present]
    low, high = int(np.argmin(found)), int(np.argmax(found))
    return {
        "min": finite_or_none(found[low]),
        "max": finite_or_none(found[high]),
        "range": finite_or_none(found[high] - found[low]),
        "mean": finite_or_none(found.mean()),
        "t_min_ms": finite_or_none(times[low]),
        "t_max_ms": finite_or_none(times[high]),
        "coverage": coverage,
    }
