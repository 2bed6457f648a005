"""Coach feedback from hand-made angle series: the right stretch, the right words."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from dance_analysis.analysis.angles import ANGLE_NAMES, summarize
from dance_analysis.analysis.feedback import FeedbackItem, derive_feedback, format_time
from tests.analysis.poses import timeline

pytestmark = pytest.mark.filterwarnings("error")

FloatArray = npt.NDArray[np.float64]
T = timeline(8, 30)
FRAME_MS = 1000.0 / 30


def relaxed() -> dict[str, FloatArray]:
    """Eight seconds of a dancer standing tall: limbs nearly straight, trunk upright."""
    angles = {name: np.full(len(T), 170.0) for name in ANGLE_NAMES}
    angles["trunk"] = np.full(len(T), 5.0)
    return angles


def feedback(
    angles: dict[str, FloatArray],
    person_found: npt.NDArray[np.bool_] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> list[FeedbackItem]:
    summaries = {name: summarize(series, T) for name, series in angles.items()}
    found = np.ones(len(T), dtype=bool) if person_found is None else person_found
    return derive_feedback(T, angles, summaries, metrics or {}, found)


def between(start_ms: float, end_ms: float) -> npt.NDArray[np.bool_]:
    return (T - start_ms >= -1e-6) & (T - end_ms <= 1e-6)


def test_a_knee_held_bent_is_pointed_out_with_its_stretch() -> None:
    angles = relaxed()
    angles["left_knee"][between(3000, 5000)] = 120.0
    items = [item for item in feedback(angles) if "left_knee" in item.joints]
    assert len(items) >= 1
    bent = next(item for item in items if "bent" in item.message)
    assert bent.time_ms == pytest.approx(3000.0, abs=FRAME_MS)
    assert bent.end_ms == pytest.approx(5000.0, abs=FRAME_MS)
    assert bent.message == (
        "Left knee stays bent between 0:03 and 0:05: never straighter than 120°."
    )


def test_bent_knees_in_floor_work_are_not_a_habit() -> None:
    angles = relaxed()
    angles["left_knee"][:] = 90.0
    angles["right_knee"][:] = 90.0
    angles["trunk"][:] = 80.0  # lying or crouched over
    messages = [item.message for item in feedback(angles)]
    assert not any("bent" in message for message in messages)
    assert any(message.startswith("Trunk leans up to 80°") for message in messages)


def test_a_short_bend_is_a_passing_moment() -> None:
    angles = relaxed()
    angles["left_elbow"][between(2000, 2500)] = 60.0
    assert not any("bent" in item.message for item in feedback(angles))


def test_sustained_asymmetry_names_both_sides_and_the_degrees() -> None:
    angles = relaxed()
    angles["left_elbow"][between(2000, 4000)] = 90.0
    angles["left_elbow"][between(3000, 3500)] = 60.0
    item = next(i for i in feedback(angles) if set(i.joints) == {"left_elbow", "right_elbow"})
    # 45 frames 80° apart and 16 frames 110° apart: 88° on average, widest from 0:03.
    assert item.message == (
        "Left and right elbow differ by 88° on average between 0:02 and 0:04 "
        "(at 0:03: left 60°, right 170°)."
    )
    assert (item.time_ms, item.end_ms) == pytest.approx((2000.0, 4000.0))


def test_stretches_without_a_dancer_are_reported() -> None:
    angles = relaxed()
    found = ~between(6000, 7500)
    for series in angles.values():
        series[~found] = np.nan
    items = feedback(angles, person_found=found)
    missing = [item for item in items if item.message.startswith("No dancer")]
    assert [(m.message, m.severity) for m in missing] == [
        ("No dancer found between 0:06 and 0:07.5.", "warning")
    ]
    # The missing frames produce nothing else: no "not measured", no bend, no asymmetry.
    assert items == missing


def test_hidden_legs_are_reported_as_not_measured() -> None:
    angles = relaxed()
    angles["left_knee"][between(1000, 3000)] = np.nan
    angles["right_knee"][between(1000, 3000)] = np.nan
    (item,) = feedback(angles)
    assert item.message == "Legs not measured between 0:01 and 0:03: out of frame or hidden."
    assert item.severity == "warning"


def test_no_data_at_all_gives_one_critical_item_and_nothing_from_nan() -> None:
    angles = {name: np.full(len(T), np.nan) for name in ANGLE_NAMES}
    (item,) = feedback(angles, person_found=np.zeros(len(T), dtype=bool))
    assert item.severity == "critical"
    assert (item.time_ms, item.end_ms) == (0.0, T[-1])
    json.dumps(item.to_dict(), allow_nan=False)
    assert derive_feedback(np.array([]), {}, {}, {}, np.array([], dtype=bool)) == []


def test_deepest_knee_bend_and_fastest_limb_are_moments() -> None:
    angles = relaxed()
    angles["right_knee"][:] = 170.0 - 80.0 * np.exp(-(((T - 4200.0) / 300.0) ** 2))
    metrics = {
        "movement": {
            "joints": {
                "left_wrist": {"peak_m_per_s": 3.24, "peak_time_ms": 6100.0},
                "right_wrist": {"peak_m_per_s": 1.0, "peak_time_ms": 1000.0},
                "left_ankle": {"peak_m_per_s": None, "peak_time_ms": None},
            }
        }
    }
    items = feedback(angles, metrics=metrics)
    deepest = next(i for i in items if i.message.startswith("Deepest"))
    assert deepest.message == "Deepest knee bend: right knee at 90° at 0:04.2."
    assert (deepest.time_ms, deepest.end_ms, deepest.joints) == (4200.0, None, ("right_knee",))
    fastest = next(i for i in items if i.message.startswith("Fastest"))
    assert fastest.message == "Fastest movement: left wrist at 3.2 m/s at 0:06.1."
    assert [i.time_ms for i in items] == sorted(i.time_ms for i in items)


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0.0, "0:00"), (3000.0, "0:03"), (3240.0, "0:03.2"), (9960.0, "0:10"), (65400.0, "1:05")],
)
def test_times_read_as_minutes_and_seconds(ms: float, text: str) -> None:
    assert format_time(ms) == text


def test_an_item_serialises_to_the_result_shape() -> None:
    item = FeedbackItem(1500.0, None, ("left_knee",), "Deepest knee bend.", "info")
    assert item.to_dict() == {
        "time_ms": 1500.0,
        "end_ms": None,
        "joints": ["left_knee"],
        "message": "Deepest knee bend.",
        "severity": "info",
        "topic": "movement",
    }
