"""The body-centred frame and the features compared in it.

A pose is compared as *directions*, not positions: each bone's unit vector in a frame
that moves and turns with the dancer's pelvis. Origin mid-hip; rotated about the
vertical so that the line from the right hip to the left hip lies along +x (the
shoulders' line when the hips are not seen); y down as in MediaPipe's world
landmarks; then forward (where the pelvis faces) is -z. Directions carry no length, so
body proportions, the camera's distance and the dancer's place in the picture do not
count. Lengths come back only to *draw* the teacher on the student's body
(:func:`retarget`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from dance_analysis.compare.model import N_LANDMARKS, Performance
from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

# Three points the 33 landmarks lack, appended to them as 33, 34 and 35.
MID_HIP, MID_SHOULDER, MID_EAR = 33, 34, 35
N_POINTS = 36
SMOOTH_MS = 100.0  # world landmarks are averaged over this long, centred
LEVEL_MAX_DEG = 45.0  # a clip whose typical trunk is further off is not levelled
LEVEL_SIGMA_DEG = 15.0  # how far around the trunk's typical direction frames count
LEVEL_ITERATIONS = 12
_J = {name: i for i, name in enumerate(BLAZEPOSE_33.joints)}
_J.update(mid_hip=MID_HIP, mid_shoulder=MID_SHOULDER, mid_ear=MID_EAR)

PART_NAMES = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")

# The scored bones, by body part: (from, to, weight). Hands and feet are half weight:
# the model places them least surely and a dance rarely lives in them alone.
_PART_BONES: Mapping[str, tuple[tuple[str, str, float], ...]] = MappingProxyType(
    {
        "head": (
            ("mid_shoulder", "nose", 1.0),  # the head over the shoulders
            ("mid_ear", "nose", 1.0),  # where the face points: nod and turn
            ("right_ear", "left_ear", 1.0),  # tilt
        ),
        "torso": (
            ("mid_hip", "mid_shoulder", 1.0),  # lean
            ("right_shoulder", "left_shoulder", 1.0),  # twist against the hips, tilt
            ("right_hip", "left_hip", 1.0),  # the pelvis' tilt (its turn is the frame)
        ),
        **{
            f"{side}_arm": (
                (f"{side}_shoulder", f"{side}_elbow", 1.0),
                (f"{side}_elbow", f"{side}_wrist", 1.0),
                (f"{side}_wrist", f"{side}_index", 0.5),
            )
            for side in ("left", "right")
        },
        **{
            f"{side}_leg": (
                (f"{side}_hip", f"{side}_knee", 1.0),
                (f"{side}_knee", f"{side}_ankle", 1.0),
                (f"{side}_heel", f"{side}_foot_index", 0.5),
            )
            for side in ("left", "right")
        },
    }
)
BONES = np.array([(_J[a], _J[b]) for part in PART_NAMES for a, b, _ in _PART_BONES[part]])
BONE_WEIGHTS = np.array([w for part in PART_NAMES for _, _, w in _PART_BONES[part]])
BONE_PART = np.array([k for k, part in enumerate(PART_NAMES) for _ in _PART_BONES[part]])
BONE_NAMES = tuple(f"{a}->{b}" for part in PART_NAMES for a, b, _ in _PART_BONES[part])


def _parent(name: str) -> str:
    """The skeleton as a tree from mid-hip, for rebuilding a body from directions."""
    side = name.split("_", 1)[0] + "_" if name.startswith(("left_", "right_")) else ""
    rest = name[len(side) :]
    parents = {
        "hip": "mid_hip", "mid_shoulder": "mid_hip", "shoulder": "mid_shoulder",
        "nose": "mid_shoulder", "elbow": f"{side}shoulder",
        "wrist": f"{side}elbow", "pinky": f"{side}wrist", "index": f"{side}wrist",
        "thumb": f"{side}wrist", "knee": f"{side}hip", "ankle": f"{side}knee",
        "heel": f"{side}ankle", "foot_index": f"{side}ankle", "eye_inner": "nose",
        "eye": f"{side}eye_inner", "eye_outer": f"{side}eye", "ear": f"{side}eye_outer",
        "mouth_left": "nose", "mouth_right": "nose",
    }  # fmt: skip
    return parents[rest]


def _tree_pairs() -> npt.NDArray[np.int64]:
    """(parent, child) index pairs, every parent placed before its children."""
    placed = {MID_HIP}
    pairs: list[tuple[int, int]] = []
    # mid-ear is only a scoring aid (the mean of the ears), not a joint of the body.
    pending = [name for name in _J if name not in ("mid_hip", "mid_ear")]
    while pending:
        later = []
        for name in pending:
            parent = _J[_parent(name)]
            if parent in placed:
                placed.add(_J[name])
                pairs.append((parent, _J[name]))
            else:
                later.append(name)
        pending = later
    return np.array(pairs, dtype=np.int64)


# The bones of the tree (34: every landmark and mid-shoulder has a parent).
TREE = _tree_pairs()


def extended_points(world: npt.ArrayLike) -> FloatArray:
    """(n, 33, 3) landmarks plus mid-hip, mid-shoulder and mid-ear: (n, 36, 3)."""
    points = np.asarray(world, dtype=np.float64)
    extra = np.stack(
        [
            points[:, [_J["left_hip"], _J["right_hip"]]].mean(axis=1),
            points[:, [_J["left_shoulder"], _J["right_shoulder"]]].mean(axis=1),
            points[:, [_J["left_ear"], _J["right_ear"]]].mean(axis=1),
        ],
        axis=1,
    )
    return np.concatenate([points, extra], axis=1)


def extended_visibility(visibility: npt.ArrayLike) -> FloatArray:
    """(n, 33) visibility plus the midpoints' (the lower of their two points): (n, 36)."""
    vis = np.asarray(visibility, dtype=np.float64)
    extra = np.stack(
        [
            vis[:, [_J["left_hip"], _J["right_hip"]]].min(axis=1),
            vis[:, [_J["left_shoulder"], _J["right_shoulder"]]].min(axis=1),
            vis[:, [_J["left_ear"], _J["right_ear"]]].min(axis=1),
        ],
        axis=1,
    )
    return np.concatenate([vis, extra], axis=1)


