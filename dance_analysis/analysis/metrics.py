"""Whole-clip movement metrics: speed and energy, smoothness, left/right symmetry, balance.

``movement``, ``smoothness``, ``symmetry`` and ``balance`` return JSON-ready dicts (floats
or None, never NaN) with the unit in the key; ``joint_speeds`` and ``body_speed`` give
the per-frame series behind them.

Speeds come from world landmarks (metres) differentiated over the real timestamps.
MediaPipe's world landmarks are centred on the hips, so speeds are those of the limbs
about the body: travelling across the floor adds nothing, and the hips themselves (the
origin) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.jsonable import finite_or_none
from dance_analysis.analysis.runs import true_runs
from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

# The joints whose movement makes up "the body": the hips are the world origin.
MAIN_JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# The limb ends that show speed and smoothness best.
LIMB_ENDS = ("left_wrist", "right_wrist", "left_ankle", "right_ankle")
# Left/right angle pairs compared for symmetry, by the part's name.
SYMMETRY_PARTS = ("shoulder", "elbow", "hip", "knee", "ankle")
# A mean left/right difference this large (or larger) scores 0; no difference scores 100.
SYMMETRY_ZERO_SCORE_DEG = 45.0
# SPARC: window length, highest frequency considered, and the spectrum amplitude (relative
# to its peak) below which higher frequencies are treated as noise (Balasubramanian 2015).
SMOOTHNESS_WINDOW_S = 2.0
SPARC_MAX_HZ = 10.0
SPARC_AMPLITUDE_THRESHOLD = 0.05
# A window whose mean speed is below this is a joint at rest: its spectrum is noise.
SMOOTHNESS_MIN_SPEED_M_PER_S = 0.05

_MAIN = [BLAZEPOSE_33.index(j) for j in MAIN_JOINTS]
_HIPS = [BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")]
_SHOULDERS = [BLAZEPOSE_33.index("left_shoulder"), BLAZEPOSE_33.index("right_shoulder")]
_ANKLES = [BLAZEPOSE_33.index("left_ankle"), BLAZEPOSE_33.index("right_ankle")]
_FEET = [
    BLAZEPOSE_33.index(f"{side}_{part}")
    for side in ("left", "right")
    for part in ("ankle", "heel", "foot_index")
]


def joint_speeds(t_ms: npt.ArrayLike, points: npt.ArrayLike) -> FloatArray:
    """Speed of every landmark, ``(N, 33)``, in units per second (m/s for world landmarks).

    Central differences over the real timestamps (``np.gradient`` with the times as
    coordinates), so a variable frame rate gives true speeds. A frame next to a missing
    one has no speed.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    xyz = np.asarray(points, dtype=np.float64)[..., :3]
    if len(t) < 2:
        return np.full(xyz.shape[:2], np.nan)
    velocity = np.gradient(xyz, t / 1000.0, axis=0)
    speeds: FloatArray = np.linalg.norm(velocity, axis=-1)
    return speeds


