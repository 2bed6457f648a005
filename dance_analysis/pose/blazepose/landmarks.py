"""The landmark network's outputs to landmarks in the frame and in the world.

Follows MediaPipe's ``tensors_to_pose_landmarks_and_segmentation`` and
``pose_landmark_by_roi`` graphs: sigmoid visibility and presence, a 7x7 heatmap
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

HEATMAP_KERNEL = 7
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
    the heatmap is sure enough (its peak there at least 0.5)."""
    rows, cols, _ = heatmap.shape
    out = landmarks.copy()
    half = (kernel - 1) // 2
    for i in range(len(landmarks)):
        # C++ truncates toward zero: a point just left of the crop still refines.
        col = int(landmarks[i, 0] * cols)
        row = int(landmarks[i, 1] * rows)
        if not (0 <= col < cols and 0 <= row < rows):
            continue
        r0, r1 = max(0, row - half), min(rows, row + half + 1)
        c0, c1 = max(0, col - half), min(cols, col + half + 1)
        confidence = sigmoid(heatmap[r0:r1, c0:c1, i])
        total = confidence.sum()
        if confidence.max() >= MIN_CONFIDENCE_TO_REFINE and total > 0:
            rr, cc = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = float((cc * confidence).sum() / cols / total)
            out[i, 1] = float((rr * confidence).sum() / rows / total)
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
