"""Timing against the beat: accents on a synthetic dancer stepping on a known schedule.

The dancer (``steps.stepping``) completes a step exactly at each planted time; beats are
at 120 BPM from 1000 ms (500 ms apart), every beat counted, so phrase p spans
1000 + 4000 p to 5000 + 4000 p ms. Accents must be within one frame of the planted stops.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dance_analysis.analysis.filters import clean_landmarks
from dance_analysis.analysis.timing import (
    analyze_timing,
    count_label,
    movement_accents,
    timing_feedback,
    timing_from_accents,
    with_counts,
)
from dance_analysis.skeleton import BLAZEPOSE_33
from tests.analysis.steps import beats, counts, standing_image, stepping

FRAME_MS = 1000.0 / 30.0
BEATS = beats(1000.0, 500.0, 32)  # four phrases
COUNTS = counts(BEATS)
T30 = np.arange(0.0, 18000.0, FRAME_MS)


def _vfr_axis(seed: int = 1) -> np.ndarray:
    """Frame intervals drawn between 20 and 46 ms (a phone's variable frame rate)."""
    t = np.cumsum(np.random.default_rng(seed).uniform(20.0, 46.0, 900))
    return np.asarray(t[t < 18000.0])


def _errors(accents: list[float], planted: list[float]) -> np.ndarray:
    assert len(accents) == len(planted)
    return np.asarray(accents) - np.asarray(planted)


def test_accents_land_on_the_planted_steps_at_30_fps() -> None:
    stops = [b + 120.0 for b in BEATS]
    errors = _errors(movement_accents(T30, stepping(T30, stops)), stops)
    assert np.abs(errors).max() <= FRAME_MS


def test_accents_use_the_real_timestamps_of_a_variable_frame_rate() -> None:
    t = _vfr_axis()
    stops = [b - 80.0 for b in BEATS]
    errors = _errors(movement_accents(t, stepping(t, stops)), stops)
    assert np.abs(errors).max() <= 46.0  # the longest frame interval


def test_accents_survive_jitter_and_the_pipeline_cleaning() -> None:
    stops = [b + 120.0 for b in BEATS]
    landmarks = stepping(T30, stops)
    landmarks[:, :, :2] += np.random.default_rng(0).normal(0.0, 0.003, (len(T30), 33, 2))
    clean = clean_landmarks(T30, landmarks).values
    errors = _errors(movement_accents(T30, clean), stops)
    assert np.median(np.abs(errors)) <= FRAME_MS
    assert np.abs(errors).max() <= 2 * FRAME_MS


def test_camera_distance_does_not_matter() -> None:
    stops = [b + 120.0 for b in BEATS]
    near = stepping(T30, stops)
    far = near.copy()
    far[:, :, :2] = 0.5 + (far[:, :, :2] - 0.5) * 0.4  # the same dance, 2.5 times further
    assert np.allclose(movement_accents(T30, far), movement_accents(T30, near))


def test_stillness_and_jitter_give_no_accents() -> None:
    still = standing_image(len(T30))
    assert movement_accents(T30, still) == []
    still[:, :, :2] += np.random.default_rng(2).normal(0.0, 0.003, (len(T30), 33, 2))
    assert movement_accents(T30, clean_landmarks(T30, still).values) == []


def test_landmarks_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="33, 4"):
        movement_accents(T30, standing_image(len(T30))[:, :17])


def test_hips_reversing_are_hits() -> None:
    # Hips and shoulders sway sideways, reversing at 250 + 500 k ms; the feet stay put.
    landmarks = standing_image(len(T30))
    sway = 0.04 * np.sin(2.0 * np.pi * T30 / 1000.0)
    for part in ("hip", "shoulder"):
        for side in ("left", "right"):
            landmarks[:, BLAZEPOSE_33.index(f"{side}_{part}"), 0] += sway
    reversals = [250.0 + 500.0 * k for k in range(36)]
    errors = _errors(movement_accents(T30, landmarks), reversals)
    assert np.abs(errors).max() <= FRAME_MS


def test_hips_changing_direction_without_stopping_are_hits() -> None:
    # The same sway while drifting sideways at 0.3 of the sway's peak speed: the speed
    # only dips (to 0.3 of its peak) at each reversal, the parabola finds the bottom.
    t = T30[T30 < 6000.0]
    landmarks = standing_image(len(t))
    sway = 0.04 * np.sin(2.0 * np.pi * t / 1000.0)
    drift = 0.3 * 0.04 * 2.0 * np.pi * (t / 1000.0 - 3.0)
    for part in ("hip", "shoulder"):
        for side in ("left", "right"):
            landmarks[:, BLAZEPOSE_33.index(f"{side}_{part}"), 0] += drift
            landmarks[:, BLAZEPOSE_33.index(f"{side}_{part}"), 1] += sway
    reversals = [250.0 + 500.0 * k for k in range(11)]  # the last one needs a next peak
    errors = _errors(movement_accents(t, landmarks), reversals)
    assert np.abs(errors).max() <= FRAME_MS / 2.0


