"""BlazePose-33 (native) and COCO-17, with names, bones and the mapper between them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Skeleton:
    """A named joint set. ``bones`` are pairs of indices into ``joints``."""

    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]

    def index(self, joint: str) -> int:
        return self.joints.index(joint)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "joints": list(self.joints),
            "bones": [list(b) for b in self.bones],
        }


# MediaPipe's landmark order (mediapipe.solutions.pose.PoseLandmark), which the model emits.
_BLAZEPOSE_JOINTS = (
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip

# The same connections MediaPipe draws (POSE_CONNECTIONS), listed by body part.
_BLAZEPOSE_BONES = (
    # face
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    # torso
    (11, 12), (11, 23), (12, 24), (23, 24),
    # left arm and hand
    (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    # right arm and hand
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    # left leg and foot
    (23, 25), (25, 27), (27, 29), (27, 31), (29, 31),
    # right leg and foot
    (24, 26), (26, 28), (28, 30), (28, 32), (30, 32),
)  # fmt: skip

BLAZEPOSE_33 = Skeleton("blazepose_33", _BLAZEPOSE_JOINTS, _BLAZEPOSE_BONES)

_COCO_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

# The conventional COCO keypoint skeleton, as 0-based index pairs.
_COCO_BONES = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
    (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip

COCO_17 = Skeleton("coco_17", _COCO_JOINTS, _COCO_BONES)

# Every COCO joint has a BlazePose joint of the same name: the mapper is a selection.
COCO17_FROM_BLAZEPOSE = np.array([BLAZEPOSE_33.index(name) for name in COCO_17.joints])

SKELETONS = {s.name: s for s in (BLAZEPOSE_33, COCO_17)}


def to_coco17(landmarks: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """Map BlazePose landmarks ``(..., 33, C)`` to COCO-17 ``(..., 17, C)``."""
    if landmarks.shape[-2] != len(BLAZEPOSE_33.joints):
        raise ValueError(f"expected 33 BlazePose landmarks, got shape {landmarks.shape}")
    return landmarks[..., COCO17_FROM_BLAZEPOSE, :]


# RGB. The dancer's left side warm, right side cool, the midline white: a coach reads
# "which leg" at a glance, also when the dancer faces the camera (a mirror image). The
# overlay video and the desktop's live skeleton draw with these.
SIDE_COLOURS: dict[str, tuple[int, int, int]] = {
    "left": (255, 150, 40),
    "right": (40, 200, 255),
    "mid": (245, 245, 245),
}


def side_of(joint: str) -> str:
    """``left``, ``right`` or ``mid`` (nose, hips' centre, …) by the joint's name."""
    if joint.startswith("left_"):
        return "left"
    if joint.startswith("right_"):
        return "right"
    return "mid"


def bone_side(a: str, b: str) -> str:
    """A bone's side: its joints' when they agree (a shin), else ``mid`` (the hips' bar)."""
    side = side_of(a)
    return side if side == side_of(b) else "mid"
