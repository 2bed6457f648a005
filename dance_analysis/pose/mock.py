"""Deterministic synthetic dancing, for the documented mock mode (``USE_MOCK_ANALYSIS=true``).

Produces the exact schema of the real backend from the timestamp alone: a figure
standing in the middle of the frame that bends its knees (a 0.5 Hz squat), swings
its arms (1 Hz) and sways its hips. No model is loaded, so a whole stack can be
exercised in seconds. Nothing in a real analysis ever uses it.

With ``people=2`` (``DANCE_MOCK_PEOPLE=2``) the scene has two dancers, to exercise
everything that knows there can be several: id 1 is a small figure at the left of the
frame (further back) from the first frame; id 2 is the main figure in the middle, who
walks in at :data:`SECOND_DANCER_FROM_MS`. By the rule of
:func:`dance_analysis.pose.people.choose_dancer` id 1 leads until id 2 arrives and id 2
is the dancer of any clip longer than a second, so the overlay of the first frames has
to be drawn again.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dance_analysis.pose.base import ModelInfo, PersonPose, PoseObservation, landmark_box
from dance_analysis.skeleton import BLAZEPOSE_33

# A standing figure in world coordinates (metres, hip-centred, y down, x to the
# dancer's left as seen by the camera). Only x and y; z is derived from the motion.
_REST_POSE = {
    "nose": (0.0, -0.62), "left_eye_inner": (0.015, -0.66), "left_eye": (0.03, -0.66),
    "left_eye_outer": (0.045, -0.66), "right_eye_inner": (-0.015, -0.66),
    "right_eye": (-0.03, -0.66), "right_eye_outer": (-0.045, -0.66),
    "left_ear": (0.07, -0.64), "right_ear": (-0.07, -0.64),
    "mouth_left": (0.025, -0.59), "mouth_right": (-0.025, -0.59),
    "left_shoulder": (0.18, -0.48), "right_shoulder": (-0.18, -0.48),
    "left_elbow": (0.22, -0.22), "right_elbow": (-0.22, -0.22),
    "left_wrist": (0.24, 0.02), "right_wrist": (-0.24, 0.02),
    "left_pinky": (0.25, 0.08), "right_pinky": (-0.25, 0.08),
    "left_index": (0.24, 0.09), "right_index": (-0.24, 0.09),
    "left_thumb": (0.22, 0.06), "right_thumb": (-0.22, 0.06),
    "left_hip": (0.1, 0.0), "right_hip": (-0.1, 0.0),
    "left_knee": (0.11, 0.42), "right_knee": (-0.11, 0.42),
    "left_ankle": (0.12, 0.82), "right_ankle": (-0.12, 0.82),
    "left_heel": (0.12, 0.86), "right_heel": (-0.12, 0.86),
    "left_foot_index": (0.14, 0.88), "right_foot_index": (-0.14, 0.88),
}  # fmt: skip
_REST = np.array([_REST_POSE[name] for name in BLAZEPOSE_33.joints])
_IDX = {name: i for i, name in enumerate(BLAZEPOSE_33.joints)}
_LEGS = [
    i for i, name in enumerate(BLAZEPOSE_33.joints)
    if name.endswith(("_knee", "_ankle", "_heel", "_foot_index"))
]  # fmt: skip
_UPPER = [i for i in range(33) if i not in _LEGS]
_ARM_PARTS = ("elbow", "wrist", "pinky", "index", "thumb")

MOCK_PEOPLE = (1, 2)  # how many dancers the mock scene can hold
SECOND_DANCER_FROM_MS = 400.0  # people=2: when the main dancer (id 2) walks in
_BACK_DANCER = (0.2, 0.45, 1.0)  # people=2, id 1: centre x, size, phase (s) of the small figure


def _pose_at(t_s: float) -> npt.NDArray[np.float64]:
    """World (33, 3) at time t: squat, arm swing and hip sway as smooth sines."""
    xyz = np.zeros((33, 3))
    xyz[:, :2] = _REST
    squat = 0.5 * (1 - np.cos(2 * np.pi * 0.5 * t_s))  # 0 standing .. 1 deepest
    # Bend the knees: the upper body drops and knees move forward (towards the camera).
    xyz[_UPPER, 1] += 0.25 * squat
    for side in ("left", "right"):
        xyz[_IDX[f"{side}_knee"], 2] -= 0.3 * squat
        xyz[_IDX[f"{side}_knee"], 1] += 0.05 * squat
    # Swing each arm about its shoulder in the x-y plane; mirrored sides, half a cycle apart.
    for side, phase, sign in (("left", 0.0, 1.0), ("right", np.pi, -1.0)):
        angle = sign * 0.9 * np.sin(2 * np.pi * 1.0 * t_s + phase)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        shoulder = xyz[_IDX[f"{side}_shoulder"], :2].copy()
        arm = [_IDX[f"{side}_{part}"] for part in _ARM_PARTS]
        xyz[arm, :2] = shoulder + (xyz[arm, :2] - shoulder) @ rotation.T
    xyz[:, 0] += 0.05 * np.sin(2 * np.pi * 0.25 * t_s)  # sway
    return xyz


def _project(
    world_xyz: npt.NDArray[np.float64], width: int, height: int, centre_x: float, size: float
) -> PoseObservation:
    """The figure on the picture: ~1.7 m tall filling ``size`` × 70 % of the frame height,
    standing on the same floor line whatever its size."""
    full = 0.7 * height / 1.7
    scale = size * full
    # A smaller figure is lowered so that its feet stay where the full-size one's are.
    lowered = (1.0 - size) * (0.88 + 0.05) * full / height
    landmarks = np.empty((33, 4))
    landmarks[:, 0] = centre_x + world_xyz[:, 0] * scale / width
    landmarks[:, 1] = 0.5 + (world_xyz[:, 1] + 0.05) * scale / height + lowered
    landmarks[:, 2] = world_xyz[:, 2] * scale / width
    landmarks[:, 3] = 0.99
    world = np.empty((33, 4))
    world[:, :3] = world_xyz
    world[:, 3] = 0.99
    return PoseObservation(landmarks=landmarks, world=world)


class MockPose:
    """Synthetic, deterministic poses: the same timestamp always gives the same pose."""

    skeleton = BLAZEPOSE_33

    def __init__(self, people: int = 1) -> None:
        if people not in MOCK_PEOPLE:
            raise ValueError(f"the mock scene holds {' or '.join(map(str, MOCK_PEOPLE))} people")
        self.people = people
        scene = "synthetic poses" if people == 1 else "two synthetic dancers"
        self.info = ModelInfo(
            backend="mock",
            model="synthetic_dancer" if people == 1 else "synthetic_dancers_2",
            device="cpu",
            note=f"mock mode (USE_MOCK_ANALYSIS=true): {scene}, not a real analysis",
        )

    def estimate(self, image: npt.NDArray[np.uint8], t_ms: float) -> PoseObservation | None:
        """The main dancer (the only one with ``people=1``); None before it walks in."""
        height, width = image.shape[:2]
        if self.people == 2 and t_ms < SECOND_DANCER_FROM_MS:
            return None
        return _project(_pose_at(t_ms / 1000.0), width, height, 0.5, 1.0)

    def estimate_people(self, image: npt.NDArray[np.uint8], t_ms: float) -> list[PersonPose]:
        height, width = image.shape[:2]
        found = []
        if self.people == 2:
            centre_x, size, phase_s = _BACK_DANCER
            back = _project(_pose_at(t_ms / 1000.0 + phase_s), width, height, centre_x, size)
            found.append(PersonPose(1, back, landmark_box(back.landmarks), 0.9))
        main = self.estimate(image, t_ms)
        if main is not None:
            found.append(PersonPose(self.people, main, landmark_box(main.landmarks), 0.99))
        return found

    def close(self) -> None:
        pass
