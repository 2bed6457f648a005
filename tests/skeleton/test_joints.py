import numpy as np
import pytest

from dance_analysis.skeleton import BLAZEPOSE_33, COCO_17, to_coco17

COCO_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip


def test_blazepose_has_mediapipes_33_joints_in_order() -> None:
    import mediapipe as mp

    expected = [p.name.lower() for p in mp.solutions.pose.PoseLandmark]
    assert list(BLAZEPOSE_33.joints) == expected
    assert set(BLAZEPOSE_33.bones) == {tuple(sorted(b)) for b in mp.solutions.pose.POSE_CONNECTIONS}


def test_coco17_uses_the_standard_names_in_the_standard_order() -> None:
    assert list(COCO_17.joints) == COCO_NAMES


def test_coco17_mapping_picks_the_same_named_blazepose_joint() -> None:
    # Each landmark carries its own BlazePose index, so the mapping can be read back.
    frames = np.arange(33, dtype=float)[None, :, None].repeat(2, axis=0).repeat(4, axis=2)
    coco = to_coco17(frames)
    assert coco.shape == (2, 17, 4)
    picked = [BLAZEPOSE_33.joints[int(i)] for i in coco[0, :, 0]]
    assert picked == COCO_NAMES
    # Hand-checked anchors: COCO's left_hip (11) is BlazePose 23, right_ankle (16) is 28.
    assert coco[0, 11, 0] == 23 and coco[0, 16, 0] == 28


def test_coco17_rejects_a_wrong_joint_count() -> None:
    with pytest.raises(ValueError, match="33"):
        to_coco17(np.zeros((5, 17, 4)))


def test_bones_reference_existing_joints() -> None:
    for skeleton in (BLAZEPOSE_33, COCO_17):
        assert all(
            0 <= a < len(skeleton.joints) and 0 <= b < len(skeleton.joints)
            for a, b in skeleton.bones
        )


def test_sides_colour_left_and_right_apart() -> None:
    from dance_analysis.skeleton import SIDE_COLOURS, bone_side, side_of

    assert side_of("left_knee") == "left" and side_of("right_ankle") == "right"
    assert side_of("nose") == "mid"
    assert bone_side("left_knee", "left_ankle") == "left"
    assert bone_side("left_hip", "right_hip") == "mid"  # the hips' bar belongs to neither
    assert len(set(SIDE_COLOURS.values())) == 3
