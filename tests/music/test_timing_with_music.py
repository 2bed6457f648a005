"""The music tracker and the timing maths together: the dancer's offset follows the audio.

A drum song goes through the real tracker (``analyze_samples``); a synthetic dancer
steps a fixed 60 ms after each of its true beats. Delaying the audio by 100 ms must
make the same steps 100 ms earlier against the beat (RELIABILITY-style check from
issue 8: "the audio shifted by a known amount → the timing offset changes by that
amount within one frame").
"""

from __future__ import annotations

import numpy as np
import pytest

from dance_analysis.analysis.timing import analyze_timing, timing_feedback
from dance_analysis.music.analyze import analyze_samples
from tests.analysis.steps import stepping
from tests.music.synth import drum_song

FRAME_MS = 1000 / 30
LATE_MS = 60.0


def _mean_offset(delay_ms: float) -> tuple[float, list[str]]:
    song = drum_song(120, seconds=12.0, offset_s=0.5, seed=7)
    t_ms = np.arange(0.0, 12_000.0, FRAME_MS)
    true_beats_ms = [1000.0 * b for b in song.beats_s if 1000.0 <= 1000.0 * b <= 11_000.0]
    landmarks = stepping(t_ms, [b + LATE_MS for b in true_beats_ms])
    pad = np.zeros(round(delay_ms / 1000.0 * song.rate), dtype=np.float32)
    music = analyze_samples(np.concatenate([pad, song.samples]), song.rate)
    assert music.present and music.tempo_bpm == pytest.approx(120, rel=0.01)
    counts = music.to_dict()["counts"]
    timing = analyze_timing(t_ms, landmarks, music.beats_ms, counts)
    assert timing.mean_offset_ms is not None
    messages = [item["message"] for item in timing_feedback(timing, counts, 4)]
    return timing.mean_offset_ms, messages


def test_delaying_the_audio_moves_the_offset_by_as_much() -> None:
    on_time, said = _mean_offset(0.0)
    delayed, said_delayed = _mean_offset(100.0)
    assert on_time == pytest.approx(LATE_MS, abs=FRAME_MS)
    assert delayed - on_time == pytest.approx(-100.0, abs=FRAME_MS)
    assert "Overall you are behind the beat by about 60 ms." in said
    assert "Overall you are ahead of the beat by about 40 ms." in said_delayed
