"""Alignment by the music: the student's counts matched to the teacher's."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from dance_analysis.compare import Comparison, Performance, compare
from tests.compare import clips

BEAT_MS = 500.0


def _compare(student: dict[str, Any], teacher: dict[str, Any]) -> Comparison:
    return compare(Performance.from_result(student), Performance.from_result(teacher))


@pytest.fixture(scope="module")
def teacher(squats: dict) -> dict[str, Any]:
    """The squats with a beat every 500 ms from 100 ms, the first beat a "1"."""
    return clips.with_music(squats, BEAT_MS, 100.0)


def _student_two_beats_early(squats: dict, dance_late_ms: float = 0.0) -> dict[str, Any]:
    """The same song and dance, the recording started two beats earlier: the music's
    beats come 1000 ms later in the clip, the first two are a pick-up (counts 7 and 8 of
    a phrase before the teacher's clip), so the student's first "1" is at 1100 ms. The
    dancer moves ``dance_late_ms`` after the teacher on the music."""
    moved = clips.delayed(squats, 2 * BEAT_MS + dance_late_ms)
    return clips.with_music(moved, BEAT_MS, 100.0, first_one=2)


def test_counts_are_matched_to_counts_when_the_student_starts_two_beats_earlier(
    squats: dict, teacher: dict
) -> None:
    result = _compare(_student_two_beats_early(squats), teacher)
    assert result.method == "counts"
    assert result.time_offset_ms == pytest.approx(2 * BEAT_MS, abs=1.0)
    assert result.tempo_ratio == pytest.approx(1.0)
    # The student's first "1" (1100 ms) is the teacher's first "1" (100 ms).
    assert result.alignment_map[0].tolist() == [1100.0, 100.0]
    assert result.overall is not None and result.overall >= 95
    # Segments are the student's phrases, labelled in the choreography's counts.
    labels = [s.label for s in result.segments]
    assert labels[:3] == ["counts 1–8", "counts 9–16", "counts 17–24"]
    assert result.segments[0].start_ms == pytest.approx(1100.0)
    assert result.segments[0].end_ms == pytest.approx(1100.0 + 8 * BEAT_MS)
    assert all(abs(s.timing_ms or 0.0) < 30.0 for s in result.segments)


def test_the_pose_picks_the_phrase_when_the_student_s_phrases_are_numbered_differently(
    squats: dict, teacher: dict
) -> None:
    # Eight beats of pick-up on the student's side: their phrase 0 is the teacher's
    # phrase 0 only by the poses, not by the numbers.
    moved = clips.delayed(squats, 8 * BEAT_MS)
    student = clips.with_music(moved, BEAT_MS, 100.0, first_one=0)
    result = _compare(student, teacher)
    assert result.method == "counts"
    assert result.time_offset_ms == pytest.approx(8 * BEAT_MS, abs=1.0)
    assert result.segments[0].label == "counts 1–8"
    assert result.segments[0].start_ms == pytest.approx(4100.0)


@pytest.mark.parametrize(
    ("delay_beats", "first_one"),
    [(0, 4), (2, 6), (4, 0), (6, 2)],
    ids=["same-start", "two-beats-early", "four-beats-early", "six-beats-early"],
)
def test_recordings_that_number_their_phrases_a_bar_apart_are_still_matched(
    squats: dict, teacher: dict, delay_beats: int, first_one: int
) -> None:
    """Each recording's "1" is the first downbeat it hears, so a student who starts
    recording a bar earlier or later than the teacher counts "5" where the teacher
    counts "1". The poses find the bar; the segments keep the teacher's phrases and
    numbering. (Before, a "1" had to pair with a "1": offset a bar off, score 74.)"""
    moved = clips.delayed(squats, delay_beats * BEAT_MS)
    student = clips.with_music(moved, BEAT_MS, 100.0, first_one=first_one)
    result = _compare(student, teacher)
    assert result.method == "counts"
    assert result.time_offset_ms == pytest.approx(delay_beats * BEAT_MS, abs=1.0)
    assert result.overall is not None and result.overall >= 95
    assert [s.label for s in result.segments][:2] == ["counts 1–8", "counts 9–16"]
    # The first segment is the teacher's first phrase, on the student's clock.
    assert result.segments[0].start_ms == pytest.approx(100.0 + delay_beats * BEAT_MS)
    assert result.segments[0].end_ms == pytest.approx(result.segments[0].start_ms + 8 * BEAT_MS)


def test_a_near_tie_keeps_the_phrase_numbers(squats: dict) -> None:
    """A pose held still gives every bar the same cost: the "1" pairs with a "1", a
    phrase (not a bar) away."""
    t, world, image = clips.arrays(squats)
    held = clips.result_from(t, np.repeat(world[:1], len(t), 0), np.repeat(image[:1], len(t), 0))
    teacher = clips.with_music(held, BEAT_MS, 100.0)
    # The student's music heard from a bar later: their "1" is the teacher's "5".
    student = clips.with_music(held, BEAT_MS, 100.0, first_one=4)
    result = _compare(student, teacher)
    assert result.method == "counts"
    assert abs(result.time_offset_ms) == pytest.approx(4 * BEAT_MS, abs=1.0)


@pytest.mark.parametrize(("late_ms", "word"), [(150.0, "behind"), (-150.0, "ahead of")])
def test_a_dancer_late_or_early_on_the_music_gets_segment_timing(
    squats: dict, teacher: dict, late_ms: float, word: str
) -> None:
    result = _compare(_student_two_beats_early(squats, dance_late_ms=late_ms), teacher)
    assert result.method == "counts"
    # The music fixes the offset; the dancer's lag is the timing, per segment.
    assert result.time_offset_ms == pytest.approx(2 * BEAT_MS, abs=1.0)
    timings = [s.timing_ms for s in result.segments if s.timing_ms is not None]
    assert timings and all(t == pytest.approx(late_ms, abs=40.0) for t in timings)
    # Scored at the dancer's own lag: late is a timing remark, not a pose penalty.
    assert result.overall is not None and result.overall >= 95
    messages = [item["message"] for item in result.feedback]
    said = [m for m in messages if re.search(rf"about 1[45]0 ms {word} the teacher", m)]
    assert said and said[0].startswith("Counts 1–8: ")


def test_a_slower_tempo_comes_from_the_beat_periods(squats: dict, teacher: dict) -> None:
    slow = clips.retimed(squats, 0.8)
    student = clips.with_music(slow, BEAT_MS / 0.8, 100.0 / 0.8)
    result = _compare(student, teacher)
    assert result.method == "counts"
    assert result.tempo_ratio == pytest.approx(0.8, rel=0.03)
    assert result.time_offset_ms == pytest.approx(0.0, abs=clips.FRAME_MS)
    assert result.overall is not None and result.overall >= 95


def test_tempi_too_far_apart_fall_back_to_dtw(squats: dict, teacher: dict) -> None:
    # A double-time reading of the student's music: ratio 2, outside 0.8–1.25.
    student = clips.with_music(squats, BEAT_MS / 2, 100.0)
    result = _compare(student, teacher)
    assert result.method == "dtw"
    assert result.overall is not None and result.overall >= 95


def test_without_music_on_one_side_dtw_is_used(squats: dict, teacher: dict) -> None:
    result = _compare(clips.delayed(squats, 1000.0), teacher)
    assert result.method == "dtw"
    assert result.time_offset_ms == pytest.approx(1000.0, abs=clips.FRAME_MS)
