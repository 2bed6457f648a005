"""Cleaning landmark series over time: gap filling, outlier rejection, zero-lag low-pass.

Every function takes values shaped ``(N, ...)`` with frames on the first axis and works on
each channel (one coordinate of one landmark) independently. NaN means "no value": it is
never smeared into neighbouring frames, and finite input never comes out as NaN. Time is
always the real presentation time ``t_ms`` (clips may have a variable frame rate), never
``index / fps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy.interpolate import CubicSpline
from scipy.signal import butter, sosfiltfilt

from dance_analysis.analysis.runs import true_runs

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# A frame interval more than this far from the median counts as a variable frame rate.
JITTER_TOLERANCE = 0.10
# Scales a median absolute deviation to a standard deviation for normally distributed noise.
MAD_TO_SIGMA = 1.4826
# Bounds the memory of the rolling-median windows (frames x channels x window).
_HAMPEL_CHUNK_ELEMENTS = 2_000_000


@dataclass(frozen=True, eq=False)
class CleanLandmarks:
    """Landmarks after cleaning, with a record of what was done to each point.

    ``values``: ``(N, 33, 4)`` ``[x, y, z, visibility]`` in the input's units; x, y, z are
    NaN where there is no trustworthy value. ``filled``, ``outliers``, ``low_visibility``:
    ``(N, 33)`` bool: interpolated across a short gap, with a coordinate rejected as a
    spike (and repaired when the gap is short), and below the visibility threshold (so
    left NaN: no metric is computed from such a point).
    """

    values: FloatArray
    filled: BoolArray
    outliers: BoolArray
    low_visibility: BoolArray


def fill_gaps(
    values: npt.ArrayLike, max_gap: int, *, t_ms: npt.ArrayLike | None = None
) -> tuple[FloatArray, BoolArray]:
    """Linearly interpolate interior runs of at most ``max_gap`` NaN frames, per channel.

    Interpolation is in time when ``t_ms`` is given (right for a variable frame rate), else
    in frame index. Longer gaps and leading or trailing NaNs stay NaN. Returns the filled
    array and a mask, shaped like ``values``, of the entries that were filled.
    """
    array = np.asarray(values, dtype=np.float64)
    flat = _frames_by_channels(array)
    n = len(flat)
    finite = np.isfinite(flat)
    frame = np.arange(n)[:, None]
    # For every entry, the nearest finite frame at or before it and at or after it.
    before = np.maximum.accumulate(np.where(finite, frame, -1), axis=0)
    after = np.minimum.accumulate(np.where(finite, frame, n)[::-1], axis=0)[::-1]
    fill = ~finite & (before >= 0) & (after < n) & (after - before - 1 <= max_gap)

    t = np.arange(n, dtype=np.float64) if t_ms is None else np.asarray(t_ms, dtype=np.float64)
    rows, cols = np.nonzero(fill)
    lo, hi = before[rows, cols], after[rows, cols]
    weight = (t[rows] - t[lo]) / (t[hi] - t[lo])
    filled = flat.copy()
    filled[rows, cols] = flat[lo, cols] + weight * (flat[hi, cols] - flat[lo, cols])
    return filled.reshape(array.shape), fill.reshape(array.shape)


def reject_outliers(
    values: npt.ArrayLike,
    *,
    half_window: int = 3,
    n_sigmas: float = 3.0,
    min_deviation: float = 0.02,
) -> tuple[FloatArray, BoolArray]:
    """Hampel filter over time: set isolated spikes to NaN, so that gap filling repairs them.

    An entry is an outlier when it lies more than ``n_sigmas`` robust standard deviations
    (1.4826 x the median absolute deviation) from the median of the ``2 * half_window + 1``
    frames around it, and more than ``min_deviation`` from it in absolute terms (in the
    values' units: 2 % of the frame for normalised image coordinates, 2 cm for world
    landmarks), so that a still pose with tiny jitter is not picked apart. Windows with
    fewer than ``half_window + 1`` finite values, and the first and last finite frame of a
    run, are not judged. A smooth movement moves
    the median and the deviation together and is left alone; a one- or two-frame jump is
    not. Returns the values with outliers set to NaN and the mask of outliers.
    """
    array = np.asarray(values, dtype=np.float64)
    flat = _frames_by_channels(array)
    n, channels = flat.shape
    outliers = np.zeros(flat.shape, dtype=bool)
    width = 2 * half_window + 1
    chunk = max(1, _HAMPEL_CHUNK_ELEMENTS // max(1, n * width))
    for c0 in range(0, channels if n else 0, chunk):
        part = flat[:, c0 : c0 + chunk]
        padded = np.pad(part, ((half_window, half_window), (0, 0)), constant_values=np.nan)
        windows = sliding_window_view(padded, width, axis=0)  # (n, channels, width)
        median, count = _nanmedian_last(windows)
        mad, _ = _nanmedian_last(np.abs(windows - median[..., None]))
        threshold = np.maximum(n_sigmas * MAD_TO_SIGMA * mad, min_deviation)
        # A one-sided window cannot tell a spike from a trend: the first and last finite
        # frames of a run are not judged.
        seen = np.isfinite(windows)
        judged = (
            (count >= half_window + 1)
            & seen[..., :half_window].any(axis=-1)
            & seen[..., half_window + 1 :].any(axis=-1)
        )
        outliers[:, c0 : c0 + chunk] = judged & (np.abs(part - median) > threshold)
    cleaned = np.where(outliers, np.nan, flat)
    return cleaned.reshape(array.shape), outliers.reshape(array.shape)


def lowpass(
    values: npt.ArrayLike, t_ms: npt.ArrayLike, cutoff_hz: float, order: int = 2
) -> FloatArray:
    """Zero-lag Butterworth low-pass (forward and backward), with the cut-off in hertz.

    The sample rate comes from the timestamps, so 6 Hz means 6 Hz at 24, 30 or 60 fps.
    Each contiguous run of finite values is filtered on its own; NaNs stay where they are.
    A run whose frame intervals vary by more than ``JITTER_TOLERANCE`` is resampled onto a
    uniform grid (cubic spline), filtered there and interpolated back at its own times.
    Runs no longer than the filter's edge padding (9 samples for order 2: 0.3 s at 30 fps)
    are too short to tell movement from noise and are returned unchanged, as are runs
    whose Nyquist frequency is at or below the cut-off.
    """
    array = np.asarray(values, dtype=np.float64)
    t = np.asarray(t_ms, dtype=np.float64)
    if len(t) != len(array):
        raise ValueError(f"t_ms has {len(t)} frames, values have {len(array)}")
    flat = _frames_by_channels(array).copy()
    finite = np.isfinite(flat)
    shortest = _padlen(order) + 1
    if len(flat) < shortest or not finite.any():
        return flat.reshape(array.shape)
    # Channels of one landmark share their NaN pattern: filter them together, one block per
    # distinct pattern and run, rather than one channel at a time.
    patterns, which = np.unique(finite.T, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        columns = np.flatnonzero(np.ravel(which) == p)
        for start, stop in zip(*true_runs(pattern), strict=True):
            if stop - start >= shortest:
                block = flat[start:stop, columns]
                flat[start:stop, columns] = _lowpass_run(block, t[start:stop], cutoff_hz, order)
    return flat.reshape(array.shape)


def clean_landmarks(
    t_ms: npt.ArrayLike,
    landmarks: npt.ArrayLike,
    *,
    visibility_min: float = 0.5,
    max_gap_s: float = 0.25,
    cutoff_hz: float = 6.0,
) -> CleanLandmarks:
    """Clean ``(N, 33, 4)`` image or world landmarks: mask, reject, fill, smooth.

    1. Points with visibility below ``visibility_min`` become missing (x, y, z NaN, the
       visibility kept) and stay missing to the end, even inside a short gap: a metric is
       never computed from a landmark the model itself does not trust (a dancer partly out
       of frame).
    2. Spikes are rejected (Hampel filter), coordinate by coordinate.
    3. Gaps up to ``max_gap_s`` (converted to frames with the median frame interval) are
       interpolated in time, including frames where no person was found.
    4. x, y, z are low-passed at ``cutoff_hz`` with zero lag.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    raw = np.asarray(landmarks, dtype=np.float64)
    if raw.shape != (len(t), 33, 4):
        raise ValueError(f"expected landmarks of shape ({len(t)}, 33, 4), got {raw.shape}")
    xyz = raw[..., :3].copy()
    visibility = raw[..., 3]
    low_visibility = visibility < visibility_min  # NaN (no person) compares False: missing, not low
    xyz[low_visibility] = np.nan

    # Per coordinate: the model's depth (z) glitches far more often than x and y, and a
    # depth glitch must not cost the point its good image position.
    xyz, spikes = reject_outliers(xyz)
    outliers = spikes.any(axis=-1)

    max_gap = _seconds_to_frames(max_gap_s, t)
    xyz, filled_channels = fill_gaps(xyz, max_gap, t_ms=t)
    xyz[low_visibility] = np.nan
    filled = filled_channels.any(axis=-1) & ~low_visibility
    # Frames filled across "no person" carry an interpolated visibility rather than NaN.
    visibility, _ = fill_gaps(visibility, max_gap, t_ms=t)

    xyz = lowpass(xyz, t, cutoff_hz)
    values = np.concatenate([xyz, visibility[..., None]], axis=-1)
    return CleanLandmarks(values, filled, outliers, low_visibility)


