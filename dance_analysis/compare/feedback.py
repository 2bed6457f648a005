"""Comparison feedback in a dance teacher's words: per segment the part furthest from
the teacher, which way and how far ("counts 5–8: your left arm is about 25° lower than
the teacher's"), the timing ("about 120 ms behind the teacher"), the mirror image, and
what went well. Ranked worst first and kept short: a student reads the top of a list.

Directions are read in the student's body frame (x to their left, y down, forward -z),
against the teacher's pose in the same frame (mirrored where the segment is), so
"left", "higher" and "forward" are the student's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.compare.features import BONE_PART, PART_NAMES
from dance_analysis.compare.score import ScoredSegment, mean_angle

FloatArray = npt.NDArray[np.float64]

MAX_PROBLEMS = 6  # part and timing items, worst first
MAX_GOOD = 2  # then what went well
MAX_MIRROR = 2  # then mirror-image notes
PART_ITEM_BELOW = 80.0  # a segment's worst part is named when it scores below this
TIMING_MIN_MS = 80.0  # a lag smaller than this is "in time": a frame or two at 30 fps
TIMING_MIN_DTW_MS = 150.0  # DTW's map is a 10 Hz path smoothed over a second
TIMING_NEEDS_SCORE = 70.0  # below this the poses disagree too much to say who is late
GOOD_SCORE = 85.0  # a segment (or a part over the clip) this close is praised
DIRECTION_MIN_DEG = 8.0  # a direction smaller than this is not named; the size is
ROUND_DEG = 5  # sizes are said to the nearest 5°: the model is no surer than that
ROUND_MS = 10

_WORDS = {
    "head": "head",
    "torso": "torso",
    "left_arm": "left arm",
    "right_arm": "right arm",
    "left_leg": "left leg",
    "right_leg": "right leg",
}
_JOINTS = {
    "head": ("nose", "left_ear", "right_ear"),
    "torso": ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
    **{f"{s}_arm": (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist") for s in ("left", "right")},
    **{f"{s}_leg": (f"{s}_hip", f"{s}_knee", f"{s}_ankle") for s in ("left", "right")},
}


@dataclass(frozen=True)
class _Item:
    rank: float  # higher: said first
    body: dict[str, Any]


def _bones(part: str) -> npt.NDArray[np.int64]:
    return np.flatnonzero(np.equal(BONE_PART, PART_NAMES.index(part)))


def _mean_diff(student: FloatArray, teacher: FloatArray, weights: FloatArray) -> float:
    """Weighted mean of ``student - teacher`` (m,) over frames; NaN without data."""
    diff = student - teacher
    w = np.where(np.isnan(diff), 0.0, weights)
    total = float(w.sum())
    return float((np.nan_to_num(diff) * w).sum() / total) if total > 0 else float("nan")


def _asin_deg(values: FloatArray) -> FloatArray:
    out: FloatArray = np.degrees(np.arcsin(np.clip(values, -1.0, 1.0)))
    return out


def _unit(vectors: FloatArray) -> FloatArray:
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(norm > 1e-9, vectors / norm, np.nan)
    return out


def _wrap_deg(values: FloatArray) -> FloatArray:
    out: FloatArray = (values + 180.0) % 360.0 - 180.0
    return out


def describe(part: str, scored: ScoredSegment) -> str:
    """How the student's ``part`` differs from the teacher's in a segment, in words:
    the largest of its named differences, or its size alone."""
    bones = _bones(part)
    s, t = scored.student[:, bones], scored.teacher[:, bones]
    w = scored.weights[:, bones]
    size = mean_angle(scored.angles[:, bones], w)
    frame_w = w[:, :2].min(axis=1)  # the two main bones, seen in both clips
    name = _WORDS[part]
    candidates: list[tuple[float, str, str]] = []  # (signed degrees, if +, if -)
    if part.endswith(("_arm", "_leg")):
        side = 1.0 if part.startswith("left") else -1.0
        s_limb, t_limb = _unit(s[:, 0] + s[:, 1]), _unit(t[:, 0] + t[:, 1])
        joint = name.replace("arm", "elbow").replace("leg", "knee")
        # Elevation above the horizontal, and the heading in the ground plane (0° in
        # front, 90° out to the side), its difference scaled by how level the limb is:
        # the heading of a limb that points at the floor means nothing.
        elevation_s, elevation_t = _asin_deg(-s_limb[:, 1]), _asin_deg(-t_limb[:, 1])
        heading_s = np.degrees(np.arctan2(side * s_limb[:, 0], -s_limb[:, 2]))
        heading_t = np.degrees(np.arctan2(side * t_limb[:, 0], -t_limb[:, 2]))
        level = np.cos(np.radians(elevation_s)) * np.cos(np.radians(elevation_t))
        bend_s = np.degrees(np.arccos(np.clip(np.sum(s[:, 0] * s[:, 1], axis=-1), -1, 1)))
        bend_t = np.degrees(np.arccos(np.clip(np.sum(t[:, 0] * t[:, 1], axis=-1), -1, 1)))
        candidates += [
            (_mean_diff(elevation_s, elevation_t, frame_w),
             f"your {name} is about {{deg}}° higher than the teacher's",
             f"your {name} is about {{deg}}° lower than the teacher's"),
            (_mean_diff(_wrap_deg(heading_s - heading_t) * level, np.zeros(len(s)), frame_w),
             f"your {name} is about {{deg}}° further out to the side than the teacher's",
             f"your {name} is about {{deg}}° further to the front than the teacher's"),
            # The bend is the angle between the two bones: 0° straight.
            (_mean_diff(bend_s, bend_t, frame_w),
             f"your {joint} is bent about {{deg}}° more than the teacher's",
             f"your {joint} is about {{deg}}° straighter than the teacher's"),
        ]  # fmt: skip
    elif part == "torso":
        spine_s, spine_t = s[:, 0], t[:, 0]
        twist_s = np.degrees(np.arctan2(s[:, 1, 2], s[:, 1, 0]))
        twist_t = np.degrees(np.arctan2(t[:, 1, 2], t[:, 1, 0]))
        candidates += [
            (_mean_diff(_asin_deg(-spine_s[:, 2]), _asin_deg(-spine_t[:, 2]), frame_w),
             "your torso leans about {deg}° further forward than the teacher's",
             "your torso leans about {deg}° further back than the teacher's"),
            (_mean_diff(_asin_deg(spine_s[:, 0]), _asin_deg(spine_t[:, 0]), frame_w),
             "your torso leans about {deg}° further to your left than the teacher's",
             "your torso leans about {deg}° further to your right than the teacher's"),
            (_mean_diff(_wrap_deg(twist_s - twist_t), np.zeros(len(s)), frame_w),
             "your shoulders are turned about {deg}° further to your left than the teacher's",
             "your shoulders are turned about {deg}° further to your right than the teacher's"),
        ]  # fmt: skip
    elif part == "head":
        face_s, face_t = s[:, 1], t[:, 1]
        turn_s = np.degrees(np.arctan2(face_s[:, 0], -face_s[:, 2]))
        turn_t = np.degrees(np.arctan2(face_t[:, 0], -face_t[:, 2]))
        candidates += [
            (_mean_diff(_asin_deg(-face_s[:, 1]), _asin_deg(-face_t[:, 1]), frame_w),
             "you look about {deg}° higher than the teacher",
             "you look about {deg}° lower than the teacher"),
            (_mean_diff(_wrap_deg(turn_s - turn_t), np.zeros(len(s)), frame_w),
             "your head is turned about {deg}° further to your left than the teacher's",
             "your head is turned about {deg}° further to your right than the teacher's"),
        ]  # fmt: skip
    named = [c for c in candidates if np.isfinite(c[0]) and abs(c[0]) >= DIRECTION_MIN_DEG]
    if named:
        degrees, more, less = max(named, key=lambda c: abs(c[0]))
        return (more if degrees > 0 else less).format(deg=_round_deg(abs(degrees)))
    return f"your {name} is about {_round_deg(size)}° off the teacher's"


def _round_deg(degrees: float) -> int:
    return int(max(ROUND_DEG, round(degrees / ROUND_DEG) * ROUND_DEG))


def _severity(score: float) -> str:
    return "critical" if score < 50.0 else "warning" if score < 75.0 else "info"


def _item(
    start_ms: float, end_ms: float, joints: Sequence[str], message: str, severity: str
) -> dict[str, Any]:
    return {
        "time_ms": float(start_ms),
        "end_ms": float(end_ms),
        "joints": list(joints),
        "message": message,
        "severity": severity,
        "topic": "comparison",
    }


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def comparison_feedback(
    segments: Sequence[ScoredSegment],
    parts: dict[str, float | None],
    clip_mirrored: bool,
    *,
    frame_ms: float = 0.0,
    method: str = "counts",
) -> list[dict[str, Any]]:
    """Feedback item dicts (result.json's feedback shape, ``topic`` "comparison"):
    problems worst first, then the mirror image, then what was good. A lag is named
    from ``TIMING_MIN_MS`` or half a frame (``frame_ms``, the longer of the two clips'),
    whichever is longer: poses are interpolated between frames, but not much finer;
    with a DTW ``method`` from ``TIMING_MIN_DTW_MS``, as its map is no finer."""
    timing_min = max(TIMING_MIN_MS, frame_ms / 2.0)
    if method == "dtw":
        timing_min = max(timing_min, TIMING_MIN_DTW_MS)
    problems: list[_Item] = []
    mirrors: list[_Item] = []
    good: list[_Item] = []
    for scored in segments:
        seg = scored.segment
        where = _capital(seg.label)
        part = seg.worst_part
        part_score = seg.part_scores.get(part) if part else None
        if part is not None and part_score is not None and part_score < PART_ITEM_BELOW:
            message = f"{where}: {describe(part, scored)}."
            body = _item(seg.start_ms, seg.end_ms, _JOINTS[part], message, _severity(part_score))
            problems.append(_Item(round(100.0 - part_score), body))
        if (
            seg.timing_ms is not None
            and abs(seg.timing_ms) >= timing_min
            and (seg.score or 0.0) >= TIMING_NEEDS_SCORE
        ):
            ms = int(round(abs(seg.timing_ms) / ROUND_MS) * ROUND_MS)
            side = "behind" if seg.timing_ms > 0 else "ahead of"
            severity = "warning" if ms >= 150 else "info"
            message = f"{where}: about {ms} ms {side} the teacher."
            # 5 ms of lag ranks like one point of score: 120 ms ~ a part at 76.
            problems.append(
                _Item(round(ms / 5.0), _item(seg.start_ms, seg.end_ms, (), message, severity))
            )
        if seg.mirrored and not clip_mirrored:
            message = f"You mirrored {seg.label}: scored against the teacher's mirror image."
            mirrors.append(_Item(0.0, _item(seg.start_ms, seg.end_ms, (), message, "info")))
        if seg.score is not None and seg.score >= GOOD_SCORE:
            message = f"{where}: close to the teacher (score {round(seg.score)})."
            good.append(
                _Item(round(seg.score), _item(seg.start_ms, seg.end_ms, (), message, "info"))
            )
    if clip_mirrored and segments:
        first, last = segments[0].segment, segments[-1].segment
        message = "You danced the mirror image of the teacher: scored against the mirror image."
        mirrors.insert(0, _Item(1.0, _item(first.start_ms, last.end_ms, (), message, "info")))
    best = max(
        ((p, s) for p, s in parts.items() if s is not None), key=lambda ps: ps[1], default=None
    )
    if best is not None and best[1] >= GOOD_SCORE and segments:
        first, last = segments[0].segment, segments[-1].segment
        message = f"Your {_WORDS[best[0]]} follows the teacher best (score {round(best[1])})."
        good.append(
            _Item(
                best[1] + 100.0,
                _item(first.start_ms, last.end_ms, _JOINTS[best[0]], message, "info"),
            )
        )

    # Worst first; equal ranks (rounded as they are said) in the order they happen.
    def order(item: _Item) -> tuple[float, float]:
        return (-item.rank, float(item.body["time_ms"]))

    ranked = [
        *sorted(problems, key=order)[:MAX_PROBLEMS],
        *sorted(mirrors, key=order)[:MAX_MIRROR],
        *sorted(good, key=order)[:MAX_GOOD],
    ]
    # ``rank`` (1: said first) survives the merge into the result's time-sorted list.
    return [{**item.body, "rank": rank} for rank, item in enumerate(ranked, start=1)]
