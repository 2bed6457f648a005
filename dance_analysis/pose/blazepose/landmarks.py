"""The landmark network's outputs to landmarks in the frame and in the world.

Follows MediaPipe's ``tensors_to_pose_landmarks_and_segmentation`` and
``pose_landmark_by_roi`` graphs: sigmoid visibility and presence, a 9x9 heatmap
refinement of x and y, projection from the rotated crop back to the frame (z scaled
with the region's width), world landmarks turned by the region's rotation.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from dance_analysis.pose.blazepose.networks import LANDMARK_SIZE, NUM_LANDMARKS, FloatArray
from dance_analysis.pose.blazepose.roi import Rect

F64 = npt.NDArray[np.float64]

# The published graph text says 7, but the graph compiled into mediapipe 0.10.21 runs
# the option's default, 9: with 9 our first frame on pose_squats.mp4 is 0.002 px from
# the solution's, with 7 it is 0.29 px (and 1.3 px on average over the clip).
HEATMAP_KERNEL = 9
MIN_CONFIDENCE_TO_REFINE = 0.5


def sigmoid(x: npt.NDArray[np.floating]) -> F64:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def crop_landmarks(raw: FloatArray) -> F64:
    """(195,) raw tensor to (39, 5) ``x, y, z, visibility, presence``; x, y, z as
    fractions of the crop's side, the last two as probabilities."""
    out = raw.reshape(NUM_LANDMARKS, 5).astype(np.float64)
    out[:, :3] /= LANDMARK_SIZE
    out[:, 3:] = sigmoid(out[:, 3:])
    return out


def refine(landmarks: F64, heatmap: FloatArray, kernel: int = HEATMAP_KERNEL) -> F64:
    """x, y moved to the confidence-weighted centre of the heatmap around them, where
    the heatmap is sure enough (its peak there at least 0.5).

    All landmarks at once: cells off the heatmap count with zero confidence, which is
    what MediaPipe's kernel shrinking at the edges amounts to.
    """
    rows, cols, count = heatmap.shape
    half = (kernel - 1) // 2
    # A point even just outside the crop keeps its place: measured against the solution
    # (an auxiliary point 0.016 above the crop, left alone there, moved the next
    # region by 30 px when refined).
    col = np.floor(landmarks[:, 0] * cols).astype(np.int64)
    row = np.floor(landmarks[:, 1] * rows).astype(np.int64)
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    col, row = np.where(inside, col, 0), np.where(inside, row, 0)
    offsets = np.arange(kernel) - half
    window_rows = row[:, None] + offsets  # (n, kernel), may run off the heatmap
    window_cols = col[:, None] + offsets
    # Only the n windows are read (not a padded copy of the whole heatmap); cells off the
    # heatmap get no confidence, which is what MediaPipe's kernel shrinking amounts to.
    on_rows = (window_rows >= 0) & (window_rows < rows)
    on_cols = (window_cols >= 0) & (window_cols < cols)
    windows = heatmap[
        np.clip(window_rows, 0, rows - 1)[:, :, None],
        np.clip(window_cols, 0, cols - 1)[:, None, :],
        np.arange(count)[:, None, None],
    ].astype(np.float64)
    windows[~(on_rows[:, :, None] & on_cols[:, None, :])] = -np.inf
    window_rows, window_cols = window_rows + half, window_cols + half  # as if padded
    confidence = sigmoid(windows)  # (n, kernel, kernel); 0 outside the heatmap
    total = confidence.sum(axis=(1, 2))
    peak = confidence.max(axis=(1, 2))
    weighted_row = (confidence * (window_rows - half)[:, :, None]).sum(axis=(1, 2))
    weighted_col = (confidence * (window_cols - half)[:, None, :]).sum(axis=(1, 2))
    refine = inside & (peak >= MIN_CONFIDENCE_TO_REFINE) & (total > 0)
    out = landmarks.copy()
    safe = np.where(total > 0, total, 1.0)
    out[:, 0] = np.where(refine, weighted_col / cols / safe, landmarks[:, 0])
    out[:, 1] = np.where(refine, weighted_row / rows / safe, landmarks[:, 1])
    return out


def project(landmarks: F64, rect: Rect) -> F64:
    """Crop-relative landmarks (n, 5) to frame-normalised ones: rotated and scaled by
    the region; z in the same scale as x."""
    out = landmarks.copy()
    x, y = landmarks[:, 0] - 0.5, landmarks[:, 1] - 0.5
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    out[:, 0] = (c * x - s * y) * rect.w + rect.x
    out[:, 1] = (s * x + c * y) * rect.h + rect.y
    out[:, 2] = landmarks[:, 2] * rect.w
    return out


def world(raw: FloatArray, rect: Rect) -> F64:
    """(117,) raw world tensor to (39, 3) metres, turned by the region's rotation (the
    network sees the person upright)."""
    pts = raw.reshape(NUM_LANDMARKS, 3).astype(np.float64)
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    out = pts.copy()
    out[:, 0] = c * pts[:, 0] - s * pts[:, 1]
    out[:, 1] = s * pts[:, 0] + c * pts[:, 1]
    return out