def facing_angle(points: FloatArray) -> FloatArray:
    """(n,) radians: the direction of the right-to-left hip line in the ground plane
    (x, z), from +x towards +z; the shoulders' line where the hips are not seen. NaN
    with neither."""
    hips = points[:, _J["left_hip"]] - points[:, _J["right_hip"]]
    shoulders = points[:, _J["left_shoulder"]] - points[:, _J["right_shoulder"]]
    line = np.where(np.isnan(hips).any(axis=-1, keepdims=True), shoulders, hips)
    angle: FloatArray = np.arctan2(line[:, 2], line[:, 0])
    return angle


def yaw_matrices(angle: npt.ArrayLike) -> FloatArray:
    """(n, 3, 3): rotations about the vertical (y) that bring a line at ``angle`` (n,)
    radians (from +x towards +z) onto +x."""
    a = np.asarray(angle, dtype=np.float64)
    cos, sin = np.cos(a), np.sin(a)
    zero, one = np.zeros_like(a), np.ones_like(a)
    rows = [[cos, zero, sin], [zero, one, zero], [-sin, zero, cos]]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def rotated(rotations: FloatArray, points: FloatArray) -> FloatArray:
    """Per-frame rotations (n, 3, 3) applied to points (n, k, 3)."""
    out: FloatArray = np.einsum("nij,nkj->nki", rotations, points)
    return out


