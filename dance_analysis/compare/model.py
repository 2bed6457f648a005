"""The comparison's inputs and outputs: a :class:`Performance` read from one analysed
clip's ``result.json``, and the :class:`Comparison` written into the student's result.

Arrays, not frame dicts, from the moment a result is read: a 60 s clip at 30 fps is
1800 frames of 33 landmarks, and every step after this one is vectorised over them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.jsonable import finite_or_none

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

N_LANDMARKS = 33
# result.json's own default (options.visibility_min) when a result does not say.
DEFAULT_VISIBILITY_MIN = 0.5


@dataclass(frozen=True)
class Performance:
    """One analysed clip, as arrays.

    ``t_ms``: (n,) presentation times; ``world``: (n, 33, 3) metres, hip-centred, y
    down, NaN where no dancer was found or a point's visibility is below
    ``visibility_min``; ``visibility``: (n, 33) 0–1 (0 where missing); ``image``:
    (n, 33, 2) x, y normalised 0–1 to the displayed frame (NaN where missing), kept
    for the ghost overlay. Music: ``beats_ms`` (b,), ``count_ms``/``count_number``/
    ``count_phrase`` (k,) parallel arrays of the 8-counts, ``tempo_bpm`` or None.
    """

    t_ms: FloatArray
    world: FloatArray
    visibility: FloatArray
    image: FloatArray
    beats_ms: FloatArray = field(default_factory=lambda: np.zeros(0))
    count_ms: FloatArray = field(default_factory=lambda: np.zeros(0))
    count_number: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    count_phrase: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tempo_bpm: float | None = None
    source: str | None = None
    sha256: str | None = None
    job_id: str | None = None

    @property
    def has_counts(self) -> bool:
        """Counts need at least two beats to give a period."""
        return len(self.count_ms) >= 2 and len(self.beats_ms) >= 2

    @property
    def frame_ms(self) -> float:
        """The typical frame period (median), for tolerances stated in frames."""
        return float(np.median(np.diff(self.t_ms))) if len(self.t_ms) > 1 else 0.0

    @classmethod
    def from_result(cls, result: Mapping[str, Any], *, job_id: str | None = None) -> Performance:
        """Read a ``result.json`` dict (see docs/result-format.md).

        Points below the result's own ``options.visibility_min`` become NaN, so that a
        hand out of the picture is not compared as if it were measured.
        """
        frames: Sequence[Mapping[str, Any]] = result.get("frames") or []
        n = len(frames)
        options = result.get("options") or {}
        visibility_min = float(options.get("visibility_min") or DEFAULT_VISIBILITY_MIN)
        t_ms = np.empty(n)
        world = np.full((n, N_LANDMARKS, 4), np.nan)
        image = np.full((n, N_LANDMARKS, 4), np.nan)
        # One assignment of a nested list per frame: numpy parses the 33 x 4 block in C.
        for i, frame in enumerate(frames):
            t_ms[i] = frame["t_ms"]
            points = frame.get("world_landmarks")
            if points is not None:
                world[i] = np.asarray(points, dtype=np.float64)[:, :4]
            points = frame.get("landmarks")
            if points is not None:
                image[i] = np.asarray(points, dtype=np.float64)[:, :4]
        visibility = np.nan_to_num(world[:, :, 3], nan=0.0)
        hidden = visibility < visibility_min
        xyz = world[:, :, :3].copy()
        xyz[hidden] = np.nan
        xy = image[:, :, :2].copy()
        xy[hidden] = np.nan
        video = result.get("video") or {}
        music = result.get("music") or {}
        return cls(
            t_ms=t_ms,
            world=xyz,
            visibility=np.where(hidden, 0.0, visibility),
            image=xy,
            **_music_arrays(music),
            source=video.get("name"),
            sha256=video.get("sha256"),
            job_id=job_id,
        )

    @classmethod
    def from_arrays(
        cls,
        t_ms: npt.ArrayLike,
        world: npt.ArrayLike,
        *,
        visibility: npt.ArrayLike | None = None,
        image: npt.ArrayLike | None = None,
        beats_ms: npt.ArrayLike = (),
        counts: Sequence[Mapping[str, Any]] = (),
        tempo_bpm: float | None = None,
        source: str | None = None,
        sha256: str | None = None,
    ) -> Performance:
        """Build one from arrays (benchmarks, synthetic dancers): ``world`` (n, 33, 3)."""
        xyz = np.asarray(world, dtype=np.float64)
        n = len(xyz)
        vis = (
            np.where(np.isnan(xyz).any(axis=-1), 0.0, 1.0)
            if visibility is None
            else np.asarray(visibility, dtype=np.float64)
        )
        xy = np.full((n, N_LANDMARKS, 2), np.nan) if image is None else np.asarray(image, float)
        music: dict[str, Any] = {
            "beats_ms": list(np.asarray(beats_ms, dtype=float)),
            "counts": list(counts),
        }
        if tempo_bpm is not None:
            music["tempo_bpm"] = tempo_bpm
        return cls(
            t_ms=np.asarray(t_ms, dtype=np.float64),
            world=xyz,
            visibility=vis,
            image=xy,
            **_music_arrays(music),
            source=source,
            sha256=sha256,
        )


def _music_arrays(music: Mapping[str, Any]) -> dict[str, Any]:
    """Beats and counts as arrays; empty when the clip has no music (``present`` false)."""
    if music.get("present") is False:
        return {}
    counts = music.get("counts") or []
    return {
        "beats_ms": np.asarray(music.get("beats_ms") or [], dtype=np.float64),
        "count_ms": np.array([float(c["t_ms"]) for c in counts], dtype=np.float64),
        "count_number": np.array([int(c["count"]) for c in counts], dtype=np.int64),
        "count_phrase": np.array([int(c["phrase"]) for c in counts], dtype=np.int64),
        "tempo_bpm": finite_or_none(music.get("tempo_bpm")),
    }


@dataclass(frozen=True)
class Segment:
    """One stretch of the student's clip: an 8-count phrase, or a fixed window.

    ``score`` is None when no body part could be compared in it. ``timing_ms``:
    negative when the student is ahead of the teacher, positive when behind.
    ``part_scores`` (body part → score) is written as ``parts``, beside the issue's
    fixed names, so a count sheet (desktop, phone) needs nothing but result.json.
    """

    start_ms: float
    end_ms: float
    label: str
    score: float | None
    timing_ms: float | None
    worst_part: str | None
    mirrored: bool
    part_scores: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_ms": round(self.start_ms, 1),
            "end_ms": round(self.end_ms, 1),
            "label": self.label,
            "score": _rounded(self.score),
            "timing_ms": None if self.timing_ms is None else round(self.timing_ms),
            "worst_part": self.worst_part,
            "mirrored": self.mirrored,
            "parts": {part: _rounded(score) for part, score in self.part_scores.items()},
        }


@dataclass(frozen=True)
class Comparison:
    """A student's clip against a teacher's: ``result.json``'s ``comparison``.

    ``alignment_map``: (k, 2) monotonic pairs ``[student_ms, teacher_ms]``;
    ``time_offset_ms``: the student's clip time at which the teacher's clip time 0
    falls (positive: the student appears later in their clip, e.g. started recording
    earlier); ``tempo_ratio``: the student's tempo over the teacher's (0.8: slower).
    """

    reference: Mapping[str, Any]
    overall: float | None
    mirrored: bool
    time_offset_ms: float
    tempo_ratio: float
    method: str
    alignment_map: FloatArray
    parts: Mapping[str, float | None]
    segments: Sequence[Segment]
    formula_version: str
    feedback: Sequence[Mapping[str, Any]] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"comparison": {...}, "feedback": [...]}`` with the issue's fixed names."""
        return {
            "comparison": {
                "reference": dict(self.reference),
                "overall": _rounded(self.overall),
                "mirrored": self.mirrored,
                "time_offset_ms": round(self.time_offset_ms, 1),
                "tempo_ratio": round(self.tempo_ratio, 4),
                "alignment": {
                    "method": self.method,
                    "map": [[round(s, 1), round(t, 1)] for s, t in self.alignment_map.tolist()],
                },
                "parts": {name: _rounded(score) for name, score in self.parts.items()},
                "segments": [segment.to_dict() for segment in self.segments],
                "formula_version": self.formula_version,
            },
            "feedback": [dict(item) for item in self.feedback],
        }


def _rounded(score: float | None) -> float | None:
    value = finite_or_none(score)
    return None if value is None else round(value, 1)
