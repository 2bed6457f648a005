"""The teacher's ghost on the student's picture: where each of the teacher's joints
would be if the teacher's pose, at the aligned moment, were danced by the student's
body standing where the student stands.

Pure numpy over two results and their comparison, so that the video writer and the
desktop (drawn live) place the same ghost. The steps, vectorised over the student's
frames:

1. the teacher's time for each student frame, through ``alignment.map`` (linear
   between pairs, at ``tempo_ratio`` beyond them, as :class:`Alignment` reads it);
2. the teacher's bone directions (body frame) at that time, interpolated between the
   two nearest frames; the mirror image's where the student's segment (else the clip)
   is ``mirrored``, so that the ghost shows the side the student should use;
3. rebuilt on the student's median bone lengths and turned into the student's camera
   axes (:func:`retarget`), mid-hip at the origin;
4. projected: x, y only (weak perspective: the depth of a body is small against the
   camera's distance), times the student's own image-to-world scale, placed on the
   student's mid-hip in the picture.

The scale is a least-squares fit of the student's image landmarks (pixels, about the
image mid-hip) against their world landmarks (metres, about the world mid-hip),
pooled over a centred ``SCALE_WINDOW_MS`` so that the ghost does not breathe with the
model's depth jitter, and still follows a dancer who walks towards the camera.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.compare.align import Alignment
from dance_analysis.compare.features import (
    MID_HIP,
    TREE,
    BodyFeatures,
    body_features,
    directions,
    extended_points,
    resample,
    retarget,
)
from dance_analysis.compare.mirror import mirror_points
from dance_analysis.compare.model import N_LANDMARKS, Performance

FloatArray = npt.NDArray[np.float64]

SCALE_WINDOW_MS = 1000.0  # the image-to-world scale is fitted over this long, centred


def ghost_points(
    student_result: Mapping[str, Any],
    teacher_result: Mapping[str, Any],
    comparison: Mapping[str, Any],
) -> FloatArray:
    """The teacher's ghost in the student's picture: (n_student_frames, 33, 2), x and y
    normalised 0–1 to the student's displayed frame like ``landmarks``; NaN where the
    student or the teacher is not seen (or the mapped time falls outside the teacher's
    clip).

    ``comparison`` is the student's ``result["comparison"]`` (``Comparison.to_dict()``'s
    ``"comparison"``); the whole ``to_dict()`` is accepted too.
    """
    if "comparison" in comparison:
        comparison = comparison["comparison"]
    student = Performance.from_result(student_result)
    teacher = Performance.from_result(teacher_result)
    n = len(student.t_ms)
    if n == 0 or len(teacher.t_ms) == 0:
        return np.full((n, N_LANDMARKS, 2), np.nan)
    student_features = body_features(student)
    teacher_features = body_features(teacher)

    teacher_ms = alignment_of(comparison).teacher_ms(student.t_ms)
    # A map that ends a hair past the teacher's last frame (a tempo ratio of 1.0004)
    # still means that frame: within half a frame counts as inside.
    slack = teacher.frame_ms / 2
    first, last = teacher.t_ms[0], teacher.t_ms[-1]
    near = (teacher_ms >= first - slack) & (teacher_ms <= last + slack)
    teacher_ms = np.where(near, np.clip(teacher_ms, first, last), teacher_ms)
    direct = _tree_at(teacher_features, teacher_features.points, teacher_ms)
    mirror = _tree_at(teacher_features, mirror_points(teacher_features.points), teacher_ms)
    flip = mirrored_frames(student.t_ms, comparison)
    unit = np.where(flip[:, None, None], mirror, direct)

    body = retarget(unit, student_features.tree_lengths, rotations=student_features.rotations)
    width, height = _frame_size(student_result)
    scale = image_scale(student, width, height)  # (n, 2): normalised units per metre
    anchor = _image_points(student)[:, MID_HIP]  # the student's mid-hip in the picture
    out: FloatArray = anchor[:, None, :] + body[:, :, :2] * scale[:, None, :]
    return out


def mirrored_frames(t_ms: FloatArray, comparison: Mapping[str, Any]) -> npt.NDArray[np.bool_]:
    """(n,) whether the teacher is mirrored at each of the student's times: the
    segment's reading inside a segment, the clip's outside them."""
    flip = np.full(len(t_ms), bool(comparison.get("mirrored", False)))
    segments = comparison.get("segments") or []
    for k, segment in enumerate(segments):
        start, end = float(segment["start_ms"]), float(segment["end_ms"])
        last = k == len(segments) - 1  # the last segment keeps its end frame
        inside = (t_ms >= start) & ((t_ms <= end) if last else (t_ms < end))
        flip[inside] = bool(segment.get("mirrored", False))
    return flip


def image_scale(student: Performance, width: float | None, height: float | None) -> FloatArray:
    """(n, 2): normalised image units per metre of world x and y, per frame.

    With the frame's size the pixels are square, so one scale (pixels per metre) is
    fitted and split by width and height; without it, x and y are fitted apart. Each a
    least-squares fit over a centred ``SCALE_WINDOW_MS`` of every point seen in both;
    NaN where the window has none.
    """
    world = extended_points(student.world)
    image = _image_points(student)
    world_xy = world[:, :N_LANDMARKS, :2] - world[:, MID_HIP : MID_HIP + 1, :2]
    image_xy = image[:, :N_LANDMARKS] - image[:, MID_HIP : MID_HIP + 1]
    seen = ~(np.isnan(world_xy).any(axis=-1) | np.isnan(image_xy).any(axis=-1))
    world_xy = np.where(seen[..., None], world_xy, 0.0)
    image_xy = np.where(seen[..., None], image_xy, 0.0)
    square = width is not None and height is not None and width > 0 and height > 0
    if square:
        assert width is not None and height is not None
        pixels = image_xy * (width, height)
        numerator = (pixels * world_xy).sum(axis=(1, 2))[:, None]
        denominator = (world_xy**2).sum(axis=(1, 2))[:, None]
    else:
        numerator = (image_xy * world_xy).sum(axis=1)
        denominator = (world_xy**2).sum(axis=1)
    numerator = _window_sums(numerator, student.t_ms)
    denominator = _window_sums(denominator, student.t_ms)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(denominator > 1e-12, numerator / denominator, np.nan)
    if square:
        assert width is not None and height is not None
        return np.concatenate([scale / width, scale / height], axis=1)
    out: FloatArray = scale
    return out


def _image_points(performance: Performance) -> FloatArray:
    """(n, 36, 2) the image landmarks plus mid-hip, mid-shoulder and mid-ear."""
    image = performance.image
    flat = np.concatenate([image, np.zeros((*image.shape[:2], 1))], axis=2)
    out: FloatArray = extended_points(flat)[:, :, :2]
    return out


def _window_sums(values: FloatArray, t_ms: FloatArray) -> FloatArray:
    """Sums of (n, c) ``values`` over a centred window of ``SCALE_WINDOW_MS``."""
    frame_ms = float(np.median(np.diff(t_ms))) if len(t_ms) > 1 else SCALE_WINDOW_MS
    half = max(int(SCALE_WINDOW_MS / 2 / max(frame_ms, 1e-6)), 0)
    padded = np.pad(values, ((half + 1, half), (0, 0)))
    sums = np.cumsum(padded, axis=0)
    out: FloatArray = sums[2 * half + 1 :] - sums[: -(2 * half + 1)]
    return out


def _tree_at(features: BodyFeatures, points: FloatArray, t_ms: FloatArray) -> FloatArray:
    """The skeleton tree's directions (m, len(TREE), 3) of body-frame ``points`` at the
    times ``t_ms``, interpolated (NaN outside the clip), by way of :func:`resample`."""
    unit = directions(points, TREE)
    seen = (~np.isnan(unit).any(axis=-1)).astype(np.float64)
    tree = dataclasses.replace(features, directions=unit, confidence=seen)
    return resample(tree, t_ms)[0]


def alignment_of(comparison: Mapping[str, Any]) -> Alignment:
    """The time map of a ``comparison`` dict (as ``result.json`` holds it)."""
    if "comparison" in comparison:
        comparison = comparison["comparison"]
    alignment = comparison.get("alignment") or {}
    pairs = np.asarray(alignment.get("map") or [], dtype=np.float64).reshape(-1, 2)
    ratio = float(comparison.get("tempo_ratio") or 1.0)
    offset = float(comparison.get("time_offset_ms") or 0.0)
    if len(pairs) == 0:  # no map: the straight line
        pairs = np.array([[offset, 0.0], [offset + 1000.0, 1000.0 * ratio]])
    return Alignment(
        method=str(alignment.get("method", "")),
        map_ms=pairs,
        tempo_ratio=ratio,
        time_offset_ms=offset,
    )


def _frame_size(result: Mapping[str, Any]) -> tuple[float | None, float | None]:
    video = result.get("video") or {}
    width, height = video.get("width"), video.get("height")
    return (
        float(width) if width else None,
        float(height) if height else None,
    )
