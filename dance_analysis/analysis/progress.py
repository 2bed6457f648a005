"""What one lesson adds to a student's progress: a few numbers from its result.

A student's page plots lessons over time (issue 12, point 3). Reading every lesson's
result.json for that would fetch megabytes per point, so each finished job keeps this
small summary on its row (``JobRecord.summary``), made here from the result's header:
the same function serves a fresh analysis, a comparison and a moved "1".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SUMMARY_VERSION = 1
_ANGLE_FIELDS = ("min", "max", "range", "mean")


def lesson_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """``{version, coverage, tempo_bpm, timing_offset_ms, angles, overall_score}``.

    ``angles``: each angle's ``{min, max, range, mean}`` in degrees (its range is the
    range of motion a coach follows over lessons); ``timing_offset_ms``: the dancer's
    mean offset to the beat (negative: ahead); ``overall_score``: the comparison's
    0–100 score, only in a compared result. A value that was not measured is None.
    """
    music = result.get("music") or {}
    timing = result.get("timing") or {}
    comparison = result.get("comparison") or {}
    angles = (result.get("angles") or {}).get("summary") or {}
    return {
        "version": SUMMARY_VERSION,
        "coverage": _number(result.get("coverage")),
        "tempo_bpm": _number(music.get("tempo_bpm")) if music.get("present") else None,
        "timing_offset_ms": _number(timing.get("mean_offset_ms")),
        "angles": {
            name: {key: _number(values.get(key)) for key in _ANGLE_FIELDS}
            for name, values in sorted(angles.items())
            if isinstance(values, Mapping)
        },
        "overall_score": _number(comparison.get("overall")),
    }


def _number(value: Any) -> float | None:
    """A finite float, rounded to what a plot shows; anything else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return round(number, 2) if math.isfinite(number) else None
