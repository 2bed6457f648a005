"""Coach feedback: concrete, timestamped observations drawn from the angle series and metrics.

Each item names a stretch of time (or a moment) a player can seek to, the joints involved
and a sentence a dance coach reads at a glance ("Left knee stays bent between 0:03 and
0:05: never straighter than 121°"). Items come only from measured values: a stretch
without data says so, it is never read as a pose. The thresholds below are deliberately
plain numbers a coach can argue with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.angles import TRUNK
from dance_analysis.analysis.runs import true_runs

FloatArray = npt.NDArray[np.float64]
Severity = Literal["info", "warning", "critical"]

# Shortest stretch worth an item; shorter ones are passing moments, not habits.
MIN_STRETCH_S = 1.0
# A joint counts as held bent below these angles (a soft, "unlocked" knee is about 160–170°).
BENT_KNEE_MAX_DEG = 150.0
BENT_ELBOW_MAX_DEG = 120.0
# Held-bent items are only given while the torso is this close to vertical: in floor work
# or a deep lean, bent limbs are the choreography.
UPRIGHT_TRUNK_MAX_DEG = 30.0
# Left and right differing by more than this, for a stretch, is worth pointing out.
ASYMMETRY_MIN_DEG = 30.0
ASYMMETRY_PARTS = ("shoulder", "elbow", "hip", "knee")
# A torso leaning further than this from vertical, for a stretch.
TRUNK_LEAN_MIN_DEG = 45.0
# The clip's deepest knee bend is pointed out when it is deeper than this.
DEEP_KNEE_BEND_MAX_DEG = 100.0
# The fastest wrist or ankle is pointed out when its peak speed reaches this.
FAST_LIMB_MIN_M_PER_S = 2.5
# At most this many "no dancer" stretches, the longest ones.
MAX_MISSING_ITEMS = 5

_TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
_HIDDEN_PARTS = {"Legs": ("left_knee", "right_knee"), "Arms": ("left_elbow", "right_elbow")}


@dataclass(frozen=True)
class FeedbackItem:
    """One observation: from ``time_ms`` to ``end_ms`` (None for a moment), on ``joints``."""

    time_ms: float
    end_ms: float | None
    joints: tuple[str, ...]
    message: str
    severity: Severity = "info"

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_ms": self.time_ms,
            "end_ms": self.end_ms,
            "joints": list(self.joints),
            "message": self.message,
            "severity": self.severity,
            "topic": "movement",
        }


def format_time(ms: float) -> str:
    """``m:ss``, or ``m:ss.s`` under ten seconds when the tenths matter (3200 → "0:03.2")."""
    tenths = round(ms / 100.0)
    if tenths < 100 and tenths % 10:
        return f"0:{tenths // 10:02d}.{tenths % 10}"
    seconds = round(ms / 1000.0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def derive_feedback(
    t_ms: npt.ArrayLike,
    angles: Mapping[str, npt.ArrayLike],
    summaries: Mapping[str, Mapping[str, float | None]],
    metrics: Mapping[str, Any],
    person_found: npt.ArrayLike,
) -> list[FeedbackItem]:
    """Feedback items, sorted by time.

    ``angles``: ``(N,)`` degree series by name (see ``angles.ANGLE_NAMES``); ``summaries``:
    their ``angles.summarize`` results; ``metrics``: the ``metrics`` sections by name
    (``movement`` is used); ``person_found``: ``(N,)`` bool, whether the pose model found
    a dancer in each frame (a per-frame mask, because the items name stretches).
    """
    t = np.asarray(t_ms, dtype=np.float64)
    found = np.asarray(person_found, dtype=bool)
    series = {name: np.asarray(values, dtype=np.float64) for name, values in angles.items()}
    if len(t) == 0:
        return []
    items = [
        *_missing_dancer(t, found),
        *_hidden_parts(t, series, found),
        *_held_bent(t, series),
        *_asymmetries(t, series),
        *_trunk_lean(t, series),
        *_deepest_knee_bend(summaries),
        *_fastest_limb(metrics),
    ]
    return sorted(items, key=lambda item: (item.time_ms, item.end_ms or item.time_ms))


def _missing_dancer(t: FloatArray, found: npt.NDArray[np.bool_]) -> Iterator[FeedbackItem]:
    if not found.any():
        yield FeedbackItem(
            float(t[0]), float(t[-1]), (), "No dancer found anywhere in the clip.", "critical"
        )
        return
    stretches = sorted(_stretches(t, ~found), key=lambda s: t[s[1] - 1] - t[s[0]], reverse=True)
    for start, stop in stretches[:MAX_MISSING_ITEMS]:
        when = _between(t, start, stop)
        yield FeedbackItem(
            float(t[start]), float(t[stop - 1]), (), f"No dancer found {when}.", "warning"
        )


def _hidden_parts(
    t: FloatArray, angles: Mapping[str, FloatArray], found: npt.NDArray[np.bool_]
) -> Iterator[FeedbackItem]:
    for part, (left, right) in _HIDDEN_PARTS.items():
        if left not in angles or right not in angles:
            continue
        hidden = found & ~np.isfinite(angles[left]) & ~np.isfinite(angles[right])
        stretch = _longest(t, hidden)
        if stretch is not None:
            start, stop = stretch
            yield FeedbackItem(
                float(t[start]),
                float(t[stop - 1]),
                (left, right),
                f"{part} not measured {_between(t, start, stop)}: out of frame or hidden.",
                "warning",
            )


def _held_bent(t: FloatArray, angles: Mapping[str, FloatArray]) -> Iterator[FeedbackItem]:
    if TRUNK not in angles:
        return
    upright = angles[TRUNK] < UPRIGHT_TRUNK_MAX_DEG
    for joint, limit in (("knee", BENT_KNEE_MAX_DEG), ("elbow", BENT_ELBOW_MAX_DEG)):
        for side in ("left", "right"):
            name = f"{side}_{joint}"
            if name not in angles:
                continue
            stretch = _longest(t, upright & (angles[name] < limit))
            if stretch is not None:
                start, stop = stretch
                straightest = float(np.max(angles[name][start:stop]))
                yield FeedbackItem(
                    float(t[start]),
                    float(t[stop - 1]),
                    (name,),
                    f"{side.capitalize()} {joint} stays bent {_between(t, start, stop)}: "
                    f"never straighter than {straightest:.0f}°.",
                )


def _asymmetries(t: FloatArray, angles: Mapping[str, FloatArray]) -> Iterator[FeedbackItem]:
    for part in ASYMMETRY_PARTS:
        left_name, right_name = f"left_{part}", f"right_{part}"
        if left_name not in angles or right_name not in angles:
            continue
        left, right = angles[left_name], angles[right_name]
        stretch = _longest(t, np.abs(left - right) > ASYMMETRY_MIN_DEG)
        if stretch is not None:
            start, stop = stretch
            gap = np.abs(left[start:stop] - right[start:stop])
            # Means of each side can hide a gap that swaps sides: show the widest moment.
            widest = start + int(np.argmax(gap))
            yield FeedbackItem(
                float(t[start]),
                float(t[stop - 1]),
                (left_name, right_name),
                f"Left and right {part} differ by {gap.mean():.0f}° on average "
                f"{_between(t, start, stop)} (at {format_time(t[widest])}: "
                f"left {left[widest]:.0f}°, right {right[widest]:.0f}°).",
            )


def _trunk_lean(t: FloatArray, angles: Mapping[str, FloatArray]) -> Iterator[FeedbackItem]:
    if TRUNK not in angles:
        return
    stretch = _longest(t, angles[TRUNK] > TRUNK_LEAN_MIN_DEG)
    if stretch is not None:
        start, stop = stretch
        most = float(np.max(angles[TRUNK][start:stop]))
        yield FeedbackItem(
            float(t[start]),
            float(t[stop - 1]),
            _TORSO,
            f"Trunk leans up to {most:.0f}° from vertical {_between(t, start, stop)}.",
        )


def _deepest_knee_bend(
    summaries: Mapping[str, Mapping[str, float | None]],
) -> Iterator[FeedbackItem]:
    deepest: tuple[float, float, str] | None = None
    for name in ("left_knee", "right_knee"):
        summary = summaries.get(name, {})
        angle, when = summary.get("min"), summary.get("t_min_ms")
        if angle is not None and when is not None and (deepest is None or angle < deepest[0]):
            deepest = (angle, when, name)
    if deepest is not None and deepest[0] < DEEP_KNEE_BEND_MAX_DEG:
        angle, when, name = deepest
        side = name.split("_")[0]
        yield FeedbackItem(
            when,
            None,
            (name,),
            f"Deepest knee bend: {side} knee at {angle:.0f}° at {format_time(when)}.",
        )


def _fastest_limb(metrics: Mapping[str, Any]) -> Iterator[FeedbackItem]:
    joints = metrics.get("movement", {}).get("joints", {})
    peaks = [
        (values["peak_m_per_s"], values["peak_time_ms"], name)
        for name, values in joints.items()
        if values.get("peak_m_per_s") is not None and values.get("peak_time_ms") is not None
    ]
    if peaks:
        speed, when, name = max(peaks)
        if speed >= FAST_LIMB_MIN_M_PER_S:
            yield FeedbackItem(
                when,
                None,
                (name,),
                f"Fastest movement: {name.replace('_', ' ')} at {speed:.1f} m/s "
                f"at {format_time(when)}.",
            )


def _stretches(t: FloatArray, mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Runs of True lasting at least :data:`MIN_STRETCH_S`, as (start, stop) frame indices."""
    starts, stops = true_runs(mask)
    # Half a millisecond of slack: 1 s at 30 fps is 30 intervals of 33.333… ms.
    long_enough = t[stops - 1] - t[starts] >= MIN_STRETCH_S * 1000.0 - 0.5
    return [(int(a), int(b)) for a, b in zip(starts[long_enough], stops[long_enough], strict=True)]


def _longest(t: FloatArray, mask: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
    stretches = _stretches(t, mask)
    return max(stretches, key=lambda s: t[s[1] - 1] - t[s[0]]) if stretches else None


def _between(t: FloatArray, start: int, stop: int) -> str:
    return f"between {format_time(t[start])} and {format_time(t[stop - 1])}"
