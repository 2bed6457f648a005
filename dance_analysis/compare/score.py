"""Scores: how close the student's pose is to the teacher's, 0–100, per bone, body part,
segment and clip. See docs/design/compare.md for the formula and its numbers.

Per student frame and scored bone, the angle between the student's and the teacher's
bone direction (body frame, teacher at the mapped time) becomes points by
:data:`SCORE_KNOTS`; a body part's score is the mean of its bones' points weighted by
bone weight × confidence (the lower visibility of the two clips), pooled over the frames
of a segment or the clip, both ways round (the student's frames beside the teacher, the
teacher's beside the student; the lower of the two, see :func:`pair_both_ways`); a
segment's and the clip's score is the mean of the part scores weighted by
:data:`PART_WEIGHTS`. Timing is kept apart from the pose score: a
student who is late is scored at their own lag (see :func:`segment_lag`), and the lag
is reported as ``timing_ms``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.feedback import format_time
from dance_analysis.compare.align import Alignment, phrase_length
from dance_analysis.compare.features import (
    BONE_PART,
    BONE_WEIGHTS,
    PART_NAMES,
    BodyFeatures,
    resample,
)
from dance_analysis.compare.mirror import is_mirrored, mirror_confidence, mirror_directions
from dance_analysis.compare.model import Performance, Segment

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FORMULA_VERSION = "bone-angle-1"
# Angle between the two bone directions (degrees) -> points, linear between the knots:
# within 5° is the model's own jitter (full marks), 30° off is half marks, 90° is none.
SCORE_KNOTS = ((0.0, 100.0), (5.0, 100.0), (30.0, 50.0), (90.0, 0.0))
# How much each part counts towards a segment's and the clip's score. The head is half:
# the face's landmarks are small and noisy, and a look is seldom the choreography.
PART_WEIGHTS = {
    "head": 0.5,
    "torso": 1.0,
    "left_arm": 1.0,
    "right_arm": 1.0,
    "left_leg": 1.0,
    "right_leg": 1.0,
}
WINDOW_MS = 4000.0  # segments without music
MIN_PART_WEIGHT = 0.5  # a part needs this much bone-frame weight in a segment to be scored
LAG_STEP_MS = 20.0  # the per-segment timing search (counts alignment) …
LAG_MAX_MS = 400.0  # … up to this far, and at most half a beat
FLAT_LAG_COST = 0.01  # a cost curve flatter than this says nothing about timing


def bone_angles(a: FloatArray, b: FloatArray) -> FloatArray:
    """Degrees between unit vectors (..., 3): (...); NaN where either is missing."""
    dot = np.clip(np.sum(a * b, axis=-1), -1.0, 1.0)
    degrees: FloatArray = np.degrees(np.arccos(dot))
    return degrees


def points_for(angles_deg: FloatArray) -> FloatArray:
    """Angles (degrees) to points 0–100 by :data:`SCORE_KNOTS` (NaN stays NaN)."""
    xs, ys = zip(*SCORE_KNOTS, strict=True)
    points: FloatArray = np.interp(angles_deg, xs, ys)
    return np.where(np.isnan(angles_deg), np.nan, points)


def part_scores(angles_deg: FloatArray, weights: FloatArray) -> dict[str, float | None]:
    """Per body part, the weighted mean points over frames × bones ((m, B) each);
    None for a part with too little seen."""
    points = np.nan_to_num(points_for(angles_deg))
    w = np.where(np.isnan(angles_deg), 0.0, weights)
    out: dict[str, float | None] = {}
    for k, part in enumerate(PART_NAMES):
        bones = np.equal(BONE_PART, k)
        total = float(w[:, bones].sum())
        out[part] = (
            float((points[:, bones] * w[:, bones]).sum() / total)
            if (total >= MIN_PART_WEIGHT)
            else None
        )
    return out


def overall_score(parts: dict[str, float | None]) -> float | None:
    """The :data:`PART_WEIGHTS`-weighted mean of the parts that have a score."""
    scored = [(PART_WEIGHTS[p], s) for p, s in parts.items() if s is not None]
    if not scored:
        return None
    return sum(w * s for w, s in scored) / sum(w for w, _ in scored)


def mean_angle(angles_deg: FloatArray, weights: FloatArray) -> float:
    """The weighted mean bone angle (degrees), NaN when nothing is compared."""
    w = np.where(np.isnan(angles_deg), 0.0, weights)
    total = float(w.sum())
    return float((np.nan_to_num(angles_deg) * w).sum() / total) if total > 0 else float("nan")


@dataclass(frozen=True)
class Pairing:
    """Paired poses of the student and the teacher, both ways round.

    ``student`` (m, B, 3); ``teacher`` and ``teacher_mirror`` (m, B, 3); ``weights``
    and ``weights_mirror`` (m, B): bone weight × the lower confidence of the two.
    """

    student: FloatArray
    teacher: FloatArray
    teacher_mirror: FloatArray
    weights: FloatArray
    weights_mirror: FloatArray

    def angles(self, mirrored: bool) -> tuple[FloatArray, FloatArray]:
        if mirrored:
            return bone_angles(self.student, self.teacher_mirror), self.weights_mirror
        return bone_angles(self.student, self.teacher), self.weights


def _pairing(
    s_dir: FloatArray, s_conf: FloatArray, t_dir: FloatArray, t_conf: FloatArray
) -> Pairing:
    m_dir, m_conf = mirror_directions(t_dir), mirror_confidence(t_conf)
    return Pairing(
        student=s_dir,
        teacher=t_dir,
        teacher_mirror=m_dir,
        weights=BONE_WEIGHTS * np.minimum(s_conf, t_conf),
        weights_mirror=BONE_WEIGHTS * np.minimum(s_conf, m_conf),
    )


def pair(
    student: BodyFeatures, teacher: BodyFeatures, frames: IntArray, teacher_ms: FloatArray
) -> Pairing:
    """The teacher's pose at ``teacher_ms`` beside the student's ``frames``."""
    t_dir, t_conf = resample(teacher, teacher_ms)
    return _pairing(student.directions[frames], student.confidence[frames], t_dir, t_conf)


def pair_both_ways(
    student: BodyFeatures,
    teacher: BodyFeatures,
    alignment: Alignment,
    span: Span,
    lag_ms: float,
) -> tuple[Pairing, Pairing]:
    """Every student frame of ``span`` beside the teacher at the mapped time, and every
    teacher frame that maps into ``span`` beside the student at its time.

    Both ways, because a map that lingers on the teacher's easy moments and hurries
    through the hard ones would otherwise compare only the easy ones: a student who
    stands still beside a teacher who squats must not score as if they squatted.
    """
    s_ms = student.t_ms[span.frames]
    forward = pair(student, teacher, span.frames, alignment.teacher_ms(s_ms - lag_ms))
    mapped = alignment.student_ms(teacher.t_ms) + lag_ms
    mine = np.flatnonzero(
        (mapped >= span.start_ms)
        & (mapped < span.end_ms)
        & (mapped >= student.t_ms[0])
        & (mapped <= student.t_ms[-1])
    )
    s_dir, s_conf = resample(student, mapped[mine])
    backward = _pairing(s_dir, s_conf, teacher.directions[mine], teacher.confidence[mine])
    return forward, backward


def joined(pairings: Sequence[Pairing]) -> Pairing:
    """One pairing holding the frames of several."""
    return Pairing(
        *(
            np.concatenate([getattr(p, name) for p in pairings])
            for name in ("student", "teacher", "teacher_mirror", "weights", "weights_mirror")
        )
    )


def two_way_part_scores(sides: Sequence[Pairing], mirrored: bool) -> dict[str, float | None]:
    """Per part, the lower of the student-side and the teacher-side score: the student
    must match every moment of the teacher, and the teacher every moment of the student."""
    per_side = [part_scores(*side.angles(mirrored)) for side in sides]
    out: dict[str, float | None] = {}
    for part in PART_NAMES:
        values: list[float] = [s for scores in per_side if (s := scores[part]) is not None]
        out[part] = min(values) if values else None
    return out


def segment_lag(
    student: BodyFeatures,
    teacher: BodyFeatures,
    frames: IntArray,
    alignment: Alignment,
    beat_ms: float,
) -> float | None:
    """The student's lag (ms, + behind) in a segment against the map: the shift of the
    teacher's pose that matches best (mirror-blind), parabola-refined; None when the
    cost hardly changes with the shift (a held pose has no timing)."""
    limit = min(LAG_MAX_MS, beat_ms / 2.0)
    lags = np.arange(-limit, limit + 1e-6, LAG_STEP_MS)
    s_ms = student.t_ms[frames]
    costs = np.empty(len(lags))
    for k, lag in enumerate(lags):
        pairing = pair(student, teacher, frames, alignment.teacher_ms(s_ms - lag))
        direct = _chord_cost(pairing.student, pairing.teacher, pairing.weights)
        mirror = _chord_cost(pairing.student, pairing.teacher_mirror, pairing.weights_mirror)
        costs[k] = min(direct, mirror)
    if not np.isfinite(costs).all() or np.ptp(costs) < FLAT_LAG_COST:
        return None
    k = int(np.argmin(costs))
    if 0 < k < len(lags) - 1:
        left, mid, right = costs[k - 1 : k + 2]
        bend = left - 2 * mid + right
        if bend > 0:
            return float(lags[k] + 0.5 * (left - right) / bend * LAG_STEP_MS)
    return float(lags[k])


def _chord_cost(a: FloatArray, b: FloatArray, weights: FloatArray) -> float:
    squared = np.sum((a - b) ** 2, axis=-1)
    w = np.where(np.isnan(squared), 0.0, weights)
    total = float(w.sum())
    return float((np.nan_to_num(squared) * w).sum() / total) if total > 0 else float("inf")


@dataclass(frozen=True)
class Span:
    """A segment before scoring: student times, a label, its frames."""

    start_ms: float
    end_ms: float
    label: str
    frames: IntArray


def spans(
    student: Performance,
    teacher: Performance,
    features: BodyFeatures,
    alignment: Alignment,
) -> list[Span]:
    """The student's segments inside the part of their clip the teacher's covers: the
    teacher's 8-count phrases on the student's clock (labelled with the teacher's
    counts, the choreography's numbering: "counts 9–16") when aligned by counts, else
    4 s windows ("0:04–0:08")."""
    t = features.t_ms
    mapped = alignment.teacher_ms(t)
    covered = (mapped >= teacher.t_ms[0]) & (mapped <= teacher.t_ms[-1])
    if not covered.any():
        return []
    first, last = t[covered][0], t[covered][-1]
    out: list[Span] = []
    if alignment.method == "counts":
        # The teacher's phrases, on the student's clock: the choreography's counts even
        # when the two recordings number their phrases a bar apart (see align.py).
        beat = float(np.median(np.diff(teacher.beats_ms)))
        length = phrase_length(teacher)
        phrases = teacher.count_phrase
        for phrase in np.unique(phrases):
            times = teacher.count_ms[phrases == phrase]
            later = teacher.count_ms[phrases > phrase]
            teacher_end = float(later[0]) if len(later) else float(times[-1] + beat)
            start, end = (float(x) for x in alignment.student_ms([times[0], teacher_end]))
            number = int(phrase - phrases.min())
            label = f"counts {number * length + 1}–{(number + 1) * length}"
            out.append(Span(start, end, label, _frames(t, covered, start, end)))
    else:
        # Windows on the student's clock (0:04–0:08, …), cut to the covered stretch; a
        # stub shorter than half a window at either end joins its neighbour.
        grid = np.arange(np.floor(first / WINDOW_MS) * WINDOW_MS, last, WINDOW_MS)[1:]
        inner = [float(e) for e in grid if first + WINDOW_MS / 2 <= e <= last - WINDOW_MS / 2]
        edges = [float(first), *inner]
        ends = [*inner, float(last) + 1e-6]
        for start, end in zip(edges, ends, strict=True):
            label = f"{format_time(start)}–{format_time(min(end, last))}"
            out.append(Span(float(start), float(end), label, _frames(t, covered, start, end)))
    # A phrase mostly outside the teacher's clip is not a segment.
    return [span for span in out if _share_covered(span, t, covered) >= 0.5]


def _frames(t: FloatArray, covered: npt.NDArray[np.bool_], start: float, end: float) -> IntArray:
    return np.flatnonzero(covered & (t >= start) & (t < end)).astype(np.int64)


def _share_covered(span: Span, t: FloatArray, covered: npt.NDArray[np.bool_]) -> float:
    inside = (t >= span.start_ms) & (t < span.end_ms)
    return float(covered[inside].mean()) if inside.any() else 0.0


@dataclass(frozen=True)
class ScoredSegment:
    """A :class:`Segment` with what its feedback needs: the pairing in the frame that
    was chosen (direct or mirror image)."""

    segment: Segment
    student: FloatArray  # (m, B, 3)
    teacher: FloatArray  # (m, B, 3), mirrored when the segment is
    weights: FloatArray  # (m, B)
    angles: FloatArray  # (m, B) degrees


@dataclass(frozen=True)
class Scores:
    overall: float | None
    parts: dict[str, float | None]
    mirrored: bool
    segments: list[ScoredSegment]


def score_comparison(
    student: Performance,
    teacher: Performance,
    student_features: BodyFeatures,
    teacher_features: BodyFeatures,
    alignment: Alignment,
) -> Scores:
    """Score every segment and the clip (mirror decided for both; see mirror.py)."""
    beat = float(np.median(np.diff(student.beats_ms))) if len(student.beats_ms) > 1 else 1000.0
    pairings: list[tuple[Span, tuple[Pairing, Pairing], float | None]] = []
    for span in spans(student, teacher, student_features, alignment):
        s_ms = student_features.t_ms[span.frames]
        if alignment.method == "counts":
            lag = segment_lag(student_features, teacher_features, span.frames, alignment, beat)
            shift = lag or 0.0
        else:
            # Ahead of or behind the straight line, in the student's ms; the map itself
            # already follows the student, so the poses are paired without a shift.
            mapped = alignment.teacher_ms(s_ms)
            drift = (alignment.linear_teacher_ms(s_ms) - mapped) / alignment.tempo_ratio
            lag = float(np.mean(drift)) if len(drift) else None
            shift = 0.0
        sides = pair_both_ways(student_features, teacher_features, alignment, span, shift)
        pairings.append((span, sides, lag))

    clip_mirrored = _mirrored(joined(sides) for _, sides, _ in pairings)
    segments: list[ScoredSegment] = []
    chosen: list[tuple[Pairing, Pairing]] = []
    for span, sides, lag in pairings:
        both = joined(sides)
        direct = mean_angle(*both.angles(False))
        mirror = mean_angle(*both.angles(True))
        # A tie follows the clip: a squat in a mirrored dance is still part of it.
        if is_mirrored(direct, mirror):
            mirrored = True
        elif is_mirrored(mirror, direct):
            mirrored = False
        else:
            mirrored = clip_mirrored
        parts = two_way_part_scores(sides, mirrored)
        scored = {p: s for p, s in parts.items() if s is not None}
        worst = min(scored, key=lambda p: scored[p]) if scored else None
        segment = Segment(
            start_ms=span.start_ms,
            end_ms=span.end_ms,
            label=span.label,
            score=overall_score(parts),
            timing_ms=lag,
            worst_part=worst,
            mirrored=mirrored,
            part_scores=parts,
        )
        angles, weights = both.angles(mirrored)
        teacher_dirs = both.teacher_mirror if mirrored else both.teacher
        segments.append(ScoredSegment(segment, both.student, teacher_dirs, weights, angles))
        chosen.append((_as_chosen(sides[0], mirrored), _as_chosen(sides[1], mirrored)))
    if chosen:
        forward = joined([c[0] for c in chosen])
        backward = joined([c[1] for c in chosen])
        parts = two_way_part_scores([forward, backward], False)
    else:
        parts = dict.fromkeys(PART_NAMES)
    return Scores(overall_score(parts), parts, clip_mirrored, segments)


def _as_chosen(pairing: Pairing, mirrored: bool) -> Pairing:
    """The pairing with the segment's chosen reading as its direct one."""
    if not mirrored:
        return pairing
    return Pairing(
        pairing.student,
        pairing.teacher_mirror,
        pairing.teacher,
        pairing.weights_mirror,
        pairing.weights,
    )


def _mirrored(pairings: Iterable[Pairing]) -> bool:
    """The clip-level decision, pooled over every scored frame."""
    direct, mirror = [], []
    for pairing in pairings:
        direct.append(pairing.angles(False))
        mirror.append(pairing.angles(True))
    if not direct:
        return False
    d = mean_angle(np.concatenate([a for a, _ in direct]), np.concatenate([w for _, w in direct]))
    m = mean_angle(np.concatenate([a for a, _ in mirror]), np.concatenate([w for _, w in mirror]))
    return is_mirrored(d, m)
