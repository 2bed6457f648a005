"""The dancer as a BVH skeleton, ``skeleton.bvh``: Blender and motion tools play the dance.

**Hierarchy.** Built from BlazePose-33 points (and midpoints of pairs), one joint per
bone so that every bone's direction is solved on its own (joints that share a point are
siblings at zero offset, as in the CMU motion-capture files)::

    Hips (between the hips)            ─ LeftHipJoint → LeftUpLeg → LeftLeg → LeftFoot → toe
                                       ─ RightHipJoint → RightUpLeg → RightLeg → RightFoot → toe
                                       ─ Spine → Chest (between the shoulders)
    Chest ─ Neck → Head (between the ears) → nose
          ─ LeftShoulder → LeftArm (shoulder) → LeftForeArm (elbow) → LeftHand (wrist) → hand
          ─ RightShoulder → RightArm → RightForeArm → RightHand → hand

The hand's end is the midpoint of the index and pinky knuckles; the toe is
``foot_index``. **Rest pose**: a T-pose in the Y-up frame of
:mod:`dance_analysis.exports.axes` (``X`` the dancer's left, ``Y`` up, ``Z`` the way
they face), bone lengths constant: each bone's median over the frames with the dancer.

**Rotations**, solved from the world positions each frame. The pelvis (``Hips``), the
spine, chest, neck, head, collar bones and hip joints get a full frame: the bone's
direction (or the hip/shoulder line for ``Hips`` and ``Chest``) plus a second axis for
the twist (the shoulder, ear or hip line, or the trunk's up). The limbs (arm, forearm,
hand, thigh, shin, foot) get the smallest rotation (swing) that turns the bone from
where its parent carries it to where it is seen, so their twist follows the parent
(the landmarks cannot see a forearm's roll). Every bone thus points exactly where the
landmarks say; only its length is the clip's median. Channels: the root
``Xposition Yposition Zposition Zrotation Xrotation Yrotation``, every other joint
``Zrotation Xrotation Yrotation`` (a joint's rotation is ``Rz · Rx · Ry``), degrees,
unwrapped over time so curves have no 360° jumps.

**Units**: centimetres, the usual BVH unit (Blender's importer takes the numbers as
they are, Scale 1.0 by default: import at Scale 0.01 for metres). **Place**: MediaPipe's
world landmarks are centred between the hips in every frame, so the dancer dances on
the spot; the root is lifted by the clip's median height of the hips above the lowest
foot point, so the feet meet the floor.
**In Blender** (``io_anim_bvh/import_bvh.py``) each joint becomes a bone from its head
to its only child's head, its end site, or the mean of its children's heads: ``Hips``
and ``Chest`` (children all at zero offset) thus have no length and the importer gives
each a short stub along ``+Y`` (up); the zero-offset joints (``Spine``, ``Neck``, collars,
hip joints) get their length from their child. Rotations are applied through each
bone's rest matrix, so stubs and bone rolls do not change the motion.
**Frames**: one per analysed frame at the clip's average rate (``Frame Time`` = 1/fps);
a frame without the dancer holds the last pose seen (before the first, the first
pose); a clip without any dancer is the rest pose throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dance_analysis.exports import Motion
from dance_analysis.exports.axes import y_up
from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]
CM_PER_M = 100.0
ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
JOINT_CHANNELS = ("Zrotation", "Xrotation", "Yrotation")
_X, _Y, _Z = np.eye(3)
_FEET = (
    "left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip


def _mid(a: str, b: str) -> Callable[[Mapping[str, FloatArray]], FloatArray]:
    return lambda points: 0.5 * (points[a] + points[b])


#: Derived points (Y-up metres, (n, 3)) from the landmarks by name.
_DERIVED: dict[str, Callable[[Mapping[str, FloatArray]], FloatArray]] = {
    "mid_hip": _mid("left_hip", "right_hip"),
    "mid_shoulder": _mid("left_shoulder", "right_shoulder"),
    "mid_ear": _mid("left_ear", "right_ear"),
    "left_hand": _mid("left_index", "left_pinky"),
    "right_hand": _mid("right_index", "right_pinky"),
}
#: Second axes for the twist: (from, to) points and the axis they lie on at rest.
_LINES = {
    "hip_line": (("right_hip", "left_hip"), _X),
    "shoulder_line": (("right_shoulder", "left_shoulder"), _X),
    "ear_line": (("right_ear", "left_ear"), _X),
    "trunk": (("mid_hip", "mid_shoulder"), _Y),
}


@dataclass(frozen=True)
class Joint:
    """One BVH joint: where it sits, its parent, and how its rotation is solved.

    ``bone``: the point its bone runs to (None: no bone of its own, only an orientation),
    ``rest``: the bone's direction in the T-pose. ``primary``: a line to align exactly
    instead of the bone (``Hips``, ``Chest``); ``twist``: the line that fixes the roll
    about it. Without ``twist`` the joint takes the smallest swing from its parent.
    """

    name: str
    parent: str | None
    at: str
    bone: str | None
    rest: FloatArray
    twist: str | None = None
    primary: str | None = None


def _side(side: str, sign: float) -> list[Joint]:
    """One side's collar, arm, hip joint and leg (``sign`` +1 left, −1 right)."""
    upper = side.capitalize()
    out = sign * _X
    return [
        Joint(f"{upper}Shoulder", "Chest", "mid_shoulder", f"{side}_shoulder", out, "trunk"),
        Joint(f"{upper}Arm", f"{upper}Shoulder", f"{side}_shoulder", f"{side}_elbow", out),
        Joint(f"{upper}ForeArm", f"{upper}Arm", f"{side}_elbow", f"{side}_wrist", out),
        Joint(f"{upper}Hand", f"{upper}ForeArm", f"{side}_wrist", f"{side}_hand", out),
        Joint(f"{upper}HipJoint", "Hips", "mid_hip", f"{side}_hip", out, "trunk"),
        Joint(f"{upper}UpLeg", f"{upper}HipJoint", f"{side}_hip", f"{side}_knee", -_Y),
        Joint(f"{upper}Leg", f"{upper}UpLeg", f"{side}_knee", f"{side}_ankle", -_Y),
        Joint(f"{upper}Foot", f"{upper}Leg", f"{side}_ankle", f"{side}_foot_index", _Z),
    ]