def _lowpass_run(block: FloatArray, t: FloatArray, cutoff_hz: float, order: int) -> FloatArray:
    """Filter one run ``(L, C)`` of finite samples taken at times ``t`` (ms)."""
    intervals = np.diff(t)
    step = float(np.median(intervals))
    if cutoff_hz >= 0.5 * 1000.0 / step:
        return block
    if np.max(np.abs(intervals / step - 1.0)) <= JITTER_TOLERANCE:
        return _filtfilt(block, 1000.0 / step, cutoff_hz, order)
    # Variable frame rate: a grid at least as dense as the typical frame interval, and
    # with at least as many samples as the run.
    span = float(t[-1] - t[0])
    n = max(int(np.ceil(span / step)) + 1, len(t))
    grid = np.linspace(t[0], t[-1], n)
    uniform = CubicSpline(t, block, axis=0)(grid)
    filtered = _filtfilt(uniform, 1000.0 * (n - 1) / span, cutoff_hz, order)
    resampled: FloatArray = CubicSpline(grid, filtered, axis=0)(t)
    return resampled


def _filtfilt(block: FloatArray, fs: float, cutoff_hz: float, order: int) -> FloatArray:
    filtered: FloatArray = sosfiltfilt(
        _butter(order, cutoff_hz, fs), block, axis=0, padlen=_padlen(order)
    )
    return filtered