def level_rotation(points: FloatArray) -> FloatArray:
    """(3, 3): the rotation about a horizontal axis that makes the clip's typical trunk
    (mid-hip to mid-shoulder, body frame) vertical; the identity when that would take
    more than ``LEVEL_MAX_DEG`` (floor work: not a tilted camera).

    MediaPipe's world landmarks are in the camera's axes, so a phone pitched up or
    down or rolled by 15° tilts every bone by up to 15° (measured: a clip against
    itself tilted 15° scored 85). For a dancer who keeps roughly one facing, such a
    tilt is a constant rotation in the body frame, and levelling each clip on its own
    typical trunk removes it. It also removes a lean a dancer holds through the
    *whole* clip, while a lean in one segment still counts. In the body frame a
    mirror image only negates the trunk's small sideways part, so a student who
    mirrors some of the dance is levelled like one who does not.

    "Typical" is a mode, not a mean: a weighted mean of the frames' trunk directions,
    weights falling off with the angle from the current estimate (Gaussian, σ =
    ``LEVEL_SIGMA_DEG``), repeated from the vertical. It settles on where the trunk
    mostly is (upright between squats, not halfway down).
    """
    trunk = points[:, MID_SHOULDER] - points[:, MID_HIP]
    length = np.linalg.norm(trunk, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = trunk / length
    unit = unit[~np.isnan(unit).any(axis=-1)]
    up = np.array([0.0, -1.0, 0.0])  # y is down
    if len(unit) == 0:
        return np.eye(3)
    estimate = up
    for _ in range(LEVEL_ITERATIONS):
        angle = np.arccos(np.clip(unit @ estimate, -1.0, 1.0))
        weights = np.exp(-0.5 * (angle / np.radians(LEVEL_SIGMA_DEG)) ** 2)
        mean = (unit * weights[:, None]).sum(axis=0)
        norm = float(np.linalg.norm(mean))
        if norm < 1e-9:
            return np.eye(3)
        estimate = mean / norm
    angle_deg = float(np.degrees(np.arccos(np.clip(estimate @ up, -1.0, 1.0))))
    axis = np.cross(estimate, up)
    if angle_deg > LEVEL_MAX_DEG or np.linalg.norm(axis) < 1e-12:
        return np.eye(3)
    k = axis / np.linalg.norm(axis)
    theta = np.radians(angle_deg)
    cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    rotation: FloatArray = np.eye(3) + np.sin(theta) * cross + (1 - np.cos(theta)) * cross @ cross
    return rotation


def body_frame(world: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """World landmarks (n, 33, 3) to the body-centred frame: (n, 36, 3) points with
    origin mid-hip, the hips' line along +x, levelled (:func:`level_rotation`); and the
    (n, 3, 3) rotations that did it (``body = R @ (world - mid_hip)``).

    The facing is removed, the clip levelled in that frame, and the facing removed
    once more (levelling may turn the hips' line a little out of the x axis).
    """
    points = extended_points(world)
    centred = points - points[:, MID_HIP : MID_HIP + 1]
    first = yaw_matrices(facing_angle(centred))
    facing_removed = rotated(first, centred)
    level = level_rotation(facing_removed)
    levelled = facing_removed @ level.T
    second = yaw_matrices(facing_angle(levelled))
    rotations = second @ level @ first
    return rotated(second, levelled), rotations


def directions(points: FloatArray, pairs: npt.NDArray[np.int64]) -> FloatArray:
    """Unit vectors (n, len(pairs), 3) from ``points[:, a]`` to ``points[:, b]``;
    NaN where either point is missing or they coincide."""
    vectors = points[:, pairs[:, 1]] - points[:, pairs[:, 0]]
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit: FloatArray = np.where(length > 1e-9, vectors / length, np.nan)
    return unit


def bone_lengths(points: FloatArray, pairs: npt.NDArray[np.int64]) -> FloatArray:
    """The median length (metres) of each bone over a clip: (len(pairs),); NaN for a
    bone never seen. The median, because a single frame's depth guess is noisy."""
    vectors = points[:, pairs[:, 1]] - points[:, pairs[:, 0]]
    lengths = np.linalg.norm(vectors, axis=-1)
    if len(lengths) == 0:
        return np.full(len(pairs), np.nan)
    with warnings.catch_warnings():  # a bone never seen is NaN, said in the docstring
        warnings.simplefilter("ignore", RuntimeWarning)
        median: FloatArray = np.nanmedian(lengths, axis=0)
    return median


@dataclass(frozen=True)
class BodyFeatures:
    """One performance in the body-centred frame.

    ``points`` (n, 36, 3) metres; ``directions`` (n, B, 3) unit vectors of the scored
    ``BONES`` (NaN where not seen); ``confidence`` (n, B) 0–1, the lower visibility of
    a bone's two ends (0 where not seen); ``rotations`` (n, 3, 3) from the camera's
    axes to the body frame (``body = R @ (world - mid_hip)``); ``tree_lengths``
    (len(TREE),) median bone lengths of the whole skeleton, for :func:`retarget`.
    """

    t_ms: FloatArray
    points: FloatArray
    directions: FloatArray
    confidence: FloatArray
    rotations: FloatArray
    tree_lengths: FloatArray

    @property
    def tree_directions(self) -> FloatArray:
        """(n, len(TREE), 3) unit vectors of the whole skeleton, for :func:`retarget`."""
        return directions(self.points, TREE)


def smoothed(world: FloatArray, t_ms: FloatArray) -> FloatArray:
    """World landmarks (n, 33, 3) averaged over a centred window spanning ``SMOOTH_MS``
    (an odd number of frames; no averaging below three), NaN-aware: a point missing in
    one frame stays missing, its neighbours are averaged from the frames that have it.
    The model's world landmarks jitter from frame to frame by about a centimetre,
    several degrees on a forearm; 100 ms (three frames at 30 fps) takes most of it and
    leaves a dance's movement alone."""
    if len(t_ms) < 3:
        return world
    # The widest odd number of frames spanning at most SMOOTH_MS between the outer two:
    # three at 25-30 fps, seven at 60, none at 15 or below.
    frames = int(SMOOTH_MS / float(np.median(np.diff(t_ms))) + 1.0 + 1e-9)
    half = (frames - 1) // 2
    if half < 1:
        return world
    seen = ~np.isnan(world)
    filled = np.where(seen, world, 0.0)
    pad = ((half + 1, half), (0, 0), (0, 0))
    sums = np.cumsum(np.pad(filled, pad), axis=0)
    counts = np.cumsum(np.pad(seen.astype(np.float64), pad), axis=0)
    width = 2 * half + 1
    total = sums[width:] - sums[:-width]
    count = counts[width:] - counts[:-width]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(seen, total / count, np.nan)
    return out


def body_features(performance: Performance) -> BodyFeatures:
    """The body-centred features of a performance (vectorised over frames)."""
    points, rotations = body_frame(smoothed(performance.world, performance.t_ms))
    unit = directions(points, BONES)
    vis = extended_visibility(performance.visibility)
    confidence = np.minimum(vis[:, BONES[:, 0]], vis[:, BONES[:, 1]])
    confidence = np.where(np.isnan(unit).any(axis=-1), 0.0, confidence)
    return BodyFeatures(
        t_ms=performance.t_ms,
        points=points,
        directions=unit,
        confidence=confidence,
        rotations=rotations,
        tree_lengths=bone_lengths(points, TREE),
    )


def retarget(
    tree_directions: npt.ArrayLike,
    lengths: npt.ArrayLike,
    *,
    rotations: npt.ArrayLike | None = None,
) -> FloatArray:
    """Rebuild a body (n, 33, 3) from bone directions (n, len(TREE), 3) and lengths.

    Give the teacher's directions and the student's ``tree_lengths``: the teacher's
    pose on the student's body, mid-hip at the origin, for the ghost overlay. With
    ``rotations`` (n, 3, 3) (the student's ``BodyFeatures.rotations``) it is turned back
    into the camera's axes, facing the way the student faces; without, it stays in the
    body frame. A bone with no direction leaves its point and everything beyond it NaN.
    """
    unit = np.asarray(tree_directions, dtype=np.float64)
    length = np.asarray(lengths, dtype=np.float64)
    n = unit.shape[0]
    points = np.full((n, N_POINTS, 3), np.nan)
    points[:, MID_HIP] = 0.0
    for k, (parent, child) in enumerate(TREE):  # 34 bones, each vectorised over frames
        points[:, child] = points[:, parent] + unit[:, k] * length[k]
    if rotations is not None:
        back = np.swapaxes(np.asarray(rotations, dtype=np.float64), -1, -2)
        points = rotated(back, points)
    return points[:, :N_LANDMARKS]


def resample(features: BodyFeatures, t_ms: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Directions and confidence at the times ``t_ms`` (m,): linear between the two
    nearest frames, renormalised; NaN (confidence 0) outside the clip or where either
    neighbour is missing. Returns ((m, B, 3), (m, B))."""
    times = np.asarray(t_ms, dtype=np.float64)
    source = features.t_ms
    inside = (times >= source[0]) & (times <= source[-1]) if len(source) else times < 0
    right = np.clip(np.searchsorted(source, times, side="right"), 1, max(len(source) - 1, 1))
    left = right - 1
    span = source[right] - source[left] if len(source) > 1 else np.ones_like(times)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip(np.where(span > 0, (times - source[left]) / span, 0.0), 0.0, 1.0)
    if len(source) == 1:
        left = right = np.zeros_like(left)
    mixed = (
        features.directions[left] * (1 - frac)[:, None, None]
        + features.directions[right] * frac[:, None, None]
    )
    norm = np.linalg.norm(mixed, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(norm > 1e-9, mixed / norm, np.nan)
    unit[~inside] = np.nan
    confidence = np.minimum(features.confidence[left], features.confidence[right])
    confidence = np.where(np.isnan(unit).any(axis=-1), 0.0, confidence)
    return unit, confidence