def test_a_gap_without_the_dancer_loses_only_the_landing_inside_it() -> None:
    stops = [b + 120.0 for b in BEATS]
    landmarks = stepping(T30, stops)
    gap = (T30 > 5950.0) & (T30 < 6250.0)  # step 10 moves from 5870 to 6120 ms
    landmarks[gap, :, :3] = np.nan
    kept = stops[:10] + stops[11:]
    errors = _errors(movement_accents(T30, landmarks), kept)
    assert np.abs(errors).max() <= FRAME_MS
    timing = analyze_timing(T30, landmarks, BEATS, COUNTS)
    json.dumps(timing.to_dict(), allow_nan=False)  # no NaN anywhere


def test_offsets_late_then_early_per_phrase() -> None:
    # Phrases 0 and 1 late by 120 ms, phrases 2 and 3 early by 80 ms.
    planted = [120.0] * 16 + [-80.0] * 16
    stops = [b + o for b, o in zip(BEATS, planted, strict=True)]
    timing = analyze_timing(T30, stepping(T30, stops), BEATS, COUNTS)
    offsets = np.array(timing.offsets_ms, dtype=float)
    assert np.abs(offsets - planted).max() <= FRAME_MS
    result = timing.to_dict()
    assert set(result) == {"accents_ms", "offsets_ms", "mean_offset_ms", "by_phrase"}
    assert result["mean_offset_ms"] == pytest.approx(20.0, abs=FRAME_MS)
    phrases = result["by_phrase"]
    assert [p["phrase"] for p in phrases] == [0, 1, 2, 3]
    assert [(p["start_ms"], p["end_ms"]) for p in phrases] == [
        (1000.0, 5000.0), (5000.0, 9000.0), (9000.0, 13000.0), (13000.0, 17000.0)
    ]  # fmt: skip
    for phrase, expected in zip(phrases, (120.0, 120.0, -80.0, -80.0), strict=True):
        assert phrase["mean_offset_ms"] == pytest.approx(expected, abs=FRAME_MS)
        assert phrase["consistency"] > 0.9


def test_shifting_the_video_clock_shifts_the_offsets() -> None:
    stops = [b + 40.0 for b in BEATS]
    landmarks = stepping(T30, stops)
    before = analyze_timing(T30, landmarks, BEATS, COUNTS)
    after = analyze_timing(T30 + 70.0, landmarks, BEATS, COUNTS)
    shift = np.array(after.offsets_ms, dtype=float) - np.array(before.offsets_ms, dtype=float)
    assert np.allclose(shift, 70.0, atol=1e-6)


def test_consistency_is_one_minus_the_spread_over_half_a_beat() -> None:
    # Phrase 0 alternates 100 ms late and early: std 100 ms over a 250 ms half beat → 0.6.
    # Phrase 1: all 30 ms late → 1. Phrase 2: ±300 ms is wider than half a beat → clipped
    # to 0 (nearest beats make it ±200: std 200 / 250 → 0.2).
    accents = [b + (100.0 if i % 2 else -100.0) for i, b in enumerate(BEATS[:8])]
    accents += [b + 30.0 for b in BEATS[8:16]]
    timing = timing_from_accents(accents, BEATS, COUNTS)
    by_phrase = timing.to_dict()["by_phrase"]
    assert by_phrase[0]["mean_offset_ms"] == pytest.approx(0.0)
    assert by_phrase[0]["consistency"] == pytest.approx(0.6)
    assert by_phrase[1]["mean_offset_ms"] == pytest.approx(30.0)
    assert by_phrase[1]["consistency"] == pytest.approx(1.0)
    assert by_phrase[2]["mean_offset_ms"] is None
    assert by_phrase[2]["consistency"] is None


def test_accents_outside_the_music_have_no_offset() -> None:
    timing = timing_from_accents([200.0, 1010.0, 16600.0, 17300.0], BEATS, COUNTS)
    assert timing.offsets_ms == (None, pytest.approx(10.0), pytest.approx(100.0), None)
    assert timing.mean_offset_ms == pytest.approx(55.0)


