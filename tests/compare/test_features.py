"""The body frame, bone directions, retargeting and the mirror, with numbers you can
check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from dance_analysis.compare import Performance, body_features, retarget
from dance_analysis.compare.features import (
    BONE_NAMES,
    BONES,
    MID_HIP,
    TREE,
    body_frame,
    bone_lengths,
    directions,
    extended_points,
    smoothed,
    yaw_matrices,
)
from dance_analysis.compare.mirror import (
    is_mirrored,
    mirror_directions,
    mirror_points,
)
from tests.compare import clips

J = clips.J


def _world(squats: dict) -> np.ndarray:
    return clips.arrays(squats)[1]


def test_the_body_frame_puts_mid_hip_at_the_origin_and_the_hips_on_x(squats: dict) -> None:
    points, _ = body_frame(_world(squats))
    assert np.abs(points[:, MID_HIP]).max() < 1e-12
    hips = points[:, J["left_hip"]] - points[:, J["right_hip"]]
    assert np.all(hips[:, 0] > 0)
    assert np.abs(hips[:, 2]).max() < 1e-12  # no depth left in the hips' line


def test_turning_and_moving_the_dancer_changes_nothing_in_the_body_frame(squats: dict) -> None:
    world = _world(squats)
    theta = np.radians(70.0)
    rotation = np.array(
        [[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]]
    )
    moved = world @ rotation.T + (2.0, 0.3, -1.0)
    a, rotations_a = body_frame(world)
    b, rotations_b = body_frame(moved)
    np.testing.assert_allclose(a, b, atol=1e-9)
    # The rotations removed differ by the turn.
    np.testing.assert_allclose(rotations_b @ rotation, rotations_a, atol=1e-9)


@pytest.mark.parametrize("axis", ["pitch", "roll"])
def test_a_tilted_camera_is_levelled(squats: dict, axis: str) -> None:
    """A phone pitched or rolled by 15°: the same body frame (to about a degree)."""
    world = _world(squats)
    theta = np.radians(15.0)
    c, s = np.cos(theta), np.sin(theta)
    tilt = (
        np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
        if axis == "pitch"
        else np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    )
    a, _ = body_frame(world)
    b, _ = body_frame(world @ tilt.T)
    unit_a, unit_b = directions(a, BONES), directions(b, BONES)
    degrees = np.degrees(np.arccos(np.clip(np.sum(unit_a * unit_b, axis=-1), -1, 1)))
    assert np.median(degrees) < 1.0
    assert np.percentile(degrees, 95) < 3.0


def test_a_right_angle_at_the_elbow_is_ninety_degrees_between_the_bones() -> None:
    world = np.zeros((1, 33, 3))
    world[0, J["left_hip"]] = (0.1, 0.0, 0.0)
    world[0, J["right_hip"]] = (-0.1, 0.0, 0.0)
    world[0, J["left_shoulder"]] = (0.2, -0.5, 0.0)
    world[0, J["right_shoulder"]] = (-0.2, -0.5, 0.0)  # an upright trunk: nothing to level
    world[0, J["left_elbow"]] = (0.5, -0.5, 0.0)  # upper arm straight out to the side
    world[0, J["left_wrist"]] = (0.5, -0.8, 0.0)  # forearm straight up
    points, _ = body_frame(world)
    unit = directions(points, BONES)
    upper = unit[0, BONE_NAMES.index("left_shoulder->left_elbow")]
    fore = unit[0, BONE_NAMES.index("left_elbow->left_wrist")]
    np.testing.assert_allclose(upper, (1, 0, 0), atol=1e-12)
    np.testing.assert_allclose(fore, (0, -1, 0), atol=1e-12)
    assert np.degrees(np.arccos(upper @ fore)) == pytest.approx(90.0)


def test_a_missing_point_leaves_its_bones_missing(squats: dict) -> None:
    world = _world(squats).copy()
    world[3, J["left_wrist"]] = np.nan
    features = body_features(Performance.from_arrays(np.arange(len(world)) * 200.0, world))
    missing = [BONE_NAMES[k] for k in np.flatnonzero(features.confidence[3] == 0)]
    assert missing == ["left_elbow->left_wrist", "left_wrist->left_index"]
    assert np.isnan(features.directions[3, BONE_NAMES.index("left_elbow->left_wrist")]).all()
    assert features.confidence[4].min() > 0


def test_retargeting_puts_the_teacher_s_pose_on_the_student_s_bones(squats: dict) -> None:
    teacher_world = _world(squats)
    student = clips.reproportioned(squats, {"wrist": 1.3, "knee": 0.8, "": 1.1})
    student_world = clips.arrays(student)[1]
    teacher = body_features(Performance.from_arrays(np.arange(65) * 200.0, teacher_world))
    student_f = body_features(Performance.from_arrays(np.arange(65) * 200.0, student_world))
    ghost = retarget(teacher.tree_directions, student_f.tree_lengths)
    ghost_points = extended_points(ghost)  # already in the teacher's body frame
    # Every bone has the student's length ...
    lengths = np.linalg.norm(ghost_points[:, TREE[:, 1]] - ghost_points[:, TREE[:, 0]], axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(student_f.tree_lengths, lengths.shape))
    assert not np.allclose(student_f.tree_lengths, teacher.tree_lengths, rtol=0.05)
    # ... and the teacher's direction.
    np.testing.assert_allclose(directions(ghost_points, TREE), teacher.tree_directions, atol=1e-9)
    # Scored bones between two tree joints: all but the face's and the foot's (heel to
    # toe joins two children of the ankle, whose lengths are medians of their own).
    arms_and_legs = [
        k for k, name in enumerate(BONE_NAMES) if "ear" not in name and "heel" not in name
    ]
    np.testing.assert_allclose(
        directions(ghost_points, BONES)[:, arms_and_legs],
        teacher.directions[:, arms_and_legs],
        atol=1e-9,
    )


def test_retargeting_with_the_student_s_rotations_gives_camera_axes(squats: dict) -> None:
    world = _world(squats)
    features = body_features(Performance.from_arrays(np.arange(65) * 200.0, world))
    ghost = retarget(features.tree_directions, features.tree_lengths, rotations=features.rotations)
    hips = world[:, [J["left_hip"], J["right_hip"]]].mean(axis=1)
    # Its own directions and lengths, turned back: the clip itself, about its mid-hip,
    # to within how far its bones stray from their median lengths.
    error = np.linalg.norm(ghost - (world - hips[:, None]), axis=-1)
    assert np.median(error) < 0.03


def test_retargeting_with_a_facing_turns_the_ghost_that_way(squats: dict) -> None:
    world = _world(squats)
    features = body_features(Performance.from_arrays(np.arange(65) * 200.0, world))
    rotations = yaw_matrices(np.full(65, np.radians(90.0)))
    ghost = retarget(features.tree_directions, features.tree_lengths, rotations=rotations)
    hips = ghost[:, J["left_hip"]] - ghost[:, J["right_hip"]]
    # The hips' line now points along +z (90° from +x towards +z), level.
    np.testing.assert_allclose(hips[:, 0], 0.0, atol=1e-12)
    assert np.all(hips[:, 2] > 0)


def test_bone_lengths_are_medians_over_the_clip() -> None:
    points = np.zeros((3, 36, 3))
    points[:, 1, 0] = [1.0, 2.0, 10.0]  # one frame's outlier does not move a median
    lengths = bone_lengths(points, np.array([[0, 1]]))
    assert lengths.tolist() == [2.0]


def test_mirroring_twice_is_the_identity_and_matches_mirrored_points(squats: dict) -> None:
    points, _ = body_frame(_world(squats))
    np.testing.assert_allclose(mirror_points(mirror_points(points)), points)
    unit = directions(points, BONES)
    np.testing.assert_allclose(mirror_directions(mirror_directions(unit)), unit)
    # Mirroring the directions is mirroring the body, then taking its directions.
    np.testing.assert_allclose(
        mirror_directions(unit), directions(mirror_points(points), BONES), atol=1e-12
    )
    # The mirror image is still in the body frame: hips on +x.
    mirrored = mirror_points(points)
    assert np.all(mirrored[:, J["left_hip"], 0] > mirrored[:, J["right_hip"], 0])


def test_a_mirror_needs_to_win_by_both_margins() -> None:
    assert is_mirrored(direct_deg=30.0, mirrored_deg=5.0)
    assert not is_mirrored(direct_deg=6.0, mirrored_deg=4.0)  # closer, but by only 2°
    assert not is_mirrored(direct_deg=40.0, mirrored_deg=35.0)  # 5° is not 20 % better
    assert not is_mirrored(direct_deg=10.0, mirrored_deg=10.0)  # a tie is not mirrored
    assert not is_mirrored(direct_deg=float("nan"), mirrored_deg=1.0)


def test_world_landmarks_are_smoothed_over_100_ms_at_30_fps_not_at_5() -> None:
    t = np.arange(30) * (1000.0 / 30.0)
    world = np.zeros((30, 33, 3))
    world[:, 0, 0] = np.where(np.arange(30) % 2 == 0, 0.01, -0.01)  # 1 cm flicker
    world[10, 1] = np.nan
    out = smoothed(world, t)
    # Three frames averaged: the flicker drops to a third, a missing point stays missing.
    assert np.abs(out[1:-1, 0, 0]).max() == pytest.approx(0.01 / 3)
    assert np.isnan(out[10, 1]).all() and not np.isnan(out[9, 1]).any()
    # At 5 fps a frame is 200 ms: nothing to average within 100 ms.
    np.testing.assert_array_equal(smoothed(world, np.arange(30) * 200.0), world)
