"""Which moment of the teacher's clip each moment of the student's shows: the time map.

Two ways, the first that applies wins:

1. **Counts to counts** (both clips have music counts): the student's counts are paired
   with the teacher's, a bar's first beat always on a bar's first beat. Among the
   offsets (in beats) that do that, the one whose poses match best wins; the student
   may start recording earlier or later. Which bar of an 8-count is its "1" follows
   where each recording starts (the first downbeat heard), so two recordings of one
   song may number their phrases a bar apart: the poses decide, and the numbers only
   break a near-tie. The tempo ratio is the ratio of the two beat periods (0.8–1.25).
2. **DTW** over the pose features at 10 Hz: first the best straight line (offset and
   tempo ratio, searched over a grid), then dynamic time warping in a band around it,
   so that a student who drifts ahead and back is followed.

Pose distances here are mirror-blind (the smaller of the direct and the mirror-image
distance), so that a mirrored student is aligned as well as a direct one; the scores
decide about the mirror later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dance_analysis.compare.features import BONE_WEIGHTS, BodyFeatures, resample
from dance_analysis.compare.mirror import mirror_confidence, mirror_directions
from dance_analysis.compare.model import Performance

FloatArray = npt.NDArray[np.float64]

GRID_MS = 100.0  # DTW and the searches run at 10 Hz: dance poses change slower than that
TEMPO_MIN, TEMPO_MAX = 0.8, 1.25  # the student's tempo over the teacher's
TEMPO_SLACK = 0.02  # beat periods measured a hair outside still count
LINE_RATIOS = 25  # tempo ratios tried by the straight-line search, log-spaced
BAND_MS = 1500.0  # DTW follows a student up to this far off the straight line …
BAND_SHARE = 0.05  # … plus this share of the overlap's length
MIN_OVERLAP_S = 2.0  # an alignment must pair at least this much of the two clips …
MIN_OVERLAP_SHARE = 0.5  # … and at least this share of the shorter one
PARTIAL_PENALTY = 0.05  # cost + this × unpaired share: a tie goes to the fuller overlap
ROBUST_D = 2.0 - 2.0 * np.cos(np.radians(30.0))  # a bone 30° off costs half of the most
STALL_COST = 0.05  # added to each step off the diagonal: hold the tempo unless poses say
SMOOTH_SAMPLES = 11  # the DTW map is a running mean over 1.1 s: no staircase, no stalls
PHRASE_PHASE_COST = 0.01  # a "1" paired with a "5" (a bar apart): wins only on the poses


@dataclass(frozen=True)
class Alignment:
    """A monotonic time map from the student's clip to the teacher's.

    ``map_ms`` (k, 2): ``[student_ms, teacher_ms]`` pairs, both increasing; between
    them the map is linear, beyond them it continues at ``tempo_ratio``.
    ``time_offset_ms``: the student's time at which the teacher's time 0 falls.
    """

    method: str
    map_ms: FloatArray
    tempo_ratio: float
    time_offset_ms: float

    def teacher_ms(self, student_ms: npt.ArrayLike) -> FloatArray:
        """The teacher's time for each of the student's times (any shape)."""
        s = np.asarray(student_ms, dtype=np.float64)
        xs, ys = self.map_ms[:, 0], self.map_ms[:, 1]
        inside = np.interp(s, xs, ys)
        before = ys[0] + (s - xs[0]) * self.tempo_ratio
        after = ys[-1] + (s - xs[-1]) * self.tempo_ratio
        out: FloatArray = np.where(s < xs[0], before, np.where(s > xs[-1], after, inside))
        return out

    def student_ms(self, teacher_ms: npt.ArrayLike) -> FloatArray:
        """The inverse map: the student's time for each of the teacher's times."""
        t = np.asarray(teacher_ms, dtype=np.float64)
        xs, ys = self.map_ms[:, 0], self.map_ms[:, 1]
        inside = np.interp(t, ys, xs)
        before = xs[0] + (t - ys[0]) / self.tempo_ratio
        after = xs[-1] + (t - ys[-1]) / self.tempo_ratio
        out: FloatArray = np.where(t < ys[0], before, np.where(t > ys[-1], after, inside))
        return out

    def linear_teacher_ms(self, student_ms: npt.ArrayLike) -> FloatArray:
        """The straight line through the map: what "in time" means without music."""
        s = np.asarray(student_ms, dtype=np.float64)
        line: FloatArray = self.tempo_ratio * (s - self.time_offset_ms)
        return line


def pose_cost(
    a_dir: FloatArray, a_conf: FloatArray, b_dir: FloatArray, b_conf: FloatArray
) -> FloatArray:
    """(na, nb): how unlike two poses are, 0–1, over the bones both see.

    Per bone the squared distance of the unit vectors, ``d = 2 - 2 cos(angle)``, is
    made robust, ``d / (d + ROBUST_D)``: one part far off (a raised arm) then cannot
    outvote the rest of the body, and the map follows the body's timing, not the
    moments where that part happens to look right. The weighted mean over the shared
    bones; NaN where the two share none (a frame without the dancer says nothing).
    One small matrix product per bone, no loop over frames.
    """
    a_seen = (a_conf > 0).astype(np.float64)
    b_seen = (b_conf > 0).astype(np.float64)
    a_unit, b_unit = np.nan_to_num(a_dir), np.nan_to_num(b_dir)
    total = np.zeros((len(a_dir), len(b_dir)))
    shared = np.zeros_like(total)
    for bone, weight in enumerate(BONE_WEIGHTS):
        both = weight * np.outer(a_seen[:, bone], b_seen[:, bone])
        d = np.clip(2.0 - 2.0 * (a_unit[:, bone] @ b_unit[:, bone].T), 0.0, 4.0)
        total += both * (d / (d + ROBUST_D))
        shared += both
    with np.errstate(invalid="ignore", divide="ignore"):
        cost: FloatArray = np.where(shared > 1.0, total / shared, np.nan)
    return cost


def mirror_blind_cost(
    a_dir: FloatArray, a_conf: FloatArray, b_dir: FloatArray, b_conf: FloatArray
) -> FloatArray:
    """:func:`pose_cost` against ``b`` or its mirror image, whichever is closer."""
    direct = pose_cost(a_dir, a_conf, b_dir, b_conf)
    mirrored = pose_cost(a_dir, a_conf, mirror_directions(b_dir), mirror_confidence(b_conf))
    out: FloatArray = np.fmin(direct, mirrored)
    return out


@dataclass(frozen=True)
class _Grid:
    """Both clips at 10 Hz, and the cost of pairing any two samples (NaN: no data)."""

    student_ms: FloatArray
    teacher_ms: FloatArray
    cost: FloatArray  # (ns, nt)

    @property
    def student_seen(self) -> npt.NDArray[np.bool_]:
        """(ns,) whether the student's sample can be compared with anything."""
        seen: npt.NDArray[np.bool_] = ~np.isnan(self.cost).all(axis=1)
        return seen