#: Every joint, parents before children.
JOINTS: tuple[Joint, ...] = (
    Joint("Hips", None, "mid_hip", None, _X, "trunk", primary="hip_line"),
    Joint("Spine", "Hips", "mid_hip", "mid_shoulder", _Y, "shoulder_line"),
    Joint("Chest", "Spine", "mid_shoulder", None, _X, "trunk", primary="shoulder_line"),
    Joint("Neck", "Chest", "mid_shoulder", "mid_ear", _Y, "ear_line"),
    Joint("Head", "Neck", "mid_ear", "nose", _Z, "ear_line"),
    *_side("left", 1.0),
    *_side("right", -1.0),
)
_BY_NAME = {joint.name: joint for joint in JOINTS}


def _depth_first(parent: str | None) -> list[Joint]:
    """The joints under ``parent`` in the file's order: each followed by its children."""
    order = []
    for joint in JOINTS:
        if joint.parent == parent:
            order += [joint, *_depth_first(joint.name)]
    return order


#: The joints in the order the file lists them (and their channels).
FILE_ORDER: tuple[Joint, ...] = tuple(_depth_first(None))
#: Bone lengths (m) for a clip without any dancer: an average adult.
_DEFAULT_LENGTHS = {
    "Spine": 0.50, "Neck": 0.17, "Head": 0.10, "Shoulder": 0.17, "Arm": 0.28,
    "ForeArm": 0.24, "Hand": 0.08, "HipJoint": 0.09, "UpLeg": 0.40, "Leg": 0.40,
    "Foot": 0.15,
}  # fmt: skip


def _unit(vectors: FloatArray) -> FloatArray:
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    unit: FloatArray = vectors / np.where(norm > 1e-12, norm, 1.0)
    return unit


def _any_perpendicular(vectors: FloatArray) -> FloatArray:
    """A unit vector perpendicular to each of ``vectors`` (n, 3)."""
    helper = np.where(np.abs(vectors[:, :1]) < 0.9, _X, _Y)
    return _unit(np.cross(vectors, helper))


