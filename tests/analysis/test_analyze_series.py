"""The analysis entry point end to end on synthetic clips, and on clips with nobody in them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dance_analysis.analysis.angles import ANGLE_NAMES
from dance_analysis.analysis.series import AnalysisOptions, analyze_series
from tests.analysis.poses import HEIGHT, WIDTH, bend_knee, index, standing, timeline, to_image

pytestmark = pytest.mark.filterwarnings("error")


def test_a_clip_with_a_held_knee_bend() -> None:
    t = timeline(8, 30)
    world = standing(len(t))
    bend_knee(world, (t >= 3000) & (t <= 5000), 120.0)
    rng = np.random.default_rng(3)
    world[..., :3] += rng.normal(0.0, 0.002, world[..., :3].shape)  # 2 mm of model jitter
    image = to_image(world)
    world[50, index("right_wrist"), 1] += 0.4  # a one-frame glitch
    image[150:153] = world[150:153] = np.nan  # the model loses the dancer for 0.1 s

    result = analyze_series(t, image, world, width=WIDTH, height=HEIGHT)

    assert result.coverage == pytest.approx(237 / 240)
    assert result.warnings == []
    assert result.clean_landmarks.shape == result.clean_world.shape == (240, 33, 4)
    assert np.isfinite(result.clean_world[..., :3]).all()  # dropout filled, glitch repaired
    assert result.clean_world[50, index("right_wrist"), 1] == pytest.approx(0.04, abs=0.01)
    knee = result.angles["left_knee"]
    assert knee[120] == pytest.approx(120.0, abs=2.0)  # 4 s
    assert knee[30] == pytest.approx(180.0, abs=2.0)  # 1 s
    assert result.angle_summaries["left_knee"]["min"] == pytest.approx(120.0, abs=3.0)
    assert result.body_speed.shape == (240,)

    bent = next(i for i in result.feedback if i.joints == ("left_knee",) and "bent" in i.message)
    assert bent.time_ms == pytest.approx(3000.0, abs=70.0)
    assert bent.end_ms == pytest.approx(5000.0, abs=70.0)

    document = result.to_dict()
    json.dumps(document, allow_nan=False)
    assert set(document) == {"angles", "metrics", "feedback", "warnings", "coverage"}
    assert set(document["angles"]) == set(ANGLE_NAMES)
    assert set(document["metrics"]) == {"movement", "smoothness", "symmetry", "balance"}
    assert document["metrics"]["symmetry"]["parts"]["elbow"]["score"] > 95.0
    assert bent.to_dict() in document["feedback"]


def test_low_visibility_landmarks_are_never_measured() -> None:
    t = timeline(4, 30)
    world = standing(len(t))
    world[60:, index("left_ankle"), 3] = 0.1  # foot out of frame for the second half
    result = analyze_series(t, to_image(world), world, width=WIDTH, height=HEIGHT)
    assert np.isnan(result.angles["left_knee"][60:]).all()
    assert np.isnan(result.angles["left_ankle"][60:]).all()
    assert result.angles["right_knee"] == pytest.approx(np.full(120, 180.0))
    assert result.angle_summaries["left_knee"]["coverage"] == pytest.approx(0.5)


def test_without_world_landmarks_angles_come_from_square_pixels() -> None:
    t = timeline(2, 30)
    pose = standing(len(t))
    shoulder = pose[:, index("left_shoulder"), :3]
    pose[:, index("left_elbow"), :3] = shoulder + np.array([0.2, 0.2, 0.0])
    pose[:, index("left_wrist"), :3] = shoulder + np.array([0.4, 0.0, 0.0])
    # A right angle on its corner; on a 720 x 1280 frame its normalised coordinates make 121°.
    result = analyze_series(t, to_image(pose), None, width=WIDTH, height=HEIGHT)
    assert result.angles["left_elbow"] == pytest.approx(np.full(len(t), 90.0), abs=0.1)
    assert result.metrics["movement"]["energy_m2_per_s2"] is None  # no metres, no speed


def test_options_reach_the_cleaning() -> None:
    t = timeline(2, 30)
    world = standing(len(t))
    world[:, index("left_knee"), 3] = 0.6
    image = to_image(world)
    default = analyze_series(t, image, world, width=WIDTH, height=HEIGHT)
    strict = AnalysisOptions(visibility_min=0.7)
    stricter = analyze_series(t, image, world, width=WIDTH, height=HEIGHT, options=strict)
    assert np.isfinite(default.angles["left_knee"]).all()
    assert np.isnan(stricter.angles["left_knee"]).all()


@pytest.mark.parametrize("frames", [0, 1, 2, 90])
def test_a_clip_with_nobody_in_it(frames: int) -> None:
    t = timeline(frames / 30, 30)
    nobody = np.full((frames, 33, 4), np.nan)
    result = analyze_series(t, nobody, nobody, width=WIDTH, height=HEIGHT)
    document = result.to_dict()
    json.dumps(document, allow_nan=False)
    assert document["coverage"] == 0.0
    assert [w["reason"] for w in document["warnings"]] == ["no_person_detected"]
    assert all(summary["mean"] is None for summary in document["angles"].values())
    assert [item["severity"] for item in document["feedback"]] == (["critical"] if frames else [])
    assert all(series.shape == (frames,) for series in result.angles.values())


def test_a_single_frame_with_a_dancer() -> None:
    world = standing(1)
    result = analyze_series(np.array([0.0]), to_image(world), world, width=WIDTH, height=HEIGHT)
    json.dumps(result.to_dict(), allow_nan=False)
    assert result.coverage == 1.0
    assert result.angles["left_knee"] == pytest.approx([180.0])
    assert result.metrics["movement"]["body_speed_mean_m_per_s"] is None
