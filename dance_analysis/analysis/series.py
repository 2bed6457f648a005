"""Analysis of one clip's pose series: cleaning, joint angles, metrics and coach feedback.

Pure numpy and scipy (no video, model or GPU library: an import contract keeps it so), so
it runs anywhere and is tested with numbers checked by hand. :func:`analyze_series` is
the one entry point; the modules below it are usable on their own:

- ``filters``: gap filling, outlier rejection, zero-lag low-pass, :func:`clean_landmarks`
- ``angles``: joint angle definitions, per-frame angles, summaries
- ``metrics``: speed and energy, smoothness, symmetry, balance
- ``feedback``: timestamped items a coach reads and a player seeks to
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.angles import ANGLE_NAMES, compute_angles, summarize
from dance_analysis.analysis.feedback import FeedbackItem, derive_feedback
from dance_analysis.analysis.filters import CleanLandmarks, clean_landmarks
from dance_analysis.analysis.jsonable import json_safe
from dance_analysis.analysis.metrics import balance, body_speed, movement, smoothness, symmetry
from dance_analysis.errors import Reason
from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

# Below this fraction of frames with a dancer, the result carries a warning.
LOW_COVERAGE = 0.5
LOW_COVERAGE_REASON = "low_coverage"


@dataclass(frozen=True)
class AnalysisOptions:
    """``cutoff_hz``: low-pass cut-off; ``max_gap_s``: longest gap filled by interpolation;
    ``visibility_min``: landmarks the model is less sure of are treated as missing."""

    cutoff_hz: float = 6.0
    max_gap_s: float = 0.25
    visibility_min: float = 0.5


@dataclass(eq=False)
class SeriesAnalysis:
    """Everything measured on one clip. Arrays are per frame (N frames).

    ``clean_landmarks`` / ``clean_world``: ``(N, 33, 4)`` cleaned image (normalised) and
    world (metres) landmarks. ``angles``: ``(N,)`` degrees by name, each frame from the
    world landmarks when that frame has any, else from the image landmarks in square
    pixels. ``body_speed``: ``(N,)`` m/s (see ``metrics.body_speed``). ``coverage``:
    fraction of frames in which a dancer was found.
    """

    clean_landmarks: FloatArray
    clean_world: FloatArray
    angles: dict[str, FloatArray]
    angle_summaries: dict[str, dict[str, float | None]]
    body_speed: FloatArray
    metrics: dict[str, Any]
    feedback: list[FeedbackItem]
    warnings: list[dict[str, str]]
    coverage: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON sections of the result; NaN becomes None everywhere.

        ``angles`` maps each angle's name to its summary (the result schema's
        ``angles.summary``); per-frame series are left to the caller, who owns the format.
        """
        safe: dict[str, Any] = json_safe(
            {
                "angles": self.angle_summaries,
                "metrics": self.metrics,
                "feedback": [item.to_dict() for item in self.feedback],
                "warnings": self.warnings,
                "coverage": self.coverage,
            }
        )
        return safe


def analyze_series(
    t_ms: npt.ArrayLike,
    landmarks: npt.ArrayLike,
    world: npt.ArrayLike | None,
    *,
    width: int,
    height: int,
    options: AnalysisOptions = AnalysisOptions(),  # frozen: one shared default is safe
) -> SeriesAnalysis:
    """Clean, measure and comment on one clip's pose series.

    ``t_ms``: ``(N,)`` presentation times in ms, strictly increasing. ``landmarks``,
    ``world``: ``(N, 33, 4)`` ``[x, y, z, visibility]`` image landmarks (x, y normalised to
    the displayed frame) and world landmarks (metres, hip-centred, y down), NaN rows where
    no person was found; ``world`` may be None. ``width``, ``height``: the displayed frame
    in pixels. Empty, single-frame and person-less input give a result with warnings,
    never an exception.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    n = len(t)
    image = _landmark_array(landmarks, n, "landmarks")
    world_raw = np.full_like(image, np.nan) if world is None else _landmark_array(world, n, "world")

    def clean(raw: FloatArray) -> CleanLandmarks:
        return clean_landmarks(
            t,
            raw,
            visibility_min=options.visibility_min,
            max_gap_s=options.max_gap_s,
            cutoff_hz=options.cutoff_hz,
        )

    clean_image, clean_world = clean(image), clean(world_raw)
    # Square pixels: a normalised x and y are fractions of different lengths.
    image_px = clean_image.values[..., :2] * np.array([width, height], dtype=np.float64)
    world_m = clean_world.values[..., :3]

    has_world = np.isfinite(world_m).any(axis=(1, 2))
    from_world, from_image = compute_angles(world_m), compute_angles(image_px)
    angles = {name: np.where(has_world, from_world[name], from_image[name]) for name in ANGLE_NAMES}
    summaries = {name: summarize(series, t) for name, series in angles.items()}

    person_found = np.isfinite(image[..., :3]).any(axis=(1, 2)) | np.isfinite(
        world_raw[..., :3]
    ).any(axis=(1, 2))
    coverage = float(person_found.mean()) if n else 0.0
    metrics = {
        "movement": movement(t, world_m),
        "smoothness": smoothness(t, world_m),
        "symmetry": symmetry(angles),
        "balance": balance(image_px),
    }
    return SeriesAnalysis(
        clean_landmarks=clean_image.values,
        clean_world=clean_world.values,
        angles=angles,
        angle_summaries=summaries,
        body_speed=body_speed(t, world_m),
        metrics=metrics,
        feedback=derive_feedback(t, angles, summaries, metrics, person_found),
        warnings=_coverage_warnings(coverage),
        coverage=coverage,
    )


def _coverage_warnings(coverage: float) -> list[dict[str, str]]:
    if coverage == 0.0:
        return [
            {
                "reason": Reason.NO_PERSON_DETECTED.value,
                "message": "No dancer was found in any frame, so nothing could be measured.",
            }
        ]
    if coverage < LOW_COVERAGE:
        return [
            {
                "reason": LOW_COVERAGE_REASON,
                "message": f"A dancer was found in only {coverage:.0%} of the frames; "
                "the measurements describe those frames only.",
            }
        ]
    return []


def _landmark_array(values: npt.ArrayLike, n: int, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    expected = (n, len(BLAZEPOSE_33.joints), 4)
    if array.shape != expected:
        if array.size == 0 and n == 0:
            return np.zeros(expected)
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    return array


__all__ = [
    "AnalysisOptions",
    "CleanLandmarks",
    "FeedbackItem",
    "SeriesAnalysis",
    "analyze_series",
]
