"""A lesson's numbers from its result (``dance_analysis.analysis.progress``), by hand."""

from __future__ import annotations

import math

from dance_analysis.analysis.progress import lesson_summary


def test_a_lesson_keeps_its_timing_tempo_angles_and_score() -> None:
    result = {
        "coverage": 0.96,
        "music": {"present": True, "tempo_bpm": 124.04},
        "timing": {"mean_offset_ms": -37.256},
        "angles": {
            "summary": {
                "left_knee": {"min": 80.0, "max": 170.5, "range": 90.5, "mean": 140.0,
                              "t_min_ms": 1.0, "t_max_ms": 2.0, "coverage": 1.0},
                "trunk": {"min": None, "max": None, "range": math.nan, "mean": None},
            }
        },
        "comparison": {"overall": 71.234},
        "frames": [{"index": 0}],
    }  # fmt: skip
    assert lesson_summary(result) == {
        "version": 1,
        "coverage": 0.96,
        "tempo_bpm": 124.04,
        "timing_offset_ms": -37.26,
        "angles": {
            "left_knee": {"min": 80.0, "max": 170.5, "range": 90.5, "mean": 140.0},
            "trunk": {"min": None, "max": None, "range": None, "mean": None},
        },
        "overall_score": 71.23,
    }


def test_without_music_or_comparison_those_numbers_are_none() -> None:
    summary = lesson_summary({"music": {"present": False, "tempo_bpm": None}, "timing": {}})
    assert (summary["tempo_bpm"], summary["timing_offset_ms"]) == (None, None)
    assert (summary["overall_score"], summary["coverage"], summary["angles"]) == (None, None, {})
    # A tempo guessed from silence is never kept: only music that is present counts.
    assert lesson_summary({"music": {"present": False, "tempo_bpm": 90.0}})["tempo_bpm"] is None