def _grid(student: BodyFeatures, teacher: BodyFeatures) -> _Grid:
    s_ms = np.arange(student.t_ms[0], student.t_ms[-1] + 1e-6, GRID_MS)
    t_ms = np.arange(teacher.t_ms[0], teacher.t_ms[-1] + 1e-6, GRID_MS)
    s_dir, s_conf = resample(student, s_ms)
    t_dir, t_conf = resample(teacher, t_ms)
    return _Grid(s_ms, t_ms, mirror_blind_cost(s_dir, s_conf, t_dir, t_conf))


def _min_overlap(ns: int, nt: int) -> float:
    return max(MIN_OVERLAP_S * 1000.0 / GRID_MS, MIN_OVERLAP_SHARE * min(ns, nt))


def _line_search(grid: _Grid) -> tuple[float, float]:
    """The straight line ``j = ratio * i + c`` (grid samples) with the lowest mean cost,
    searched over ``LINE_RATIOS`` tempo ratios and every whole-sample offset."""
    ns, nt = grid.cost.shape
    rows = np.arange(ns)
    # Overlaps are counted in samples where both dancers were seen.
    seen_s = int(grid.student_seen.sum())
    seen_t = int((~np.isnan(grid.cost).all(axis=0)).sum())
    least = min(_min_overlap(seen_s, seen_t), 0.9 * min(seen_s, seen_t))
    best = (np.inf, 1.0, 0.0)
    for ratio in np.geomspace(TEMPO_MIN, TEMPO_MAX, LINE_RATIOS):
        offsets = np.arange(-np.ceil(ratio * ns), nt + 1, dtype=np.float64)
        cols = np.rint(ratio * rows[None, :] + offsets[:, None]).astype(np.int64)
        inside = (cols >= 0) & (cols < nt)
        values = np.where(inside, grid.cost[rows[None, :], np.clip(cols, 0, nt - 1)], np.nan)
        valid = ~np.isnan(values)
        values = np.where(valid, values, 0.0)
        paired = valid.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = values.sum(axis=1) / paired
        unpaired = 1.0 - paired / min(seen_s, seen_t / ratio)
        score = np.where(paired >= least, mean + PARTIAL_PENALTY * unpaired, np.inf)
        k = int(np.argmin(score))
        if score[k] < best[0]:
            best = (float(score[k]), float(ratio), float(offsets[k]))
    return best[1], best[2]


