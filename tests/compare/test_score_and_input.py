"""The score formula's numbers, and reading a result.json into a Performance."""

from __future__ import annotations

import numpy as np
import pytest

from dance_analysis.compare import CompareError, Performance, compare
from dance_analysis.compare.score import overall_score, points_for
from tests.compare import clips


@pytest.mark.parametrize(
    ("degrees", "points"),
    [(0.0, 100.0), (5.0, 100.0), (17.5, 75.0), (30.0, 50.0), (60.0, 25.0), (90.0, 0.0),
     (150.0, 0.0)],
)  # fmt: skip
def test_the_angle_to_points_knots(degrees: float, points: float) -> None:
    assert points_for(np.array([degrees]))[0] == pytest.approx(points)


def test_the_head_counts_half_and_a_part_without_data_not_at_all() -> None:
    parts = {"head": 0.0, "torso": 100.0, "left_arm": 100.0, "right_arm": 100.0,
             "left_leg": 100.0, "right_leg": None}  # fmt: skip
    # (0.5 * 0 + 4 * 100) / 4.5
    assert overall_score(parts) == pytest.approx(400.0 / 4.5)
    assert overall_score(dict.fromkeys(parts)) is None


def test_frames_without_a_dancer_and_hidden_points_are_missing(squats: dict) -> None:
    result = clips.squats()
    result["frames"][5]["world_landmarks"] = None
    result["frames"][5]["landmarks"] = None
    result["frames"][6]["world_landmarks"][15][3] = 0.2  # left wrist barely visible
    performance = Performance.from_result(result)
    assert performance.world.shape == (65, 33, 3)
    assert np.isnan(performance.world[5]).all() and np.isnan(performance.image[5]).all()
    assert np.isnan(performance.world[6, 15]).all()
    assert performance.visibility[6, 15] == 0.0
    assert not np.isnan(performance.world[6, 16]).any()
    assert performance.t_ms[1] == 200.0 and performance.frame_ms == 200.0
    assert performance.source == "pose_squats.mp4" and len(performance.sha256 or "") == 64
    # A few missing frames do not spoil the comparison.
    outcome = compare(performance, Performance.from_result(squats))
    assert outcome.overall is not None and outcome.overall >= 95


def test_music_counts_are_read_only_when_present(squats: dict) -> None:
    with_music = Performance.from_result(clips.with_music(squats, 500.0, 100.0, first_one=2))
    assert with_music.has_counts
    assert with_music.count_ms[0] == 1100.0 and with_music.count_number[:3].tolist() == [1, 2, 3]
    assert with_music.tempo_bpm == pytest.approx(120.0)
    silent = clips.with_music(squats, 500.0, 100.0)
    silent["music"]["present"] = False
    assert not Performance.from_result(silent).has_counts


def test_a_clip_without_a_dancer_cannot_be_compared(squats: dict) -> None:
    empty = clips.squats()
    for frame in empty["frames"]:
        frame["world_landmarks"] = None
    with pytest.raises(CompareError, match="student"):
        compare(Performance.from_result(empty), Performance.from_result(squats))