@lru_cache(maxsize=64)
def _butter(order: int, cutoff_hz: float, fs: float) -> FloatArray:
    # Cached: a clip with flickering visibility has thousands of runs at one frame rate.
    # (scipy's filters need a writable array, so it cannot be frozen; nothing writes to it.)
    sos: FloatArray = butter(order, cutoff_hz, fs=fs, output="sos")
    return sos


def _padlen(order: int) -> int:
    """scipy's default edge padding for ``sosfiltfilt``: 3 x (2 x sections + 1) samples."""
    return 3 * (2 * ((order + 1) // 2) + 1)


def _nanmedian_last(windows: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Median over the last axis ignoring NaN, and the count of finite values.

    Sorting puts NaN last, so the median sits at the middle of the first ``count``
    entries; unlike ``np.nanmedian`` this is vectorised and silent on all-NaN windows.
    """
    ordered = np.sort(windows, axis=-1)
    count = np.isfinite(windows).sum(axis=-1)
    lo = np.maximum((count - 1) // 2, 0)[..., None]
    hi = np.maximum(count // 2, 0)[..., None]
    middle = 0.5 * (
        np.take_along_axis(ordered, lo, axis=-1) + np.take_along_axis(ordered, hi, axis=-1)
    )
    return np.where(count > 0, middle[..., 0], np.nan), count


def _frames_by_channels(array: FloatArray) -> FloatArray:
    """View ``(N, ...)`` as ``(N, channels)``; works for N = 0 too."""
    return array.reshape(len(array), int(np.prod(array.shape[1:], dtype=np.int64)))


def _seconds_to_frames(seconds: float, t_ms: FloatArray) -> int:
    if len(t_ms) < 2:
        return 0
    return round(seconds * 1000.0 / float(np.median(np.diff(t_ms))))