def _dtw_band(cost: FloatArray, centre: FloatArray, half_width: int) -> list[tuple[int, int]]:
    """The cheapest monotonic path through ``cost`` (rows × cols) that stays within
    ``half_width`` columns of ``centre`` (one column per row), from any column of the
    first row to any of the last; steps right, down and diagonal (diagonal counted
    twice, so that a path is not cheaper for cutting corners; a step off the diagonal
    pays ``STALL_COST`` besides, so that the tempo is held unless the poses say so).

    Each row is vectorised: the moves within a row are a running minimum over a
    cumulative sum, ``D[j] = S[j] + min_{l<=j}(a[l] - S[l])``.
    """
    rows, cols = cost.shape
    lo = np.clip(np.floor(centre - half_width), 0, cols - 1).astype(np.int64)
    hi = np.clip(np.ceil(centre + half_width), 0, cols - 1).astype(np.int64)
    total = np.full((rows, cols), np.inf)
    for i in range(rows):
        c = cost[i, lo[i] : hi[i] + 1]
        if i == 0:
            arrive = c + STALL_COST
        else:
            prev = total[i - 1]
            band = np.arange(lo[i], hi[i] + 1)
            diagonal = np.where(band > 0, prev[np.maximum(band - 1, 0)], np.inf) + 2.0 * c
            arrive = np.minimum(diagonal, prev[band] + c + STALL_COST)
        running = np.cumsum(c + STALL_COST)
        total[i, lo[i] : hi[i] + 1] = running + np.minimum.accumulate(arrive - running)
    # Walk back from the cheapest end in the last row.
    i = rows - 1
    j = int(lo[i] + np.argmin(total[i, lo[i] : hi[i] + 1]))
    path = [(i, j)]
    while True:
        here, cell = float(total[i, j]), float(cost[i, j])
        if i == 0 and (j == 0 or np.isclose(here, cell + STALL_COST)):
            break
        options = [
            (total[i - 1, j - 1] + 2 * cell if i > 0 and j > 0 else np.inf, i - 1, j - 1),
            (total[i - 1, j] + cell + STALL_COST if i > 0 else np.inf, i - 1, j),
            (total[i, j - 1] + cell + STALL_COST if j > 0 else np.inf, i, j - 1),
        ]
        _, i, j = min(options, key=lambda option: option[0])
        path.append((i, j))
    return path[::-1]