def body_speed(t_ms: npt.ArrayLike, world: npt.ArrayLike) -> FloatArray:
    """Mean speed of the :data:`MAIN_JOINTS` per frame, ``(N,)`` m/s; NaN where fewer than
    half of them have a speed."""
    speeds = joint_speeds(t_ms, world)[:, _MAIN]
    return _row_means(speeds, min_count=len(_MAIN) // 2)


def movement(t_ms: npt.ArrayLike, world: npt.ArrayLike) -> dict[str, Any]:
    """Speed and energy from world landmarks.

    ``body_speed_mean_m_per_s`` / ``body_speed_peak_m_per_s``: of :func:`body_speed`.
    ``energy_m2_per_s2``: mean squared speed of the main joints over the clip, a kinetic
    energy per unit mass (up to a factor 1/2). ``joints``: for each wrist and ankle,
    ``mean_m_per_s``, ``peak_m_per_s`` and ``peak_time_ms``.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    speeds = joint_speeds(t, world)
    body = body_speed(t, world)
    joints: dict[str, dict[str, float | None]] = {}
    for name in LIMB_ENDS:
        series = speeds[:, BLAZEPOSE_33.index(name)]
        present = np.flatnonzero(np.isfinite(series))
        peak = present[np.argmax(series[present])] if len(present) else None
        joints[name] = {
            "mean_m_per_s": _mean_or_none(series),
            "peak_m_per_s": None if peak is None else finite_or_none(series[peak]),
            "peak_time_ms": None if peak is None else finite_or_none(t[peak]),
        }
    return {
        "body_speed_mean_m_per_s": _mean_or_none(body),
        "body_speed_peak_m_per_s": _max_or_none(body),
        "energy_m2_per_s2": _mean_or_none(speeds[:, _MAIN] ** 2),
        "joints": joints,
    }


def sparc(speed: npt.ArrayLike, fs: float) -> float:
    """Spectral arc length (SPARC) of a uniformly sampled speed profile; dimensionless.

    The length of the curve traced by the normalised magnitude spectrum up to the
    frequency where it last exceeds 5 % of its peak (at most 10 Hz). Always negative;
    higher (closer to 0) is smoother: a single minimum-jerk reach scores about -1.4, a
    profile with many sub-movements or tremor far less. NaN for a profile with no movement.
    """
    profile = np.asarray(speed, dtype=np.float64)
    nfft = 2 ** (int(np.ceil(np.log2(max(len(profile), 2)))) + 4)  # zero-padded x16
    spectrum = np.abs(np.fft.rfft(profile, nfft))
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs)
    peak = spectrum.max(initial=0.0)
    if not peak > 0:
        return float("nan")
    keep = freqs <= min(SPARC_MAX_HZ, fs / 2)
    freqs, magnitude = freqs[keep], spectrum[keep] / peak
    above = np.flatnonzero(magnitude >= SPARC_AMPLITUDE_THRESHOLD)
    freqs, magnitude = freqs[above[0] : above[-1] + 1], magnitude[above[0] : above[-1] + 1]
    if len(freqs) < 2:
        return 0.0
    steps = np.hypot(np.diff(freqs) / (freqs[-1] - freqs[0]), np.diff(magnitude))
    return -float(steps.sum())


def smoothness(t_ms: npt.ArrayLike, world: npt.ArrayLike) -> dict[str, Any]:
    """Smoothness of the wrists' and ankles' speed profiles, as SPARC (see :func:`sparc`).

    SPARC was made for single movements; a dance is a long chain of them, so each
    contiguous stretch of speeds is resampled to the clip's median frame rate and cut
    into :data:`SMOOTHNESS_WINDOW_S` windows, and the SPARC values of the windows in which
    the joint moves are averaged. This keeps the score comparable between clips of
    different lengths. Higher (closer to 0) is smoother. None where no window qualifies.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    speeds = joint_speeds(t, world)
    if len(t) < 2:
        scores: dict[str, float | None] = dict.fromkeys(LIMB_ENDS)
    else:
        step_ms = float(np.median(np.diff(t)))
        scores = {
            name: _windowed_sparc(t, speeds[:, BLAZEPOSE_33.index(name)], step_ms)
            for name in LIMB_ENDS
        }
    found = [s for s in scores.values() if s is not None]
    return {
        "measure": "sparc",
        "window_s": SMOOTHNESS_WINDOW_S,
        "joints": scores,
        "overall": float(np.mean(found)) if found else None,
    }


def symmetry(angles: Mapping[str, npt.ArrayLike]) -> dict[str, Any]:
    """Left/right agreement of each paired joint angle, frame by frame.

    For each part: ``mean_abs_diff_deg`` over the frames where both sides have a value,
    and ``score`` from 100 (identical) falling linearly to 0 at
    :data:`SYMMETRY_ZERO_SCORE_DEG`. ``overall_score`` is the mean of the parts' scores.
    Choreography is often asymmetric on purpose: this describes, it does not judge.
    """
    parts: dict[str, dict[str, float | None]] = {}
    for part in SYMMETRY_PARTS:
        left = angles.get(f"left_{part}")
        right = angles.get(f"right_{part}")
        difference = (
            np.array([])
            if left is None or right is None
            else np.abs(np.asarray(left, dtype=np.float64) - np.asarray(right, dtype=np.float64))
        )
        difference = difference[np.isfinite(difference)]
        if len(difference) == 0:
            parts[part] = {"mean_abs_diff_deg": None, "score": None}
            continue
        mean_difference = float(difference.mean())
        parts[part] = {
            "mean_abs_diff_deg": mean_difference,
            "score": 100.0 * max(0.0, 1.0 - mean_difference / SYMMETRY_ZERO_SCORE_DEG),
        }
    scores = [p["score"] for p in parts.values() if p["score"] is not None]
    return {"parts": parts, "overall_score": float(np.mean(scores)) if scores else None}


def balance(points_px: npt.ArrayLike) -> dict[str, Any]:
    """Balance from 2D landmarks in square pixels ``(N, 33, 2+)``, for a roughly frontal view.

    The hip midpoint stands in for the centre of mass; the base of support spans the
    feet's ankle, heel and toe points horizontally (both ankles required).
    ``com_in_base_mean``: the centre of mass's mean position across the base, 0 over
    its image-left edge, 1 over its image-right edge, 0.5 centred (outside 0–1: beyond
    the feet). ``within_base_fraction``: fraction of frames with the centre of mass over
    the base. ``sway_shoulder_widths``: standard deviation of its horizontal offset from
    the middle of the base, in median shoulder widths; measured against the feet rather
    than the floor, so travelling is not sway. ``coverage``: fraction of frames measured.
    """
    x = np.asarray(points_px, dtype=np.float64)[..., 0]
    n = len(x)
    com = x[:, _HIPS].mean(axis=1)
    # fmin/fmax skip a missing heel or toe silently (no all-NaN warnings).
    left_edge, right_edge = np.fmin.reduce(x[:, _FEET], axis=1), np.fmax.reduce(x[:, _FEET], axis=1)
    measured = np.isfinite(com) & np.isfinite(x[:, _ANKLES]).all(axis=1)
    shoulder_width = np.abs(x[:, _SHOULDERS[0]] - x[:, _SHOULDERS[1]])
    shoulder_width = shoulder_width[measured & np.isfinite(shoulder_width)]
    result: dict[str, Any] = {
        "com_in_base_mean": None,
        "within_base_fraction": None,
        "sway_shoulder_widths": None,
        "coverage": float(measured.mean()) if n else 0.0,
    }
    if not measured.any():
        return result
    com, left_edge, right_edge = com[measured], left_edge[measured], right_edge[measured]
    span = right_edge - left_edge
    wide = span > 0
    if wide.any():
        position = (com[wide] - left_edge[wide]) / span[wide]
        result["com_in_base_mean"] = finite_or_none(position.mean())
    result["within_base_fraction"] = float(((com >= left_edge) & (com <= right_edge)).mean())
    width = float(np.median(shoulder_width)) if len(shoulder_width) else 0.0
    if width > 0:
        offset = com - 0.5 * (left_edge + right_edge)
        result["sway_shoulder_widths"] = finite_or_none(offset.std() / width)
    return result


def _windowed_sparc(t: FloatArray, speed: FloatArray, step_ms: float) -> float | None:
    fs = 1000.0 / step_ms
    window = round(SMOOTHNESS_WINDOW_S * fs)
    scores = []
    for start, stop in zip(*true_runs(np.isfinite(speed)), strict=True):
        times = t[start:stop]
        grid = np.arange(times[0], times[-1] + 0.5 * step_ms, step_ms)
        uniform = np.interp(grid, times, speed[start:stop])
        for w0 in range(0, len(uniform) - window + 1, window):
            profile = uniform[w0 : w0 + window]
            if profile.mean() >= SMOOTHNESS_MIN_SPEED_M_PER_S:
                scores.append(sparc(profile, fs))
    found = [s for s in scores if np.isfinite(s)]
    return float(np.mean(found)) if found else None


def _row_means(values: FloatArray, min_count: int) -> FloatArray:
    """Mean of each row's finite values; NaN (silently) where a row has fewer than ``min_count``."""
    present = np.isfinite(values)
    count = present.sum(axis=1)
    total = np.where(present, values, 0.0).sum(axis=1)
    means: FloatArray = np.where(count >= max(min_count, 1), total / np.maximum(count, 1), np.nan)
    return means


def _mean_or_none(values: FloatArray) -> float | None:
    present = values[np.isfinite(values)]
    return float(present.mean()) if len(present) else None


def _max_or_none(values: FloatArray) -> float | None:
    present = values[np.isfinite(values)]
    return float(present.max()) if len(present) else None
