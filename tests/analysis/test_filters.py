"""Cleaning over time: gap filling, spike rejection, zero-lag low-pass, the whole clean-up."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from dance_analysis.analysis.angles import compute_angles
from dance_analysis.analysis.filters import clean_landmarks, fill_gaps, lowpass, reject_outliers
from tests.analysis.poses import index, standing, timeline, to_image

pytestmark = pytest.mark.filterwarnings("error")

FloatArray = npt.NDArray[np.float64]


def jittery_timeline(seconds: float, fps: float, jitter: float = 0.3) -> FloatArray:
    """A variable frame rate: each interval off the nominal one by up to ±``jitter``."""
    rng = np.random.default_rng(7)
    intervals = 1000.0 / fps * (1.0 + rng.uniform(-jitter, jitter, round(seconds * fps)))
    t = np.concatenate([[0.0], np.cumsum(intervals)])
    return t[t < seconds * 1000.0]


def fit_sine(t_ms: FloatArray, values: FloatArray, hz: float) -> tuple[float, float]:
    """Amplitude and phase (degrees) of the ``hz`` component, by least squares."""
    phase = 2 * np.pi * hz * t_ms / 1000.0
    design = np.column_stack([np.sin(phase), np.cos(phase), np.ones_like(phase)])
    (s, c, _), *_ = np.linalg.lstsq(design, values, rcond=None)
    return float(np.hypot(s, c)), float(np.degrees(np.arctan2(c, s)))


# --- fill_gaps ---


def test_a_short_gap_is_filled_with_the_straight_line() -> None:
    values = np.array([0.0, 1.0, 2.0, np.nan, np.nan, np.nan, 6.0, 7.0])
    filled, mask = fill_gaps(values, max_gap=3)
    assert filled == pytest.approx(np.arange(8.0))
    assert mask.tolist() == [False] * 3 + [True] * 3 + [False] * 2


def test_a_long_gap_and_the_ends_stay_missing() -> None:
    values = np.arange(40.0)
    values[:2] = values[5:35] = values[-1] = np.nan
    filled, mask = fill_gaps(values, max_gap=3)
    assert np.array_equal(np.isnan(filled), np.isnan(values))
    assert not mask.any()


def test_gaps_are_filled_per_channel_and_in_time() -> None:
    values = np.array([[0.0, 0.0], [np.nan, 5.0], [4.0, np.nan], [6.0, 6.0]])
    filled, mask = fill_gaps(values, max_gap=1, t_ms=np.array([0.0, 10.0, 40.0, 50.0]))
    # By time, not by index (which would give 2.0 and 5.5): 10 of 40 ms, 30 of 40 ms.
    assert filled[:, 0] == pytest.approx([0.0, 1.0, 4.0, 6.0])
    assert filled[:, 1] == pytest.approx([0.0, 5.0, 5.75, 6.0])
    assert mask.tolist() == [[False, False], [True, False], [False, True], [False, False]]


# --- reject_outliers ---


def test_an_isolated_spike_is_rejected_and_then_repaired() -> None:
    t = timeline(4, 30)
    truth = 0.5 + 0.05 * np.sin(2 * np.pi * 0.5 * t / 1000.0)
    values = truth.copy()
    values[40] += 0.15
    cleaned, outliers = reject_outliers(values)
    assert np.flatnonzero(outliers).tolist() == [40]
    repaired, _ = fill_gaps(cleaned, max_gap=3)
    assert repaired[40] == pytest.approx(truth[40], abs=1e-3)


@pytest.mark.parametrize("fps", [24, 30, 60])
@pytest.mark.parametrize("phase", np.linspace(0, 2 * np.pi, 7)[:-1])
def test_a_fast_smooth_movement_is_not_an_outlier(fps: float, phase: float) -> None:
    t = timeline(3, fps)
    values = 0.5 + 0.2 * np.sin(2 * np.pi * 3.0 * t / 1000.0 + phase)  # 3 Hz, 20 % of the frame
    cleaned, outliers = reject_outliers(values)
    assert not outliers.any()
    assert np.array_equal(cleaned, values)


def test_jitter_of_a_still_pose_is_not_picked_apart() -> None:
    values = 0.5 + np.random.default_rng(1).normal(0.0, 0.003, (300, 3))
    assert not reject_outliers(values)[1].any()


# --- lowpass ---

TIMELINES = {
    "30fps": timeline(6, 30),
    "60fps": timeline(6, 60),
    "vfr30": jittery_timeline(6, 30),
    "vfr60": jittery_timeline(6, 60),
}


@pytest.mark.parametrize("t_ms", TIMELINES.values(), ids=TIMELINES.keys())
def test_lowpass_keeps_2hz_without_lag_and_removes_12hz(t_ms: FloatArray) -> None:
    slow = np.sin(2 * np.pi * 2.0 * t_ms / 1000.0)
    fast = np.sin(2 * np.pi * 12.0 * t_ms / 1000.0)
    filtered = lowpass(slow + fast, t_ms, cutoff_hz=6.0)
    middle = (t_ms > 1000) & (t_ms < 5000)  # away from the ends
    amplitude, phase = fit_sine(t_ms[middle], filtered[middle], 2.0)
    # Forward-backward Butterworth: gain 1 / (1 + (f / fc)^4) = 0.988 at 2 Hz, 0.06 at 12 Hz.
    assert amplitude == pytest.approx(1.0, abs=0.03)
    assert phase == pytest.approx(0.0, abs=1.0)
    assert fit_sine(t_ms[middle], filtered[middle], 12.0)[0] < 0.1
    assert np.isfinite(filtered).all()


def test_lowpass_peaks_stay_on_their_frames() -> None:
    t = timeline(6, 30)
    slow = np.sin(2 * np.pi * 2.0 * t / 1000.0 + 0.3)
    filtered = lowpass(slow + 0.3 * np.sin(2 * np.pi * 11.0 * t / 1000.0), t, 6.0)
    for start in range(30, 150, 15):  # one 2 Hz period per window
        window = slice(start, start + 15)
        assert np.argmax(filtered[window]) == np.argmax(slow[window])


def test_lowpass_keeps_missing_values_where_they_are() -> None:
    t = jittery_timeline(4, 30)
    values = np.sin(2 * np.pi * 1.0 * t / 1000.0)[:, None, None] * np.ones((1, 2, 3))
    values[40:45] = np.nan
    values[60:62, 1] = np.nan
    values[:6, 0, 0] = [5.0, np.nan, 7.0, 8.0, 9.0, np.nan]  # runs too short to filter
    filtered = lowpass(values, t, 6.0)
    assert filtered.shape == values.shape
    assert np.array_equal(np.isnan(filtered), np.isnan(values))
    assert filtered[[0, 2, 3, 4], 0, 0].tolist() == [5.0, 7.0, 8.0, 9.0]


def test_lowpass_copes_with_a_burst_of_short_frame_intervals() -> None:
    # Median interval 40 ms over 270 ms: fewer 40 ms grid points than frames in the run.
    t = np.cumsum([0.0] + [40.0] * 6 + [10.0] * 3)
    values = np.sin(t / 100.0)  # 1.6 Hz
    filtered = lowpass(values, t, 6.0)
    assert filtered == pytest.approx(values, abs=0.1)


def test_lowpass_leaves_a_signal_alone_when_the_cutoff_is_above_nyquist() -> None:
    t = timeline(4, 5)  # 5 fps: Nyquist 2.5 Hz
    values = np.random.default_rng(2).normal(size=len(t))
    assert np.array_equal(lowpass(values, t, cutoff_hz=6.0), values)


# --- clean_landmarks ---


def test_low_visibility_points_never_reach_the_angles() -> None:
    t = timeline(3, 30)
    landmarks = standing(len(t))
    landmarks[20:24, index("left_knee"), 3] = 0.2  # a gap short enough to be filled otherwise
    clean = clean_landmarks(t, landmarks)
    assert clean.low_visibility[:, index("left_knee")].tolist() == [
        i in range(20, 24) for i in range(len(t))
    ]
    assert np.isnan(clean.values[20:24, index("left_knee"), :3]).all()
    assert (clean.values[20:24, index("left_knee"), 3] == 0.2).all()
    angles = compute_angles(clean.values[..., :3])
    assert np.isnan(angles["left_knee"][20:24]).all()
    assert np.isnan(angles["left_hip"][20:24]).all()
    assert angles["left_knee"][np.r_[:20, 24:90]] == pytest.approx(np.full(86, 180.0))
    assert angles["right_knee"] == pytest.approx(np.full(90, 180.0))


def test_clean_landmarks_fills_a_short_dropout_and_rejects_a_spike() -> None:
    t = timeline(3, 30)
    landmarks = standing(len(t))
    landmarks[30:33] = np.nan  # no person found for 3 frames (0.1 s < 0.25 s)
    landmarks[60, index("right_wrist"), 0] += 0.3
    clean = clean_landmarks(t, landmarks)
    assert clean.filled[30:33].all() and not clean.filled[:30].any()
    assert clean.values[30:33] == pytest.approx(standing(3))
    assert np.flatnonzero(clean.outliers.any(axis=1)).tolist() == [60]
    assert clean.values[60, index("right_wrist"), 0] == pytest.approx(-0.18, abs=1e-6)
    assert not clean.low_visibility.any()


def test_a_depth_glitch_does_not_cost_the_image_position() -> None:
    t = timeline(6, 5)  # 5 fps: a two-frame glitch is longer than the 0.25 s gap filled
    landmarks = to_image(standing(len(t)))
    knee = index("left_knee")
    landmarks[14:16, knee, 2] += 0.5
    clean = clean_landmarks(t, landmarks)
    assert np.flatnonzero(clean.outliers[:, knee]).tolist() == [14, 15]
    assert clean.values[14:16, knee, :2] == pytest.approx(landmarks[14:16, knee, :2])
    assert np.isnan(clean.values[14:16, knee, 2]).all()


def test_clean_landmarks_leaves_a_long_dropout_missing() -> None:
    t = timeline(3, 30)
    landmarks = standing(len(t))
    landmarks[30:45] = np.nan  # half a second
    clean = clean_landmarks(t, landmarks, max_gap_s=0.25)
    assert np.isnan(clean.values[30:45]).all()
    assert np.isfinite(clean.values[:30]).all() and np.isfinite(clean.values[45:]).all()
