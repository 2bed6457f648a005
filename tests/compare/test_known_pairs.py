"""The comparison on pairs with known answers, made from the squats clip at test time.

No music here: the time map comes from DTW over the poses.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from dance_analysis.compare import Comparison, Performance, compare
from tests.compare import clips

FRAME_MS = clips.FRAME_MS


def _compare(student: dict[str, Any], teacher: dict[str, Any]) -> Comparison:
    return compare(Performance.from_result(student), Performance.from_result(teacher))


def test_the_clip_against_itself_scores_full_marks_at_offset_zero(squats: dict) -> None:
    result = _compare(squats, squats)
    assert result.overall is not None and result.overall >= 95
    assert abs(result.time_offset_ms) < 1.0
    assert result.tempo_ratio == pytest.approx(1.0, abs=0.005)
    assert result.mirrored is False
    assert result.method == "dtw"
    assert all(score is not None and score >= 95 for score in result.parts.values())
    # The map pairs each moment with itself.
    pairs = result.alignment_map
    assert np.abs(pairs[:, 0] - pairs[:, 1]).max() < 1.0
    assert all(not s.mirrored and s.score is not None and s.score >= 95 for s in result.segments)


def test_a_mirror_image_is_detected_and_still_scores_high(squats: dict) -> None:
    result = _compare(clips.mirrored(squats), squats)
    assert result.mirrored is True
    assert result.overall is not None and result.overall >= 95
    assert all(s.mirrored for s in result.segments)
    assert any("mirror image" in item["message"] for item in result.feedback)


def test_only_the_mirrored_window_is_called_mirrored(squats: dict) -> None:
    # Frames 20-39 (4 s to 8 s) mirrored: the middle 4 s window, not the others.
    result = _compare(clips.mirrored(squats, slice(20, 40)), squats)
    assert result.mirrored is False
    assert [s.mirrored for s in result.segments] == [False, True, False]
    assert result.overall is not None and result.overall >= 95
    notes = [item["message"] for item in result.feedback if "mirrored" in item["message"]]
    assert notes == ["You mirrored 0:04–0:08: scored against the teacher's mirror image."]


@pytest.mark.parametrize("delay_ms", [1300.0, 2600.0])
def test_a_later_start_is_found_within_one_frame(squats: dict, delay_ms: float) -> None:
    result = _compare(clips.delayed(squats, delay_ms), squats)
    assert result.time_offset_ms == pytest.approx(delay_ms, abs=FRAME_MS)
    assert result.tempo_ratio == pytest.approx(1.0, rel=0.03)
    assert result.overall is not None and result.overall >= 95
    # The standing-still opening before the teacher's clip starts is not scored.
    assert result.segments[0].start_ms >= delay_ms - FRAME_MS


def test_the_teacher_starting_later_gives_a_negative_offset(squats: dict) -> None:
    result = _compare(squats, clips.delayed(squats, 1300.0))
    assert result.time_offset_ms == pytest.approx(-1300.0, abs=FRAME_MS)
    assert result.overall is not None and result.overall >= 95


@pytest.mark.parametrize("speed", [0.8, 1.2])
def test_a_slower_or_faster_dance_gives_the_tempo_ratio(squats: dict, speed: float) -> None:
    result = _compare(clips.retimed(squats, speed), squats)
    assert result.tempo_ratio == pytest.approx(speed, rel=0.03)
    assert abs(result.time_offset_ms) <= FRAME_MS
    assert result.overall is not None and result.overall >= 95
    # The map follows the new tempo: 10 s of the student is 10 s * speed of the teacher.
    s, t = result.alignment_map[:, 0], result.alignment_map[:, 1]
    assert np.interp(10_000.0, s, t) == pytest.approx(10_000.0 * speed, abs=FRAME_MS)


def test_a_stretch_without_the_dancer_is_skipped_not_misaligned(squats: dict) -> None:
    student = clips.squats()
    for frame in student["frames"][20:40]:  # 4 s to 8 s: the dancer out of the picture
        frame["world_landmarks"] = None
    result = _compare(student, squats)
    assert abs(result.time_offset_ms) <= FRAME_MS
    assert [s.score is None for s in result.segments] == [False, True, False]
    assert all(s.score >= 95 for s in result.segments if s.score is not None)
    assert result.overall is not None and result.overall >= 95


def test_a_stretch_danced_late_shows_as_that_segment_s_timing(squats: dict) -> None:
    """The student falls 400 ms behind from 4.5 s to 7.5 s (easing in and out over a
    second), then catches up: the map follows, and the middle window is behind."""
    t = clips.arrays(squats)[0]
    bump = np.interp(t, [0, 3500, 4500, 7500, 8500, 13000], [0, 0, 1, 1, 0, 0])
    late = clips.warped(squats, t, t - 400.0 * bump)
    result = _compare(late, squats)
    timings = [s.timing_ms for s in result.segments]
    assert all(timing is not None for timing in timings)
    first, middle, last = timings
    assert middle is not None and first is not None and last is not None
    # The straight line takes some of the lag (it is fitted to the whole clip): the
    # middle is behind the rest by about the lag averaged over its window (~310 ms).
    expected = float(np.mean(400.0 * bump[(t >= 4000) & (t < 8000)]))
    assert middle - (first + last) / 2 == pytest.approx(expected, abs=100.0)
    assert middle > 150.0
    assert result.overall is not None and result.overall >= 95
    said = [item["message"] for item in result.feedback if "behind the teacher" in item["message"]]
    assert said and said[0].startswith("0:04–0:08: about ")


def test_an_unrelated_motion_scores_much_lower(squats: dict) -> None:
    same = _compare(squats, squats)
    # The mock backend's dancer swings the arms and sways instead of squatting.
    other = _compare(clips.mock_dancer(13_000.0), squats)
    assert other.overall is not None and same.overall is not None
    assert other.overall <= same.overall - 30
    assert other.overall < 65


def test_standing_still_beside_a_squatting_teacher_scores_low(squats: dict) -> None:
    """The map may linger on the teacher's standing moments; the teacher's squats must
    still be compared (two-way scoring)."""
    t, world, image = clips.arrays(squats)
    still = clips.result_from(t, np.repeat(world[:1], len(t), 0), np.repeat(image[:1], len(t), 0))
    result = _compare(still, squats)
    assert result.overall is not None and result.overall < 80
    arms = [result.parts["left_arm"], result.parts["right_arm"]]
    assert all(score is not None and score < 60 for score in arms)


def test_a_left_arm_raised_by_30_degrees_scores_lowest_and_is_named(squats: dict) -> None:
    result = _compare(clips.left_arm_raised(squats, 30.0), squats)
    parts = {name: score for name, score in result.parts.items() if score is not None}
    assert min(parts, key=lambda name: parts[name]) == "left_arm"
    # 30° off is half marks by the formula; the rest of the body is untouched.
    assert parts["left_arm"] == pytest.approx(50.0, abs=10.0)
    assert all(parts[name] >= 90 for name in parts if name != "left_arm")
    assert all(s.worst_part == "left_arm" for s in result.segments)
    first = result.feedback[0]
    assert first["joints"] == ["left_shoulder", "left_elbow", "left_wrist"]
    match = re.search(r"your left arm is about (\d+)° higher than the teacher's", first["message"])
    assert match is not None, first["message"]
    assert 25 <= int(match.group(1)) <= 35
    assert first["severity"] in ("warning", "critical")
    assert first["topic"] == "comparison"


def test_different_body_proportions_do_not_count(squats: dict) -> None:
    # A smaller teacher with longer forearms and shins, shorter thighs.
    teacher = clips.reproportioned(
        squats, {"wrist": 1.25, "ankle": 1.15, "knee": 0.85, "elbow": 1.1, "": 0.8}
    )
    result = _compare(squats, teacher)
    assert result.overall is not None and result.overall >= 95
    assert abs(result.time_offset_ms) < FRAME_MS


def test_camera_distance_side_and_angle_do_not_count(squats: dict) -> None:
    # Filmed 40° further round, from further away and off to one side.
    result = _compare(clips.turned(squats, 40.0, (0.6, 0.1, 1.5)), squats)
    assert result.overall is not None and result.overall >= 95
    assert result.mirrored is False
    same = _compare(squats, squats)
    assert result.overall == pytest.approx(same.overall, abs=1.0)


@pytest.mark.parametrize("tilt", ["pitch", "roll"])
def test_a_tilted_phone_does_not_count(squats: dict, tilt: str) -> None:
    # The student's phone pitched down (or rolled) by 15°: measured 85 before levelling.
    result = _compare(clips.tilted(squats, tilt, 15.0), squats)
    assert result.overall is not None and result.overall >= 95


def test_the_output_has_the_issue_s_names(squats: dict) -> None:
    teacher = Performance.from_result(squats, job_id="job-teacher")
    out = compare(Performance.from_result(clips.delayed(squats, 1000.0)), teacher).to_dict()
    assert set(out) == {"comparison", "feedback"}
    comparison = out["comparison"]
    assert set(comparison) == {
        "reference", "overall", "mirrored", "time_offset_ms", "tempo_ratio", "alignment",
        "parts", "segments", "formula_version",
    }  # fmt: skip
    assert comparison["reference"] == {
        "source": "pose_squats.mp4",
        "sha256": squats["video"]["sha256"],
        "job_id": "job-teacher",
    }
    assert set(comparison["alignment"]) == {"method", "map"}
    assert all(len(pair) == 2 for pair in comparison["alignment"]["map"])
    student_ms = [pair[0] for pair in comparison["alignment"]["map"]]
    teacher_ms = [pair[1] for pair in comparison["alignment"]["map"]]
    assert np.all(np.diff(student_ms) > 0) and np.all(np.diff(teacher_ms) > 0)
    assert set(comparison["parts"]) == {
        "head", "torso", "left_arm", "right_arm", "left_leg", "right_leg",
    }  # fmt: skip
    for segment in comparison["segments"]:
        assert set(segment) == {
            "start_ms", "end_ms", "label", "score", "timing_ms", "worst_part", "mirrored",
            "parts",  # beside the fixed names: what a count sheet colours
        }  # fmt: skip
        assert set(segment["parts"]) == set(comparison["parts"])
        scored = {p: s for p, s in segment["parts"].items() if s is not None}
        assert scored[segment["worst_part"]] == min(scored.values())  # ties: rounding
    for item in out["feedback"]:
        assert set(item) == {
            "time_ms", "end_ms", "joints", "message", "severity", "topic", "rank",
        }  # fmt: skip
        assert item["topic"] == "comparison"
    assert [item["rank"] for item in out["feedback"]] == list(range(1, len(out["feedback"]) + 1))
    import json

    json.dumps(out, allow_nan=False)  # a browser's JSON has no NaN


def test_the_mock_dancer_at_30_fps_late_and_with_a_different_left_arm() -> None:
    """The mock backend's synthetic dancer (30 fps): a late start is found within one
    frame, and a left arm raised by 30° alone is the lowest part and is named."""
    dancer = clips.mock_dancer(12_000.0)
    late = _compare(clips.delayed(dancer, 700.0), dancer)
    assert late.time_offset_ms == pytest.approx(700.0, abs=1000.0 / 30.0)
    arm = _compare(clips.left_arm_raised(dancer, 30.0), dancer)
    parts = {name: score for name, score in arm.parts.items() if score is not None}
    assert min(parts, key=lambda name: parts[name]) == "left_arm"
    # About half marks: 30° off, a little less where the 100 ms averaging rounds it.
    assert parts["left_arm"] == pytest.approx(50.0, abs=10.0)
    assert "your left arm is about 30° higher than the teacher's" in arm.feedback[0]["message"]
