"""skeleton.bvh read by a BVH library from the package registry (bvhio, MIT), not by
our own code or the spec reader beside these tests: its forward kinematics put every
joint where our landmarks are (as far as rigid bones can), and where the spec reader
puts them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dance_analysis.exports import Motion, write_exports
from dance_analysis.skeleton import BLAZEPOSE_33
from tests.exports.readers import forward_kinematics, read_bvh
from tests.exports.test_exports import AT, _observed


def _bvhio_joints(path: Path) -> dict[str, np.ndarray]:
    """Every joint's world position (cm) in every frame, by bvhio's own kinematics."""
    import bvhio

    root = bvhio.readAsHierarchy(str(path))
    joints = [joint for joint, _, _ in root.layout()]
    frames = len(root.Keyframes)
    at = {joint.Name: np.empty((frames, 3)) for joint in joints}
    for frame in range(frames):
        root.loadPose(frame)
        for joint in joints:
            position = joint.PositionWorld
            at[joint.Name][frame] = (position.x, position.y, position.z)
    return at


def test_a_registry_bvh_reader_plays_our_skeleton_on_our_landmarks(
    real_motion: Motion, tmp_path: Path
) -> None:
    path = write_exports(real_motion, tmp_path, names=("bvh",))["bvh"]
    theirs = _bvhio_joints(path)
    spec = read_bvh(path)
    ours = forward_kinematics(spec)
    assert len(theirs["Hips"]) == len(real_motion.t_ms) == len(spec.motion)
    # Two readers written apart agree on every joint in every frame.
    for name, positions in theirs.items():
        np.testing.assert_allclose(positions, ours[:, spec.index(name)], atol=1e-3, err_msg=name)
    # And the joints land on the landmarks, taken from the hips (the root is lifted).
    seen = _observed(real_motion.world[:, :, :3], list(BLAZEPOSE_33.joints))
    hips = theirs["Hips"]
    errors = np.concatenate([
        np.linalg.norm((theirs[joint] - hips) - (seen[point] - seen["mid_hip"]), axis=1)
        for joint, (point, _) in AT.items()
        if joint in theirs
    ])  # fmt: skip
    print(
        f"\nbvhio: joints from our landmarks, cm: median {np.median(errors):.2f}, "
        f"p90 {np.percentile(errors, 90):.2f}, max {errors.max():.2f}"
    )
    assert np.median(errors) < 2.0 and np.percentile(errors, 90) < 4.0