def _fit_line(pairs: FloatArray) -> tuple[float, float]:
    """Least-squares ``teacher = ratio * (student - offset)``: (ratio, offset)."""
    s, t = pairs[:, 0], pairs[:, 1]
    if len(pairs) < 2 or np.ptp(s) == 0:
        return 1.0, float(np.mean(s - t)) if len(pairs) else 0.0
    ratio, intercept = np.polyfit(s, t, 1)
    return float(ratio), float(-intercept / ratio)


def _path_map(grid: _Grid, path: list[tuple[int, int]]) -> FloatArray:
    """Path cells to ``[student_ms, teacher_ms]`` pairs: one per student sample (the mean
    of its teacher samples), a running mean over ``SMOOTH_SAMPLES``, strictly increasing
    in both."""
    cells = np.array(path)
    rows, start = np.unique(cells[:, 0], return_index=True)
    sums = np.add.reduceat(grid.teacher_ms[cells[:, 1]], start)
    teacher = sums / np.diff(np.append(start, len(cells)))
    if len(teacher) >= SMOOTH_SAMPLES:
        pad = SMOOTH_SAMPLES // 2
        padded = np.pad(teacher, pad, mode="reflect", reflect_type="odd")
        teacher = np.convolve(padded, np.ones(SMOOTH_SAMPLES) / SMOOTH_SAMPLES, mode="valid")
    teacher = np.maximum.accumulate(teacher)
    teacher = teacher + np.arange(len(teacher)) * 1e-3  # strictly increasing, for inverting
    return np.column_stack([grid.student_ms[rows], teacher])


def align_dtw(student: BodyFeatures, teacher: BodyFeatures) -> Alignment:
    """Straight-line search, then banded DTW, over the pose features at 10 Hz."""
    grid = _grid(student, teacher)
    ns, nt = grid.cost.shape
    ratio, offset = _line_search(grid)
    rows = np.arange(ns)
    centre = ratio * rows + offset
    inside = np.flatnonzero((centre >= -0.5) & (centre <= nt - 0.5))
    first, last = int(inside[0]), int(inside[-1])
    half_width = int(np.ceil(BAND_MS / GRID_MS + BAND_SHARE * (last - first + 1)))
    # Where either clip has no dancer the path is free to go anywhere: the stall cost
    # alone steers it, so it holds the tempo across the gap.
    known = np.nan_to_num(grid.cost[first : last + 1], nan=0.0)
    path = _dtw_band(known, centre[first : last + 1], half_width)
    pairs = _path_map(grid, [(i + first, j) for i, j in path])
    # The line is fitted where the student was seen; the ends of a DTW path hug the
    # band's corners, so 5 % at each end are left out too.
    seen = pairs[np.isin(pairs[:, 0], grid.student_ms[grid.student_seen])]
    trim = len(seen) // 20
    fit_ratio, fit_offset = _fit_line(seen[trim : len(seen) - trim] if trim else seen)
    # The line the search found, in ms: teacher = ratio * (student - offset).
    line_offset = grid.student_ms[0] - (grid.teacher_ms[0] + offset * GRID_MS) / ratio
    plausible = TEMPO_MIN - TEMPO_SLACK <= fit_ratio <= TEMPO_MAX + TEMPO_SLACK and (
        abs(fit_offset - line_offset) <= BAND_MS
    )
    if not plausible:  # a path that wanders (poses that never match) fits no line
        fit_ratio, fit_offset = ratio, line_offset
    return Alignment("dtw", pairs, fit_ratio, fit_offset)


def beat_period(beats_ms: FloatArray) -> float:
    """The clip's beat period (ms): the slope of the beat times against their index, a
    least-squares line, so that a tempo that wavers averages out over the clip."""
    slope = np.polyfit(np.arange(len(beats_ms), dtype=np.float64), beats_ms, 1)[0]
    return float(slope)


