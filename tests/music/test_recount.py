"""Moving the "1" in a finished result (issue 8): counts, timing and feedback follow,
from what result.json already holds."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from dance_analysis.analysis.timing import analyze_timing, timing_feedback, with_counts
from dance_analysis.errors import InvalidRequest
from dance_analysis.music.analyze import analyze_samples
from dance_analysis.music.recount import NoMusic, is_timing_item, move_one
from tests.analysis.steps import stepping
from tests.music.synth import drum_song

FRAME_MS = 1000 / 30


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    """A result as the pipeline writes it: music, timing and feedback with counts.

    The dancer steps 60 ms late on every beat of the first phrases and on time after,
    so the per-phrase timing depends on where the phrases start.
    """
    song = drum_song(120, seconds=20.0, offset_s=0.5, seed=3)
    music = analyze_samples(song.samples, song.rate)
    assert music.present and music.counts
    t_ms = np.arange(0.0, 20_000.0, FRAME_MS)
    beats = [1000.0 * b for b in song.beats_s if 700.0 <= 1000.0 * b <= 19_300.0]
    steps = [b + (60.0 if b < 8_000.0 else 0.0) for b in beats]
    counts = music.to_dict()["counts"]
    timing = analyze_timing(t_ms, stepping(t_ms, steps), music.beats_ms, counts)
    movement = {
        "time_ms": 9_000.0, "end_ms": None, "joints": ["left_knee"], "severity": "info",
        "message": "Deepest knee bend.", "topic": "movement",
    }  # fmt: skip
    items = [movement, *timing_feedback(timing, counts, 4)]
    items.sort(key=lambda item: item["time_ms"])
    # Through JSON, as read back from storage: floats rounded as written, lists not tuples.
    return json.loads(
        json.dumps(
            {
                "music": music.to_dict(),
                "timing": timing.to_dict(),
                "feedback": with_counts(items, counts),
                "frames": [{"index": 0, "t_ms": 0.0}],
            }
        )
    )


def _ones(result: dict[str, Any]) -> list[float]:
    return [c["t_ms"] for c in result["music"]["counts"] if c["count"] == 1]


def test_shifting_by_a_beat_slides_every_count(result: dict[str, Any]) -> None:
    beats = result["music"]["beats_ms"]
    before = result["music"]["counts"]
    moved = move_one(result, shift_beats=1)
    after = moved["music"]["counts"]
    first = beats.index(before[0]["t_ms"])
    assert after[0]["t_ms"] == beats[first + 1] and after[0]["count"] == 1
    # The beat that was count 2 is now count 1, count 3 is now 2, ...: each beat's count
    # drops by one (8 becomes 7, 1 becomes 8 of the phrase before).
    by_time = {c["t_ms"]: c["count"] for c in after}
    for count in before[1:]:
        assert by_time[count["t_ms"]] == (count["count"] - 2) % 8 + 1
    assert moved["music"]["downbeats_ms"] == beats[(first + 1) % 4 :: 4]
    assert moved["music"]["one_set_by"] == "coach"
    # The beats, tempo and the rest of the result are untouched.
    assert moved["music"]["beats_ms"] == beats
    assert moved["music"]["tempo_bpm"] == result["music"]["tempo_bpm"]
    assert moved["frames"] == result["frames"]
    assert "one_set_by" not in result["music"]  # the input is not changed


def test_shifting_back_restores_the_counts(result: dict[str, Any]) -> None:
    there_and_back = move_one(move_one(result, shift_beats=3), shift_beats=-3)
    assert there_and_back["music"]["counts"] == result["music"]["counts"]
    # The same timing as recomputed in place (the stored beats are rounded to 0.1 ms).
    assert there_and_back["timing"] == move_one(result, shift_beats=0)["timing"]
    for back, stored in zip(
        there_and_back["timing"]["offsets_ms"], result["timing"]["offsets_ms"], strict=True
    ):
        assert back == pytest.approx(stored, abs=0.1)


def test_a_moment_moves_the_one_to_the_nearest_beat(result: dict[str, Any]) -> None:
    beats = result["music"]["beats_ms"]
    target = beats[6]
    moved = move_one(result, one_ms=target + 90.0)  # a click a little after the beat
    assert target in _ones(moved)
    assert [c["count"] for c in moved["music"]["counts"] if c["t_ms"] == target] == [1]
    assert all((beats.index(t) - 6) % 8 == 0 for t in _ones(moved)), (
        "every '1' is a whole number of phrases from the chosen beat"
    )


def test_timing_and_feedback_follow_the_new_phrases(result: dict[str, Any]) -> None:
    moved = move_one(result, shift_beats=4)
    accents = result["timing"]["accents_ms"]
    assert moved["timing"]["accents_ms"] == accents  # the same steps, found once
    old_starts = [p["start_ms"] for p in result["timing"]["by_phrase"]]
    new_starts = [p["start_ms"] for p in moved["timing"]["by_phrase"]]
    assert new_starts != old_starts
    assert set(new_starts) <= set(_ones(moved))

    timing_items = [item for item in moved["feedback"] if is_timing_item(item)]
    old_timing = [item for item in result["feedback"] if is_timing_item(item)]
    assert timing_items and timing_items != old_timing
    # One set of timing items, not the old and the new.
    assert len([m for m in moved["feedback"] if m["message"].startswith("Overall")]) == 1
    knee = [item for item in moved["feedback"] if item["topic"] == "movement"]
    assert [item["message"] for item in knee] == ["Deepest knee bend."]
    # Every item has the count it falls on under the new "1".
    by_time = {c["t_ms"]: c for c in moved["music"]["counts"]}
    nearest = min(by_time, key=lambda t: abs(t - 9_000.0))
    assert knee[0]["count"]["count"] == by_time[nearest]["count"]
    assert knee[0]["count"]["phrase"] == by_time[nearest]["phrase"]
    times = [item["time_ms"] for item in moved["feedback"]]
    assert times == sorted(times)


def test_without_music_there_is_no_one_to_move(result: dict[str, Any]) -> None:
    silent = {
        **result,
        "music": {"present": False, "reason": "silence", "tempo_bpm": None, "beats_per_bar": 4,
                  "beats_ms": [], "downbeats_ms": [], "counts": [], "confidence": 0.0,
                  "style": "auto", "method": "flux-dp-1"},
    }  # fmt: skip
    with pytest.raises(NoMusic) as caught:
        move_one(silent, shift_beats=1)
    assert caught.value.reason.value == "no_music"


@pytest.mark.parametrize("kwargs", [{}, {"one_ms": 100.0, "shift_beats": 1}])
def test_one_way_of_moving_at_a_time(result: dict[str, Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        move_one(result, **kwargs)
