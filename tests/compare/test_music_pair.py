"""Two recordings of one song, a bar apart, through the real pipeline: real audio, the
real beat tracker and the real pose model.

The student films the whole dance over a pop song (120 BPM, a beat every 500 ms, the
first downbeat at 0.4 s). The teacher's clip is the same performance with the first
2 s cut off, sound and picture together: the teacher's phone started recording one
bar later. Each recording counts its "1" from the first downbeat it hears, so the
teacher says "1" where the student says "5". The comparison must still pair the
same music with the same music (offset 2000 ms) and score the dance as the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dance_analysis.comparing import compare_results
from dance_analysis.pipeline import PipelineOptions, analyze_clip
from tests.media import ffmpeg

pytestmark = pytest.mark.slow

BPM = 120.0
CUT_S = 2.0  # one bar at 120 BPM in 4/4
FRAME_MS = 200.0  # the squats clip has 5 frames a second


def _analyse(clip: Path, out: Path) -> dict[str, Any]:
    analyze_clip(clip, out, PipelineOptions(overlay=False))
    result: dict[str, Any] = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return result


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    from tests.music.synth import SONG_RATE, mux_under_video, pop_song

    folder = tmp_path_factory.mktemp("music-pair")
    song = pop_song(BPM, seconds=13.0, offset_s=0.4)
    student_clip = mux_under_video(
        song.samples, folder / "student.mp4", seconds=13.0, rate=SONG_RATE
    )
    teacher_clip = folder / "teacher.mp4"
    ffmpeg(
        "-i", student_clip, "-ss", str(CUT_S), "-c:v", "libx264", "-preset", "veryfast",
        "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", teacher_clip,
    )  # fmt: skip
    return _analyse(student_clip, folder / "student"), _analyse(teacher_clip, folder / "teacher")


def _ones_ms(result: dict[str, Any]) -> list[float]:
    return [c["t_ms"] for c in result["music"]["counts"] if c["count"] == 1]


def test_the_recordings_number_their_phrases_a_bar_apart(pair: tuple[dict, dict]) -> None:
    """The premise: both trackers hear the song, and the teacher's first "1" is the
    student's "5" (else this file tests nothing new)."""
    student, teacher = pair
    for result in pair:
        assert result["music"]["present"], result["music"]
        assert result["music"]["tempo_bpm"] == pytest.approx(BPM, rel=0.01)
    teacher_one_on_student_clock = _ones_ms(teacher)[0] + CUT_S * 1000.0
    fives = [c["t_ms"] for c in student["music"]["counts"] if c["count"] == 5]
    assert min(abs(f - teacher_one_on_student_clock) for f in fives) < 40.0


def test_the_same_dance_a_bar_apart_is_matched_by_its_music(pair: tuple[dict, dict]) -> None:
    student, teacher = pair
    comparison = compare_results(student, teacher)["comparison"]
    assert comparison["alignment"]["method"] == "counts"
    assert comparison["time_offset_ms"] == pytest.approx(CUT_S * 1000.0, abs=FRAME_MS / 2)
    assert comparison["tempo_ratio"] == pytest.approx(1.0, abs=0.01)
    assert comparison["mirrored"] is False
    assert comparison["overall"] >= 95, comparison["parts"]
    # Segments are the teacher's phrases, numbered as the teacher counts them.
    labels = [s["label"] for s in comparison["segments"]]
    assert labels[0] == "counts 1–8"
    first = comparison["segments"][0]
    assert first["start_ms"] == pytest.approx(_ones_ms(teacher)[0] + CUT_S * 1000.0, abs=40.0)
    timings = [s["timing_ms"] for s in comparison["segments"] if s["timing_ms"] is not None]
    assert all(abs(t) <= FRAME_MS for t in timings), timings
    pairs = np.asarray(comparison["alignment"]["map"])
    assert np.allclose(pairs[:, 0] - pairs[:, 1], CUT_S * 1000.0, atol=40.0)


def test_the_comparison_s_feedback_counts_as_its_words_do(pair: tuple[dict, dict]) -> None:
    """An item that says "Counts 9–16: …" falls on count 1 of phrase 2 by its `count`
    too: the teacher's numbering, not the student's (a bar apart here)."""
    student, teacher = pair
    merged = compare_results(student, teacher)
    said = [
        (int(match[1]), item["count"])
        for item in merged["feedback"]
        if item["topic"] == "comparison"
        and (match := re.match(r"Counts (\d+)–\d+", item["message"]))
    ]
    assert said, [item["message"] for item in merged["feedback"]]
    for first, count in said:
        assert count is not None
        assert (count["phrase"], count["count"]) == ((first - 1) // 8, 1), (first, count)
    # The analysis's own items keep the student's counts.
    own = [item for item in merged["feedback"] if item["topic"] != "comparison"]
    assert own == [item for item in student["feedback"]]