def test_without_music_there_are_accents_but_no_offsets() -> None:
    stops = [b + 120.0 for b in BEATS]
    timing = analyze_timing(T30, stepping(T30, stops), [], [])
    result = timing.to_dict()
    assert len(result["accents_ms"]) == 32
    assert result["offsets_ms"] == []
    assert result["mean_offset_ms"] is None
    assert result["by_phrase"] == []
    json.dumps(result, allow_nan=False)
    assert timing_feedback(timing, [], 4) == []


def test_music_but_no_movement_says_so() -> None:
    timing = analyze_timing(T30, standing_image(len(T30)), BEATS, COUNTS)
    assert timing.accents_ms == ()
    assert [p.mean_offset_ms for p in timing.by_phrase] == [None] * 4
    items = timing_feedback(timing, COUNTS, 4)
    assert [item["message"] for item in items] == [
        "No steps or hits found while the music plays: timing not measured."
    ]
    assert items[0]["time_ms"] == 1000.0  # the first count
    json.dumps(timing.to_dict(), allow_nan=False)


def test_feedback_names_the_counts() -> None:
    # Phrase 1 (the second): counts 1–4 on the beat, counts 5–8 120 ms late.
    offsets = [0.0] * 8 + [10.0, -10.0, 10.0, -10.0] + [120.0] * 4 + [0.0] * 16
    accents = [b + o for b, o in zip(BEATS, offsets, strict=True)]
    items = timing_feedback(timing_from_accents(accents, BEATS, COUNTS), COUNTS, 4)
    messages = [item["message"] for item in items]
    assert messages[2] == "Counts 1–4 of phrase 2: on the beat."
    assert messages[3] == "Counts 5–8 of phrase 2: your steps land about 120 ms after the beat."
    assert items[3]["severity"] == "warning"
    assert (items[3]["time_ms"], items[3]["end_ms"]) == (7000.0, 8500.0)
    assert len(messages) == 9
    assert messages[-1] == "Overall you are on the beat."  # mean 15 ms
    for item in items:
        assert set(item) == {"time_ms", "end_ms", "joints", "message", "severity", "topic"}


def test_feedback_summary_ahead_and_behind() -> None:
    early = [b - 80.0 for b in BEATS]
    items = timing_feedback(timing_from_accents(early, BEATS, COUNTS), COUNTS, 4)
    assert items[0]["message"] == (
        "Counts 1–4 of phrase 1: your steps land about 80 ms before the beat."
    )
    assert items[-1]["message"] == "Overall you are ahead of the beat by about 80 ms."
    late = [b + 123.0 for b in BEATS]
    items = timing_feedback(timing_from_accents(late, BEATS, COUNTS), COUNTS, 4)
    assert items[-1]["message"] == "Overall you are behind the beat by about 120 ms."


@pytest.mark.parametrize(("fps", "note"), [(5.0, "±100 ms"), (12.5, "±40 ms"), (30.0, None)])
def test_a_coarse_frame_rate_is_said(fps: float, note: str | None) -> None:
    late = [b + 130.0 for b in BEATS]
    items = timing_feedback(timing_from_accents(late, BEATS, COUNTS), COUNTS, 4, fps=fps)
    notes = [item["message"] for item in items if "frames a second" in item["message"]]
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0] and f"{fps:.0f} frames a second" in notes[0]


def test_feedback_in_three_four_groups_by_bar() -> None:
    waltz = [{"t_ms": b, "count": i % 6 + 1, "phrase": i // 6} for i, b in enumerate(BEATS)]
    accents = [b + 100.0 for b in BEATS[3:6]]
    items = timing_feedback(timing_from_accents(accents, BEATS, waltz), waltz, 3)
    assert items[0]["message"] == (
        "Counts 4–6 of phrase 1: your steps land about 100 ms after the beat."
    )


def test_count_label_and_with_counts() -> None:
    assert count_label(COUNTS, 3000.0) == "count 5 of phrase 1"
    assert count_label(COUNTS, 9120.0) == "count 1 of phrase 3"
    assert count_label(COUNTS, 500.0) is None  # before the music
    items: list[dict[str, object]] = [
        {"time_ms": 5260.0, "end_ms": None, "joints": [], "message": "x", "severity": "info"},
        {"time_ms": 100.0, "end_ms": None, "joints": [], "message": "y", "severity": "info"},
    ]
    labelled = with_counts(items, COUNTS)
    assert labelled[0]["count"] == {"count": 2, "phrase": 1, "label": "count 2 of phrase 2"}
    assert labelled[1]["count"] is None
    assert labelled[0]["message"] == "x" and "count" not in items[0]
