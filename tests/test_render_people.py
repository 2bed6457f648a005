"""The others in the overlay: thin, grey, translucent, and only where they stand."""

from __future__ import annotations

import numpy as np

from dance_analysis.pose import create_estimator
from dance_analysis.render import FAINT_COLOUR, FAINT_OPACITY, draw_others, draw_pose


def _two_poses() -> np.ndarray:
    estimator = create_estimator("mock", mock_people=2)
    people = estimator.estimate_people(np.zeros((320, 180, 3), np.uint8), 1000.0)
    return np.stack([person.pose.landmarks for person in people])


def test_others_are_grey_translucent_and_inside_their_box() -> None:
    poses = _two_poses()
    image = np.full((320, 180, 3), 40, np.uint8)
    draw_others(image, poses[:1])
    changed = np.argwhere((image != 40).any(axis=2))
    assert len(changed) > 50  # the figure is there
    pixels = image[tuple(changed.T)].astype(int)
    assert (pixels.max(axis=1) - pixels.min(axis=1) <= 2).all()  # grey, no side colours
    ceiling = 40 + FAINT_OPACITY * (FAINT_COLOUR[0] - 40) + 1
    assert pixels.max() <= ceiling  # blended, never the full grey
    x0, y0 = poses[0, :, :2].min(axis=0) * (180, 320)
    x1, y1 = poses[0, :, :2].max(axis=0) * (180, 320)
    ys, xs = changed.T
    assert xs.min() >= x0 - 4 and xs.max() <= x1 + 4 and ys.min() >= y0 - 4 and ys.max() <= y1 + 4


def test_the_dancer_is_drawn_bolder_than_the_others() -> None:
    pose = _two_poses()[1]
    faint, bold = np.zeros((320, 180, 3), np.uint8), np.zeros((320, 180, 3), np.uint8)
    draw_others(faint, pose[None])
    draw_pose(bold, pose, None)
    assert (bold.any(axis=2)).sum() > 2 * (faint.any(axis=2)).sum()  # thicker lines
    assert bold.max() > faint.max()  # opaque colours
