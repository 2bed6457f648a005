"""Movement metrics on hand-made motion: known speeds, mirrored angles, a drawn stance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dance_analysis.analysis.metrics import (
    balance,
    body_speed,
    joint_speeds,
    movement,
    smoothness,
    sparc,
    symmetry,
)
from tests.analysis.poses import index, standing, timeline

pytestmark = pytest.mark.filterwarnings("error")


def test_speed_uses_the_real_timestamps() -> None:
    t = np.array([0.0, 10.0, 30.0, 60.0, 100.0, 150.0])  # variable frame rate
    world = standing(len(t))
    world[:, index("left_wrist"), 0] += t / 1000.0  # 1 m/s along x
    speeds = joint_speeds(t, world)
    assert speeds[:, index("left_wrist")] == pytest.approx(np.ones(len(t)))
    assert speeds[:, index("right_wrist")] == pytest.approx(np.zeros(len(t)))


def test_speed_and_energy_of_a_body_moving_at_2_m_per_s() -> None:
    t = timeline(2, 30)
    world = standing(len(t))
    world[..., 0] += 2.0 * t[:, None] / 1000.0
    world[:10, index("left_knee")] = np.nan  # one joint missing: the mean uses the others
    assert body_speed(t, world) == pytest.approx(np.full(len(t), 2.0))
    result = movement(t, world)
    assert result["body_speed_mean_m_per_s"] == pytest.approx(2.0)
    assert result["body_speed_peak_m_per_s"] == pytest.approx(2.0)
    assert result["energy_m2_per_s2"] == pytest.approx(4.0)
    assert result["joints"]["right_ankle"]["mean_m_per_s"] == pytest.approx(2.0)


def test_peak_speed_and_when_it_happens() -> None:
    t = timeline(2, 30)
    world = standing(len(t))
    # x = 0.1 sin(2π t): speed 0.2π |cos(2π t)|, peaking at 0.628 m/s at t = 0, 0.5 s, 1 s ...
    world[:, index("right_wrist"), 0] += 0.1 * np.sin(2 * np.pi * t / 1000.0)
    wrist = movement(t, world)["joints"]["right_wrist"]
    assert wrist["peak_m_per_s"] == pytest.approx(0.2 * np.pi, rel=0.01)
    assert wrist["peak_time_ms"] in (500.0, 1000.0, 1500.0)


def test_movement_without_data_is_none_not_nan() -> None:
    for n in (0, 1, 30):
        t = timeline(n / 30, 30)
        result = movement(t, np.full((n, 33, 4), np.nan))
        json.dumps(result, allow_nan=False)
        assert result["energy_m2_per_s2"] is None
        assert result["joints"]["left_wrist"]["peak_time_ms"] is None


def test_sparc_of_one_smooth_reach_and_of_two() -> None:
    fs = 100.0
    tau = np.linspace(0.0, 1.0, 101)
    reach = 30 * tau**2 - 60 * tau**3 + 30 * tau**4  # minimum-jerk speed profile
    one = sparc(reach, fs)
    assert -1.6 < one < -1.3  # the published value for a minimum-jerk reach is about -1.4
    assert sparc(np.concatenate([reach, reach]), fs) < one - 0.5
    assert np.isnan(sparc(np.zeros(50), fs))


def test_tremor_is_less_smooth_and_a_still_limb_has_no_score() -> None:
    t = timeline(6, 30)
    world = standing(len(t))
    sway = 0.3 * np.sin(2 * np.pi * 0.5 * t / 1000.0)
    world[:, index("left_wrist"), 0] += sway
    world[:, index("right_wrist"), 0] += sway + 0.01 * np.sin(2 * np.pi * 6.0 * t / 1000.0)
    result = smoothness(t, world)
    left, right = result["joints"]["left_wrist"], result["joints"]["right_wrist"]
    assert right < left < 0
    assert result["joints"]["left_ankle"] is None  # the feet did not move
    assert result["overall"] == pytest.approx((left + right) / 2)
    assert smoothness(t[:30], world[:30])["overall"] is None  # shorter than one window


def test_mirrored_identical_angles_are_perfectly_symmetric() -> None:
    series = 90.0 + 40.0 * np.sin(np.linspace(0.0, 6.0, 50))
    angles = {f"{side}_{part}": series for side in ("left", "right") for part in ("elbow", "knee")}
    result = symmetry(angles)
    assert result["parts"]["elbow"] == {"mean_abs_diff_deg": 0.0, "score": 100.0}
    assert result["parts"]["hip"] == {"mean_abs_diff_deg": None, "score": None}
    assert result["overall_score"] == 100.0


def test_a_steady_9_degree_difference_scores_80() -> None:
    left = np.array([100.0, 120.0, np.nan, 140.0])
    right = np.array([109.0, 111.0, 150.0, 131.0])
    result = symmetry({"left_knee": left, "right_knee": right})
    assert result["parts"]["knee"]["mean_abs_diff_deg"] == pytest.approx(9.0)
    assert result["parts"]["knee"]["score"] == pytest.approx(80.0)  # 100 × (1 - 9 / 45)


def test_balance_on_a_drawn_stance() -> None:
    # Four frames in pixels: feet 80 px and 160 px, shoulders 60 px apart, hips swaying ±6 px
    # about the middle of the feet, then once far past the right foot.
    points = np.full((5, 33, 2), np.nan)
    points[:, index("left_ankle")] = (160.0, 900.0)
    points[:, index("right_ankle")] = (80.0, 900.0)
    points[:, index("left_shoulder")] = (150.0, 300.0)
    points[:, index("right_shoulder")] = (90.0, 300.0)
    centre = np.array([114.0, 126.0, 114.0, 126.0, 120.0])
    points[:, index("left_hip"), 0] = centre + 20.0
    points[:, index("right_hip"), 0] = centre - 20.0
    result = balance(points[:4])
    assert result["com_in_base_mean"] == pytest.approx(0.5)  # (34 / 80 + 46 / 80) / 2
    assert result["within_base_fraction"] == 1.0
    assert result["sway_shoulder_widths"] == pytest.approx(0.1)  # std 6 px / 60 px
    assert result["coverage"] == 1.0

    points[4, index("left_hip"), 0], points[4, index("right_hip"), 0] = 230.0, 190.0
    points[4, index("left_heel")] = (170.0, 910.0)  # a heel widens the base
    result = balance(points)
    assert result["within_base_fraction"] == pytest.approx(0.8)


def test_balance_needs_both_ankles() -> None:
    points = np.full((3, 33, 2), np.nan)
    points[:, index("left_hip")] = (100.0, 500.0)
    points[:, index("right_hip")] = (60.0, 500.0)
    points[:, index("left_ankle")] = (100.0, 900.0)
    result = balance(points)
    assert result == {
        "com_in_base_mean": None,
        "within_base_fraction": None,
        "sway_shoulder_widths": None,
        "coverage": 0.0,
    }
