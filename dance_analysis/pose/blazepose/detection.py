"""The person detector's side of the graph: input letterbox, SSD anchors, decoding and
weighted non-maximum suppression that keeps every person.

Parameters are those of MediaPipe's ``pose_detection_cpu`` graph. Unlike MediaPipe's
pose solution, which keeps only the first detection, every detection survives here:
the tracker decides who is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dance_analysis.pose.blazepose.networks import DETECTOR_SIZE, NUM_ANCHORS, FloatArray

MIN_SCALE = 0.1484375
MAX_SCALE = 0.75
STRIDES = (8, 16, 32, 32, 32)
SCORE_CLIP = 100.0
NMS_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    """One person found by the detector, normalised to the whole frame.

    ``box``: ``(x0, y0, x1, y1)`` (around the face, as the model was trained).
    ``keypoints``: (4, 2): hip centre, full-body scale point, shoulder centre,
    upper-body scale point.
    """

    score: float
    box: tuple[float, float, float, float]
    keypoints: npt.NDArray[np.float64]


@lru_cache(maxsize=1)
def anchors() -> FloatArray:
    """(2254, 2) anchor centres ``(x, y)``, normalised, in the model's output order.

    Every anchor of this model has a fixed unit size, so only the centres matter: two
    per cell on the stride-8 and stride-16 grids, six per cell on the stride-32 grid
    (its three layers share one grid).
    """
    centres: list[FloatArray] = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        same = sum(1 for s in STRIDES[layer:] if s == stride)
        # Each layer gives one anchor of its own scale and one interpolated.
        per_cell = 2 * same
        cells = int(np.ceil(DETECTOR_SIZE / stride))
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        cell_centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cell_centres, per_cell, axis=0))
        layer += same
    out = np.concatenate(centres).astype(np.float32)
    assert len(out) == NUM_ANCHORS
    return out


@dataclass(frozen=True)
class Letterbox:
    """How the frame sits in the square detector input: the affine map and the padding
    (left, top, right, bottom) as fractions of the input."""

    matrix: npt.NDArray[np.float64]  # 2x3, frame pixels -> input pixels
    padding: tuple[float, float, float, float]


def letterbox(width: int, height: int) -> Letterbox:
    """Fit the whole frame, centred, into the 224x224 input, keeping its aspect ratio."""
    scale = DETECTOR_SIZE / max(width, height)
    dx = (DETECTOR_SIZE - width * scale) / 2.0
    dy = (DETECTOR_SIZE - height * scale) / 2.0
    matrix = np.array([[scale, 0.0, dx], [0.0, scale, dy]])
    # MediaPipe states the padding relative to the padded square, side by side.
    pad_x = (1.0 - width / max(width, height)) / 2.0
    pad_y = (1.0 - height / max(width, height)) / 2.0
    return Letterbox(matrix, (pad_x, pad_y, pad_x, pad_y))


def detector_input(image: npt.NDArray[np.uint8]) -> tuple[FloatArray, Letterbox]:
    """The (224, 224, 3) input in [-1, 1]: the frame letterboxed with black borders,
    resampled bilinearly in 8 bits by a perspective warp, as MediaPipe's OpenCV
    converter does (an affine warp rounds differently)."""
    import cv2

    height, width = image.shape[:2]
    box = letterbox(width, height)
    warped = cv2.warpPerspective(
        image,
        np.vstack([box.matrix, [0.0, 0.0, 1.0]]),
        (DETECTOR_SIZE, DETECTOR_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return warped.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0), box


def decode(
    boxes: FloatArray, scores: FloatArray, min_score: float
) -> tuple[FloatArray, FloatArray]:
    """One image's raw outputs to ``(scores (k,), coords (k, 12))`` above ``min_score``.

    ``coords``: ``x0, y0, x1, y1`` then four keypoints ``x, y``, normalised to the
    detector input (letterbox still in).
    """
    logits = np.clip(scores.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
    probs = 1.0 / (1.0 + np.exp(-logits))
    keep = probs >= min_score
    raw = boxes.reshape(-1, 12)[keep] / np.float32(DETECTOR_SIZE)
    centre = anchors()[keep]
    cx = raw[:, 0] + centre[:, 0]
    cy = raw[:, 1] + centre[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    coords = np.empty_like(raw)
    coords[:, 0], coords[:, 1] = cx - w / 2, cy - h / 2
    coords[:, 2], coords[:, 3] = cx + w / 2, cy + h / 2
    coords[:, 4::2] = raw[:, 4::2] + centre[:, :1]
    coords[:, 5::2] = raw[:, 5::2] + centre[:, 1:]
    return probs[keep].astype(np.float32), coords


def iou(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Intersection over union of box ``a`` (4,) with each of ``b`` (k, 4)."""
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float64)


def weighted_nms(
    scores: FloatArray, coords: FloatArray, threshold: float = NMS_IOU
) -> list[tuple[float, FloatArray]]:
    """Every distinct detection, strongest first; boxes and keypoints of each are the
    score-weighted mean of the detections it absorbed (IoU above ``threshold``), its
    score the strongest one's."""
    order = np.argsort(-scores, kind="stable")
    remaining = order
    out: list[tuple[float, FloatArray]] = []
    while len(remaining):
        top = remaining[0]
        overlap = iou(coords[top, :4], coords[remaining, :4])
        members = remaining[overlap > threshold]
        if len(members) == 0:  # a degenerate box overlaps nothing, not even itself
            members = remaining[:1]
        weights = scores[members].astype(np.float64)
        merged = (coords[members].astype(np.float64) * weights[:, None]).sum(0) / weights.sum()
        out.append((float(scores[top]), merged.astype(np.float32)))
        remaining = np.setdiff1d(remaining, members, assume_unique=True)
        # setdiff1d sorts by index; restore the score order.
        remaining = remaining[np.argsort(-scores[remaining], kind="stable")]
    return out


def remove_letterbox(
    coords: FloatArray, padding: tuple[float, float, float, float]
) -> npt.NDArray[np.float64]:
    """Coordinates in the detector input to coordinates in the whole frame."""
    left, top, right, bottom = padding
    out = coords.astype(np.float64).copy()
    out[0::2] = (out[0::2] - left) / (1.0 - left - right)
    out[1::2] = (out[1::2] - top) / (1.0 - top - bottom)
    return out


def detections(
    boxes: FloatArray, scores: FloatArray, box: Letterbox, min_score: float
) -> list[Detection]:
    """Every person one image's detector outputs show, strongest first."""
    probs, coords = decode(boxes, scores, min_score)
    found = []
    for score, merged in weighted_nms(probs, coords):
        frame = remove_letterbox(merged, box.padding)
        found.append(
            Detection(
                score=score,
                box=(float(frame[0]), float(frame[1]), float(frame[2]), float(frame[3])),
                keypoints=frame[4:].reshape(4, 2),
            )
        )
    return found
