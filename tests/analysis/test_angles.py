"""Joint angles: by hand on right angles and straight lines, then on a whole skeleton."""

from __future__ import annotations

import numpy as np
import pytest

from dance_analysis.analysis.angles import ANGLE_NAMES, angle_at, compute_angles, summarize
from tests.analysis.poses import bend_knee, index, standing

pytestmark = pytest.mark.filterwarnings("error")  # "NaN in, NaN out" must also be silent


def test_a_right_angle_is_90_and_a_straight_line_180() -> None:
    assert angle_at((1, 0), (0, 0), (0, 1)) == pytest.approx(90.0)
    assert angle_at((-1, 0), (0, 0), (1, 0)) == pytest.approx(180.0)
    assert angle_at((2, 2), (1, 1), (3, 3)) == pytest.approx(0.0)


def test_angles_in_3d_and_over_a_batch() -> None:
    a = np.array([[1.0, 0, 0], [1.0, 0, 0]])
    c = np.array([[0.0, 0, 5], [1.0, 1, 0]])
    assert angle_at(a, np.zeros(3), c) == pytest.approx([90.0, 45.0])


def test_nan_in_gives_nan_out_and_leaves_the_rest_alone() -> None:
    a = np.array([[np.nan, 0.0], [1.0, 0.0]])
    result = angle_at(a, np.zeros(2), np.array([0.0, 1.0]))
    assert np.isnan(result[0])
    assert result[1] == pytest.approx(90.0)


def test_a_zero_length_arm_has_no_angle() -> None:
    assert np.isnan(angle_at((0, 0), (0, 0), (1, 0)))


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize(
    ("shoulder_mid", "lean"),
    [((0.0, -0.5), 0.0), ((0.5, 0.0), 90.0), ((-0.5, -0.5), 45.0), ((0.0, 0.5), 180.0)],
)
def test_trunk_lean_from_vertical(
    shoulder_mid: tuple[float, float], lean: float, dims: int
) -> None:
    points = np.full((1, 33, dims), np.nan)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        points[0, index(f"{side}_hip")] = (sign * 0.1, 0.0, 0.0)[:dims]
        points[0, index(f"{side}_shoulder")] = (shoulder_mid[0] + sign * 0.2, shoulder_mid[1], 0.0)[
            :dims
        ]
    assert compute_angles(points)["trunk"] == pytest.approx([lean])


def test_compute_angles_on_a_skeleton() -> None:
    world = standing(3)
    bend_knee(world, slice(1, 2), 120.0)
    angles = compute_angles(world[..., :3])
    assert set(angles) == set(ANGLE_NAMES)
    assert angles["left_knee"] == pytest.approx([180.0, 120.0, 180.0])
    assert angles["right_knee"] == pytest.approx([180.0] * 3)
    assert angles["left_elbow"] == pytest.approx([180.0] * 3)
    assert angles["trunk"] == pytest.approx([0.0] * 3)
    # Same pose in 2D (its x-y plane), as an image in square pixels would give it.
    assert compute_angles(world[..., :2])["left_knee"] == pytest.approx([180.0, 120.0, 180.0])


def test_compute_angles_refuses_visibility_as_a_coordinate() -> None:
    with pytest.raises(ValueError, match=r"\(N, 33, 2\|3\)"):
        compute_angles(standing(2))


def test_summarize_by_hand() -> None:
    summary = summarize(np.array([10.0, np.nan, 30.0, 20.0]), np.array([0.0, 100.0, 200.0, 300.0]))
    assert summary == {
        "min": 10.0,
        "max": 30.0,
        "range": 20.0,
        "mean": 20.0,
        "t_min_ms": 0.0,
        "t_max_ms": 200.0,
        "coverage": 0.75,
    }


def test_summarize_without_data_gives_none_not_nan() -> None:
    summary = summarize(np.full(3, np.nan), np.arange(3.0))
    assert summary["coverage"] == 0.0
    assert all(summary[key] is None for key in ("min", "max", "range", "mean", "t_min_ms"))
    assert summarize(np.array([]), np.array([]))["coverage"] == 0.0
