"""The dancer's timing against the music: movement accents, their offsets to the beat, counts.

Pure maths on plain lists and arrays, so this layer stays below ``dance_analysis.music``:
beats and counts come in as the music result's ``beats_ms`` and ``counts``
(``[{t_ms, count, phrase}]``), all times in ms on the clip's clock.

Accents (:func:`movement_accents`) are the moments a movement lands: a foot coming to rest
after a step, the hips stopping or reversing (a weight transfer, a hit). Each body signal
(left foot, right foot, hip centre) is a speed in torso lengths per second, so the camera's
distance does not matter. After every clear peak of that speed (a movement), the accent is
the first of:

- the movement stopping: where the speed's falling line, through the two frames either
  side of its fall below ``REST_FRACTION`` of the peak, reaches zero (at most one frame
  past them). Extrapolating from the steep part of the fall, not waiting for a level near
  zero, keeps jitter out and the time close to the real stop: exact for a half-sine speed
  profile (a foot striking the floor), about 5 % of the movement's duration early for a
  minimum-jerk one (a gliding foot);
- a dip, the lowest point before the next movement, below ``DIP_FRACTION`` of the smaller
  of the two peaks (the movement reversed or changed without stopping): the minimum is
  refined by a parabola through the three frames around it.

A speed that never reaches ``MOVE_MIN_TORSO_PER_S`` (stillness, the model's jitter) gives
no accent. Accents of different signals closer than ``MERGE_MS`` are one accent, a foot's
landing preferred (the most precise moment). Time is the real presentation time ``t_ms``,
never ``index / fps``.

The offset of an accent (:func:`analyze_timing`) is accent minus nearest beat: negative is
ahead of the beat, positive behind (late).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.runs import true_runs
from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

# A movement is a speed peak of at least this many torso lengths per second (about
# 0.5 m/s for an adult); the model's jitter on a still dancer stays well below it.
MOVE_MIN_TORSO_PER_S = 1.0
# A peak must also stand out from its surroundings by this fraction of the threshold above,
# so a wobble on a continuous movement is not a new movement.
PEAK_PROMINENCE_FRACTION = 0.5
# A fall below this fraction of its peak marks a movement stopping (the module docstring
# says how the stop is timed from there).
REST_FRACTION = 0.2
# A dip between two movements is an accent when it falls below this fraction of the
# smaller peak; a shallower one is a movement carrying on.
DIP_FRACTION = 0.5
# Accents of different body signals this close together are the same accent.
MERGE_MS = 100.0
# A mean offset within this many ms of the beat reads as "on the beat" (a good dancer is
# within a few tens of ms; listeners hear about 30–50 ms of asynchrony).
ON_BEAT_MS = 40.0
# Offsets are rounded to this many ms in messages: more precision than that is noise.
MESSAGE_ROUND_MS = 10
# Below this frame rate half a frame is more than the on-beat tolerance: say so.
FINE_TIMING_FPS = 24.0

_INDEX = BLAZEPOSE_33.index
_FEET = {
    side: [_INDEX(f"{side}_ankle"), _INDEX(f"{side}_heel"), _INDEX(f"{side}_foot_index")]
    for side in ("left", "right")
}
_HIPS = [_INDEX("left_hip"), _INDEX("right_hip")]
_SHOULDERS = [_INDEX("left_shoulder"), _INDEX("right_shoulder")]


@dataclass(frozen=True)
class PhraseTiming:
    """One 8-count: its span and the mean and consistency of the accents' offsets in it.

    ``consistency`` is ``1 − min(std / half a beat, 1)`` over the phrase's offsets: 1 when
    every accent is the same distance from its beat, 0 when they scatter by half a beat or
    more (no relation to the beat left). None with fewer than two accents, as is
    ``mean_offset_ms`` with none.
    """

    phrase: int
    start_ms: float
    end_ms: float
    mean_offset_ms: float | None
    consistency: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phrase": self.phrase,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "mean_offset_ms": self.mean_offset_ms,
            "consistency": self.consistency,
        }


@dataclass(frozen=True)
class Timing:
    """The result's ``timing`` section.

    ``offsets_ms`` runs parallel to ``accents_ms`` when there are beats: an accent's
    signed offset to its nearest beat, None for an accent more than half a beat outside
    the beats (before the music starts, after it stops). Without beats (no music) there are
    no offsets: ``offsets_ms`` is ``[]``, ``mean_offset_ms`` None and ``by_phrase`` ``[]``,
    while ``accents_ms`` still lists the accents. With beats and counts, ``by_phrase`` has
    every phrase of the counts, those without accents with None. No field is ever NaN.
    """

    accents_ms: tuple[float, ...]
    offsets_ms: tuple[float | None, ...]
    mean_offset_ms: float | None
    by_phrase: tuple[PhraseTiming, ...]
    # Whether there were beats to time against (not in the dict: the music section says it).
    has_beats: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "accents_ms": list(self.accents_ms),
            "offsets_ms": list(self.offsets_ms),
            "mean_offset_ms": self.mean_offset_ms,
            "by_phrase": [phrase.to_dict() for phrase in self.by_phrase],
        }


# --- accents -----------------------------------------------------------------------------


def movement_accents(
    t_ms: npt.ArrayLike,
    landmarks: npt.ArrayLike,
    *,
    visibility_min: float = 0.5,
    aspect: float = 1.0,
) -> list[float]:
    """Times (ms, sorted) at which the dancer's movements land; see the module docstring.

    ``landmarks``: ``(N, 33, 4)`` cleaned image landmarks (x, y normalised to the frame,
    z, visibility), NaN where there is no person; points below ``visibility_min`` are
    ignored. ``aspect``: the frame's width / height, so x and y are measured in the same
    unit (the body scale cancels the unit itself).
    """
    t = np.asarray(t_ms, dtype=np.float64)
    points = np.array(landmarks, dtype=np.float64)
    if points.shape != (len(t), 33, 4):
        raise ValueError(f"expected landmarks of shape ({len(t)}, 33, 4), got {points.shape}")
    if len(t) < 3:
        return []
    xy = points[:, :, :2].copy()
    xy[:, :, 0] *= aspect
    xy[~(points[:, :, 3] >= visibility_min)] = np.nan
    scale = _torso_length(xy)
    if not np.isfinite(scale) or scale <= 0.0:
        return []

    mid = _midpoints(t)
    foot_accents: list[float] = []
    for indices in _FEET.values():
        speeds = np.stack([_speed(t, xy[:, i]) for i in indices])
        with np.errstate(all="ignore"):
            foot = _nanmean_rows(speeds) / scale
        foot_accents.extend(_landings(mid, foot))
    hip_centre = xy[:, _HIPS].mean(axis=1)
    hip_accents = _landings(mid, _speed(t, hip_centre) / scale)
    return _merge(foot_accents, hip_accents)


def _torso_length(xy: FloatArray) -> float:
    """The median shoulder-centre to hip-centre distance over the clip, in the xy unit."""
    lengths = np.linalg.norm(xy[:, _SHOULDERS].mean(axis=1) - xy[:, _HIPS].mean(axis=1), axis=1)
    finite = lengths[np.isfinite(lengths)]
    return float(np.median(finite)) if len(finite) else float("nan")


def _speed(t: FloatArray, xy: FloatArray) -> FloatArray:
    """Speed (units per second) of one point, ``(N, 2)``, between consecutive frames: ``(N − 1,)``
    at the midpoints :func:`_midpoints`, NaN where either frame is unknown.

    A one-sided difference per frame interval, not a central one, so a sudden stop is not
    smeared over the following frame; a gap never bridges two separate stretches.
    """
    dt = np.diff(t)
    dt_s = np.where(dt > 0.0, dt, np.nan)[:, None] / 1000.0  # a repeated timestamp: unknown
    with np.errstate(all="ignore"):
        return np.asarray(np.linalg.norm(np.diff(xy, axis=0) / dt_s, axis=1), dtype=np.float64)


def _midpoints(t: FloatArray) -> FloatArray:
    return (t[:-1] + t[1:]) / 2.0


def _nanmean_rows(values: FloatArray) -> FloatArray:
    """Mean over axis 0 of the finite entries, NaN where there are none (no warning)."""
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    total = np.where(finite, values, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _landings(t: FloatArray, speed: FloatArray) -> list[float]:
    """Accent times of one speed signal, each finite stretch on its own."""
    accents: list[float] = []
    starts, stops = true_runs(np.isfinite(speed))
    for start, stop in zip(starts, stops, strict=True):
        if stop - start >= 3:
            accents.extend(_run_landings(t[start:stop], speed[start:stop]))
    return accents


def _run_landings(t: FloatArray, s: FloatArray) -> list[float]:
    from scipy.signal import find_peaks  # scipy stays off start-up paths

    peaks, _ = find_peaks(
        s, height=MOVE_MIN_TORSO_PER_S, prominence=PEAK_PROMINENCE_FRACTION * MOVE_MIN_TORSO_PER_S
    )
    # A movement still under way at the start of the stretch has its peak in frame 0,
    # which find_peaks does not report.
    if len(s) > 1 and s[0] >= MOVE_MIN_TORSO_PER_S and s[0] > s[1]:
        peaks = np.concatenate(([0], peaks))
    accents: list[float] = []
    for k, peak in enumerate(peaks):
        stop = int(peaks[k + 1]) if k + 1 < len(peaks) else len(s)
        after = s[peak:stop]
        rest = np.flatnonzero(after <= REST_FRACTION * s[peak])
        if len(rest):
            i = int(peak + rest[0])
            # The steepest fall between the peak and the rest level.
            steepest = int(peak + np.argmin(np.diff(s[peak : i + 1]) / np.diff(t[peak : i + 1])))
            accents.append(_stop_time(t, s, steepest + 1))
            continue
        if stop == len(s):
            continue  # the stretch ends mid-movement: no landing seen
        dip = int(peak + np.argmin(after))
        if s[dip] <= DIP_FRACTION * min(s[peak], s[stop]):
            accents.append(_parabolic_minimum(t, s, dip))
    return accents


def _stop_time(t: FloatArray, s: FloatArray, i: int) -> float:
    """Where the line through frames ``i − 1`` and ``i`` (speed falling) reaches zero,
    clipped to between frame ``i − 1`` and one frame past ``i``."""
    if i == 0 or s[i - 1] <= s[i]:
        return float(t[i])
    step = t[i] - t[i - 1]
    fraction = s[i - 1] / (s[i - 1] - s[i])
    return float(t[i - 1] + min(fraction, 2.0) * step)


def _parabolic_minimum(t: FloatArray, s: FloatArray, i: int) -> float:
    """The vertex of the parabola through frames ``i − 1, i, i + 1`` (uneven spacing allowed)."""
    if i == 0 or i == len(s) - 1:
        return float(t[i])
    x0, x1, x2 = t[i - 1] - t[i], 0.0, t[i + 1] - t[i]
    y0, y1, y2 = s[i - 1], s[i], s[i + 1]
    denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denominator
    if a <= 0.0:
        return float(t[i])
    # The vertex of a parabola through a discrete minimum lies within half a frame of it.
    vertex = float(np.clip(-b / (2.0 * a), x0 / 2.0, x2 / 2.0))
    return float(t[i] + vertex)


def _merge(primary: Iterable[float], secondary: Iterable[float]) -> list[float]:
    """Sorted accents with those closer than ``MERGE_MS`` made one; in a cluster, the
    earliest ``primary`` (foot) accent stands for it, else the earliest ``secondary``."""
    tagged = sorted([(a, 0) for a in primary] + [(a, 1) for a in secondary])
    merged: list[float] = []
    cluster: list[tuple[float, int]] = []
    for accent in tagged:
        if cluster and accent[0] - cluster[-1][0] >= MERGE_MS:
            merged.append(min(cluster, key=lambda item: (item[1], item[0]))[0])
            cluster = []
        cluster.append(accent)
    if cluster:
        merged.append(min(cluster, key=lambda item: (item[1], item[0]))[0])
    return merged


# --- offsets to the beat -----------------------------------------------------------------


def nearest_beat_offsets(
    accents_ms: Sequence[float], beats_ms: Sequence[float]
) -> list[float | None]:
    """Each accent minus its nearest beat (ms); None more than half a beat outside the beats."""
    beats = np.sort(np.asarray(beats_ms, dtype=np.float64))
    if len(beats) == 0:
        return []
    period = _beat_period(beats)
    offsets: list[float | None] = []
    for accent in accents_ms:
        if accent < beats[0] - period / 2.0 or accent > beats[-1] + period / 2.0:
            offsets.append(None)
            continue
        nearest = beats[int(np.argmin(np.abs(beats - accent)))]
        offsets.append(float(accent - nearest))
    return offsets


def analyze_timing(
    t_ms: npt.ArrayLike,
    landmarks: npt.ArrayLike,
    beats_ms: Sequence[float],
    counts: Sequence[Mapping[str, Any]],
    *,
    visibility_min: float = 0.5,
    aspect: float = 1.0,
) -> Timing:
    """The dancer's accents and their timing against ``beats_ms`` and the 8-``counts``.

    ``t_ms``, ``landmarks``, ``visibility_min``, ``aspect``: as :func:`movement_accents`.
    ``beats_ms``: the music's beats (empty when there is no music); ``counts``: the music's
    ``[{t_ms, count, phrase}]``. See :class:`Timing` for what comes out without beats.
    """
    accents = movement_accents(t_ms, landmarks, visibility_min=visibility_min, aspect=aspect)
    return timing_from_accents(accents, beats_ms, counts)


def timing_from_accents(
    accents_ms: Sequence[float], beats_ms: Sequence[float], counts: Sequence[Mapping[str, Any]]
) -> Timing:
    """:func:`analyze_timing` from accents already found: a moved "1" or new beats need no
    new accents."""
    accents = tuple(float(a) for a in accents_ms)
    if len(beats_ms) == 0:
        return Timing(accents, (), None, (), has_beats=False)
    offsets = nearest_beat_offsets(accents, beats_ms)
    beats = np.sort(np.asarray(beats_ms, dtype=np.float64))
    half_beat = _beat_period(beats) / 2.0
    measured = [o for o in offsets if o is not None]
    phrases: list[PhraseTiming] = []
    for phrase, start, end in _phrase_spans(counts, 2.0 * half_beat):
        inside = [
            o
            for a, o in zip(accents, offsets, strict=True)
            if o is not None and start - half_beat <= a - o < end - half_beat
        ]
        phrases.append(PhraseTiming(phrase, start, end, *_mean_and_consistency(inside, half_beat)))
    return Timing(accents, tuple(offsets), _mean(measured), tuple(phrases))


def _beat_period(beats: FloatArray) -> float:
    """The median beat interval (ms); a nominal 500 ms (120 BPM) for a single beat."""
    return float(np.median(np.diff(beats))) if len(beats) > 1 else 500.0


def _phrase_spans(
    counts: Sequence[Mapping[str, Any]], period: float
) -> list[tuple[int, float, float]]:
    """``(phrase, start_ms, end_ms)`` per phrase: from its first count to the next phrase's
    first count (the last phrase: one beat after its last count)."""
    firsts: dict[int, float] = {}
    lasts: dict[int, float] = {}
    for count in counts:
        phrase, time = int(count["phrase"]), float(count["t_ms"])
        firsts[phrase] = min(time, firsts.get(phrase, time))
        lasts[phrase] = max(time, lasts.get(phrase, time))
    order = sorted(firsts, key=firsts.__getitem__)
    spans = []
    for k, phrase in enumerate(order):
        end = firsts[order[k + 1]] if k + 1 < len(order) else lasts[phrase] + period
        spans.append((phrase, firsts[phrase], end))
    return spans


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _mean_and_consistency(
    offsets: Sequence[float], half_beat: float
) -> tuple[float | None, float | None]:
    if len(offsets) < 2:
        return _mean(offsets), None
    spread = float(np.std(offsets)) / half_beat
    return _mean(offsets), 1.0 - min(spread, 1.0)


# --- counts in feedback ------------------------------------------------------------------


def nearest_count(counts: Sequence[Mapping[str, Any]], t_ms: float) -> Mapping[str, Any] | None:
    """The count nearest ``t_ms``, None more than half a beat outside the counts."""
    if not counts:
        return None
    times = np.array([float(c["t_ms"]) for c in counts])
    order = np.argsort(times)
    half_beat = _beat_period(times[order]) / 2.0
    i = int(np.argmin(np.abs(times - t_ms)))
    if abs(times[i] - t_ms) > half_beat:
        return None
    return counts[i]


def count_label(counts: Sequence[Mapping[str, Any]], t_ms: float) -> str | None:
    """The label of the count ``t_ms`` falls on, e.g. ``count 5 of phrase 3`` (phrases are
    numbered from 1 for people; the result's ``phrase`` is 0-based), None off the counts."""
    count = nearest_count(counts, t_ms)
    if count is None:
        return None
    return f"count {int(count['count'])} of phrase {int(count['phrase']) + 1}"


def with_counts(
    feedback_items: Iterable[Mapping[str, Any]], counts: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Copies of feedback item dicts with ``count``: the count their ``time_ms`` falls on,
    ``{count, phrase, label}`` (``phrase`` 0-based as in the result), or None."""
    items = []
    for item in feedback_items:
        count = nearest_count(counts, float(item["time_ms"]))
        items.append(
            {
                **item,
                "count": None
                if count is None
                else {
                    "count": int(count["count"]),
                    "phrase": int(count["phrase"]),
                    "label": count_label(counts, float(item["time_ms"])),
                },
            }
        )
    return items


def timing_feedback(
    timing: Timing,
    counts: Sequence[Mapping[str, Any]],
    beats_per_bar: int = 4,
    *,
    on_beat_ms: float = ON_BEAT_MS,
    fps: float | None = None,
) -> list[dict[str, Any]]:
    """Feedback item dicts (the shape of ``feedback.FeedbackItem.to_dict``) on timing.

    One per bar-long half of each phrase that has accents (counts 1–4 and 5–8 in 4/4,
    1–3 and 4–6 in 3/4): "Counts 5–8 of phrase 3: your steps land about 120 ms after the
    beat." or "…: on the beat." (mean within ``on_beat_ms``), then one summary over the
    clip. Nothing without offsets (no music); phrases are numbered from 1 in messages.
    ``fps``: the clip's frame rate; below :data:`FINE_TIMING_FPS` a note says how coarse
    the timing is, so "130 ms late" from a 5 fps clip is not taken at its word.
    """
    if not timing.has_beats:
        return []
    measured = [
        (a, o) for a, o in zip(timing.accents_ms, timing.offsets_ms, strict=True) if o is not None
    ]
    if not measured:
        return [
            _item(
                timing.accents_ms[0] if timing.accents_ms else _first_count_ms(counts),
                timing.accents_ms[-1] if timing.accents_ms else None,
                "No steps or hits found while the music plays: timing not measured.",
                "info",
            )
        ]
    bar = max(int(beats_per_bar), 1)
    groups: dict[tuple[int, int], list[float]] = {}
    spans: dict[tuple[int, int], list[float]] = {}
    for count in counts:
        key = (int(count["phrase"]), (int(count["count"]) - 1) // bar)
        spans.setdefault(key, []).append(float(count["t_ms"]))
    for accent, offset in measured:
        beat_count = nearest_count(counts, accent - offset)
        if beat_count is not None:
            key = (int(beat_count["phrase"]), (int(beat_count["count"]) - 1) // bar)
            groups.setdefault(key, []).append(offset)

    items = []
    for (phrase, half), offsets in sorted(groups.items()):
        first, last = half * bar + 1, (half + 1) * bar
        where = f"Counts {first}–{last} of phrase {phrase + 1}"
        mean = float(np.mean(offsets))
        times = spans[(phrase, half)]
        if abs(mean) <= on_beat_ms:
            items.append(_item(min(times), max(times), f"{where}: on the beat.", "info"))
        else:
            side = "after" if mean > 0 else "before"
            items.append(
                _item(
                    min(times),
                    max(times),
                    f"{where}: your steps land about {_rounded(mean)} ms {side} the beat.",
                    "warning",
                )
            )
    mean = float(np.mean([o for _, o in measured]))
    if abs(mean) <= on_beat_ms:
        summary = "Overall you are on the beat."
    else:
        side = "behind" if mean > 0 else "ahead of"
        summary = f"Overall you are {side} the beat by about {_rounded(mean)} ms."
    items.append(_item(measured[0][0], measured[-1][0], summary, "info"))
    if fps is not None and 0.0 < fps < FINE_TIMING_FPS:
        note = (
            f"This clip has {fps:.0f} frames a second, so steps are timed only to about "
            f"±{_rounded(500.0 / fps)} ms: film at 30 or 60 frames a second for finer timing."
        )
        items.append(_item(measured[0][0], None, note, "info"))
    return items


def _first_count_ms(counts: Sequence[Mapping[str, Any]]) -> float:
    return min((float(c["t_ms"]) for c in counts), default=0.0)


def _rounded(offset_ms: float) -> int:
    return int(round(abs(offset_ms) / MESSAGE_ROUND_MS) * MESSAGE_ROUND_MS)


def _item(time_ms: float, end_ms: float | None, message: str, severity: str) -> dict[str, Any]:
    return {
        "time_ms": float(time_ms),
        "end_ms": None if end_ms is None else float(end_ms),
        "joints": [],
        "message": message,
        "severity": severity,
        "topic": "timing",
    }