def align_counts(
    student: Performance,
    teacher: Performance,
    student_features: BodyFeatures,
    teacher_features: BodyFeatures,
) -> Alignment | None:
    """Counts matched to counts, or None when the tempi are too far apart (outside
    0.8–1.25, e.g. a double-time reading) or no "1"-on-"1" offset pairs enough."""
    ratio = beat_period(teacher.beats_ms) / beat_period(student.beats_ms)
    if not TEMPO_MIN - TEMPO_SLACK <= ratio <= TEMPO_MAX + TEMPO_SLACK:
        return None
    length = phrase_length(student)
    if length != phrase_length(teacher):
        return None  # 8-counts against 6-counts: not the same metre
    bar = max(length // 2, 1)  # a phrase is two bars
    grid = _grid(student_features, teacher_features)
    ns, nt = len(student.count_ms), len(teacher.count_ms)
    least = max(4, min(ns, nt) // 2)  # at least half a phrase, and half the shorter clip
    best: tuple[float, FloatArray] | None = None
    for shift in range(-(ns - 1), nt):  # student count i pairs with teacher count i + shift
        first, stop = max(0, -shift), min(ns, nt - shift)
        if stop - first < least:
            continue
        numbers_s = student.count_number[first:stop]
        numbers_t = teacher.count_number[first + shift : stop + shift]
        in_bar_s, in_bar_t = (numbers_s - 1) % bar, (numbers_t - 1) % bar
        if in_bar_s[0] != in_bar_t[0] or np.mean(in_bar_s == in_bar_t) < 0.8:
            continue
        pairs = np.column_stack(
            [student.count_ms[first:stop], teacher.count_ms[first + shift : stop + shift]]
        )
        cost = _map_cost(grid, pairs, ratio)
        if numbers_s[0] != numbers_t[0]:
            cost += PHRASE_PHASE_COST
        if best is None or cost < best[0]:
            best = (cost, pairs)
    if best is None:
        return None
    pairs = best[1]
    offset = float(np.mean(pairs[:, 0] - pairs[:, 1] / ratio))
    return Alignment("counts", pairs, float(ratio), offset)


def phrase_length(performance: Performance) -> int:
    """Counts in one phrase: 8 (6 in a metre of three)."""
    return int(performance.count_number.max()) if len(performance.count_number) else 0


def _map_cost(grid: _Grid, pairs: FloatArray, ratio: float) -> float:
    """The mean pose cost along a piecewise-linear map, with the partial-overlap penalty."""
    alignment = Alignment("counts", pairs, ratio, 0.0)
    t = alignment.teacher_ms(grid.student_ms)
    cols = np.rint((t - grid.teacher_ms[0]) / GRID_MS).astype(np.int64)
    ns, nt = grid.cost.shape
    inside = (cols >= 0) & (cols < nt)
    values = np.full(ns, np.nan)
    values[inside] = grid.cost[np.flatnonzero(inside), cols[inside]]
    valid = ~np.isnan(values)
    if valid.sum() < min(_min_overlap(ns, nt), 0.9 * min(ns, nt)):
        return float("inf")
    mean = float(values[valid].mean())
    unpaired = 1.0 - valid.sum() / min(ns, nt / ratio)
    return mean + PARTIAL_PENALTY * unpaired


def find_alignment(
    student: Performance,
    teacher: Performance,
    student_features: BodyFeatures,
    teacher_features: BodyFeatures,
) -> Alignment:
    """Counts to counts when both clips have them (and they agree on a tempo), else DTW."""
    if student.has_counts and teacher.has_counts:
        by_counts = align_counts(student, teacher, student_features, teacher_features)
        if by_counts is not None:
            return by_counts
    return align_dtw(student_features, teacher_features)