def _frame(primary: FloatArray, secondary: FloatArray) -> FloatArray:
    """Orthonormal frames (n, 3, 3), columns: ``primary``, ``secondary`` made
    perpendicular to it, and their cross product."""
    p = _unit(primary)
    s = secondary - np.sum(secondary * p, axis=-1, keepdims=True) * p
    weak = np.linalg.norm(s, axis=-1) < 1e-9
    s = np.where(weak[:, None], _any_perpendicular(p), _unit(s))
    return np.stack([p, s, np.cross(p, s)], axis=-1)


def _swing(start: FloatArray, end: FloatArray) -> FloatArray:
    """The smallest rotations (n, 3, 3) turning unit vectors ``start`` onto ``end``."""
    axis = np.cross(start, end)
    sine = np.linalg.norm(axis, axis=-1)
    cosine = np.sum(start * end, axis=-1)
    axis = np.where((sine < 1e-9)[:, None], _any_perpendicular(start), _unit(axis))
    angle = np.arctan2(sine, cosine)
    k = np.zeros((len(axis), 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k -= np.transpose(k, (0, 2, 1))
    eye = np.broadcast_to(np.eye(3), k.shape)
    rotation: FloatArray = (
        eye + np.sin(angle)[:, None, None] * k + (1 - np.cos(angle))[:, None, None] * (k @ k)
    )
    return rotation


def euler_zxy(rotations: FloatArray) -> FloatArray:
    """``(n, 3, 3)`` rotations as ``(n, 3)`` angles ``(z, x, y)`` in radians, with
    ``R = Rz(z) · Rx(x) · Ry(y)``."""
    r = rotations
    x = np.arcsin(np.clip(r[:, 2, 1], -1.0, 1.0))
    locked = np.cos(x) < 1e-9  # x = ±90°: only z ± y is defined; put it all in z
    y = np.where(locked, 0.0, np.arctan2(-r[:, 2, 0], r[:, 2, 2]))
    z = np.where(locked, np.arctan2(r[:, 1, 0], r[:, 0, 0]), np.arctan2(-r[:, 0, 1], r[:, 1, 1]))
    return np.stack([z, x, y], axis=-1)


def _held(world: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """World landmarks (n, 33, 3) Y-up, with each frame lacking the dancer holding the
    last pose seen (the first pose before it), and which frames had the dancer."""
    points = y_up(world)
    seen = np.isfinite(points).all(axis=(1, 2))
    if not seen.any():
        return points, seen
    index = np.where(seen, np.arange(len(points)), -1)
    index = np.maximum.accumulate(index)
    index[index < 0] = int(np.argmax(seen))
    return points[index], seen


def _points(landmarks: FloatArray) -> dict[str, FloatArray]:
    points = {name: landmarks[:, i] for i, name in enumerate(BLAZEPOSE_33.joints)}
    for name, derive in _DERIVED.items():
        points[name] = derive(points)
    return points


def _line(points: Mapping[str, FloatArray], name: str) -> tuple[FloatArray, FloatArray]:
    (start, end), rest = _LINES[name]
    return points[end] - points[start], rest


def _lengths(points: Mapping[str, FloatArray], seen: npt.NDArray[np.bool_]) -> dict[str, float]:
    """Each bone's median length over the frames with the dancer (metres)."""
    lengths = {}
    for joint in JOINTS:
        if joint.bone is None:
            continue
        if seen.any():
            vectors = points[joint.bone][seen] - points[joint.at][seen]
            lengths[joint.name] = float(np.median(np.linalg.norm(vectors, axis=-1)))
        else:
            lengths[joint.name] = _DEFAULT_LENGTHS[
                joint.name.removeprefix("Left").removeprefix("Right")
            ]
    return lengths


def _world_rotations(
    points: Mapping[str, FloatArray], lengths: Mapping[str, float]
) -> dict[str, FloatArray]:
    """Each joint's rotation in the world (n, 3, 3), mapping its rest pose to the frame.

    A bone is aimed from where the skeleton has put its start (the rigid chain above
    it, bones at their median lengths) at the landmark it ends on, not along the
    landmarks' own bone: a bone the model saw stretched or shrunk then moves the
    joints below it by its own error only, instead of carrying it down the chain.
    """
    rotations: dict[str, FloatArray] = {}
    placed = {"mid_hip": points["mid_hip"]}  # where the skeleton puts each point
    for joint in JOINTS:
        aim = None if joint.bone is None else points[joint.bone] - placed[joint.at]
        if joint.twist is not None:
            if joint.primary is not None:
                primary, rest_primary = _line(points, joint.primary)
            else:
                assert aim is not None
                primary, rest_primary = aim, joint.rest
            secondary, rest_secondary = _line(points, joint.twist)
            rest = _frame(rest_primary[None], rest_secondary[None])[0]
            rotation = _frame(primary, secondary) @ rest.T
        else:
            assert joint.parent is not None and aim is not None
            parent = rotations[joint.parent]
            rotation = _swing(parent @ joint.rest, _unit(aim)) @ parent
        rotations[joint.name] = rotation
        if joint.bone is not None:
            placed[joint.bone] = placed[joint.at] + rotation @ joint.rest * lengths[joint.name]
    return rotations


def _offset(joint: Joint, lengths: Mapping[str, float]) -> FloatArray:
    """Where ``joint`` sits in its parent's rest frame (metres)."""
    if joint.parent is None:
        return np.zeros(3)
    parent = _BY_NAME[joint.parent]
    if parent.at == joint.at:
        return np.zeros(3)
    return parent.rest * lengths[parent.name]


def _hierarchy(lengths: Mapping[str, float]) -> Iterator[str]:
    children: dict[str | None, list[Joint]] = {}
    for joint in FILE_ORDER:
        children.setdefault(joint.parent, []).append(joint)

    def lines(joint: Joint, depth: int) -> Iterator[str]:
        pad = "\t" * depth
        offset = _offset(joint, lengths) * CM_PER_M
        channels = ROOT_CHANNELS if joint.parent is None else JOINT_CHANNELS
        yield f"{pad}{'ROOT' if joint.parent is None else 'JOINT'} {joint.name}"
        yield f"{pad}{{"
        yield f"{pad}\tOFFSET {_numbers(offset)}"
        yield f"{pad}\tCHANNELS {len(channels)} {' '.join(channels)}"
        for child in children.get(joint.name, []):
            yield from lines(child, depth + 1)
        if joint.name not in children:
            assert joint.bone is not None
            end = joint.rest * lengths[joint.name] * CM_PER_M
            yield from (f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {_numbers(end)}")
            yield f"{pad}\t}}"
        yield f"{pad}}}"

    yield "HIERARCHY"
    yield from lines(JOINTS[0], 0)


def _numbers(values: FloatArray) -> str:
    return " ".join(f"{v:.4f}" for v in np.round(values, 4) + 0.0)


def _motion_table(
    points: Mapping[str, FloatArray],
    seen: npt.NDArray[np.bool_],
    lengths: Mapping[str, float],
    frames: int,
) -> FloatArray:
    """(frames, channels): the root's position (cm) and every joint's ZXY angles (deg)."""
    if not seen.any():
        return np.zeros((frames, len(ROOT_CHANNELS) + 3 * (len(JOINTS) - 1)))
    rotations = _world_rotations(points, lengths)
    feet = np.stack([points[name][:, 1] for name in _FEET], axis=1).min(axis=1)
    lift = float(np.median((points["mid_hip"][:, 1] - feet)[seen]))
    columns = [(points["mid_hip"] + lift * _Y) * CM_PER_M]
    for joint in FILE_ORDER:
        local = rotations[joint.name]
        if joint.parent is not None:
            local = np.transpose(rotations[joint.parent], (0, 2, 1)) @ local
        columns.append(np.degrees(np.unwrap(euler_zxy(local), axis=0)))
    return np.concatenate(columns, axis=1)


def write_bvh(motion: Motion, path: Path) -> None:
    """``skeleton.bvh`` from ``motion``'s world landmarks."""
    landmarks, seen = _held(motion.world)
    points = _points(landmarks)
    lengths = _lengths(points, seen)
    table = np.round(_motion_table(points, seen, lengths, len(motion.t_ms)), 4) + 0.0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(_hierarchy(lengths)) + "\n")
        out.write(f"MOTION\nFrames: {len(table)}\nFrame Time: {1.0 / motion.fps:.6f}\n")
        np.savetxt(out, table, fmt="%.4f", delimiter=" ")
