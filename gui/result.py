"""A finished analysis loaded from ``result.json`` (and ``people.json`` beside it) into
arrays the views draw from.

Loading parses JSON and is done on a background thread (:mod:`gui.tasks`); the
views receive the finished :class:`ClipResult`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Music:
    """``result.json``'s ``music`` as the count ruler and the plot draw it.

    ``beats_ms``, ``downbeats_ms``: (n,) ms on the clip's clock. ``counts``: (m,) times
    with ``count_numbers`` (1–8) and ``phrases`` (0-based) beside them. Empty arrays and
    ``present`` False when the clip has no music (``reason`` says why).
    """

    present: bool
    reason: str | None
    tempo_bpm: float | None
    beats_per_bar: int
    beats_ms: FloatArray
    downbeats_ms: FloatArray
    counts_ms: FloatArray
    count_numbers: npt.NDArray[np.int64]
    phrases: npt.NDArray[np.int64]
    style: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Music:
        counts = data.get("counts") or []
        return cls(
            present=bool(data.get("present", False)),
            reason=data.get("reason"),
            tempo_bpm=None if data.get("tempo_bpm") is None else float(data["tempo_bpm"]),
            beats_per_bar=int(data.get("beats_per_bar") or 4),
            beats_ms=np.array(data.get("beats_ms") or [], dtype=np.float64),
            downbeats_ms=np.array(data.get("downbeats_ms") or [], dtype=np.float64),
            counts_ms=np.array([float(c["t_ms"]) for c in counts], dtype=np.float64),
            count_numbers=np.array([int(c["count"]) for c in counts], dtype=np.int64),
            phrases=np.array([int(c["phrase"]) for c in counts], dtype=np.int64),
            style=str(data.get("style") or ""),
        )


@dataclass(frozen=True, eq=False)
class OtherPerson:
    """Someone in a frame who is not the analysed dancer, as people.json has them.

    ``points``: (33, 2) x, y normalised 0–1 to the displayed frame, NaN where the model
    is unsure of the joint. ``box``: normalised ``(x0, y0, x1, y1)``.
    """

    id: int
    points: FloatArray
    box: tuple[float, float, float, float]


def load_others(
    data: dict[str, Any], dancer_id: int | None, visibility_min: float = 0.5
) -> tuple[tuple[OtherPerson, ...], ...]:
    """people.json's frames as the others in each frame (everyone but ``dancer_id``)."""
    frames = []
    for frame in data.get("frames") or []:
        others = []
        for person in frame.get("people") or []:
            if person["id"] == dancer_id:
                continue
            raw = np.array(
                [[np.nan if v is None else v for v in p] for p in person["landmarks"]],
                dtype=np.float64,
            )
            points = raw[:, :2].copy()
            points[~(raw[:, 2] >= visibility_min)] = np.nan
            x0, y0, x1, y1 = (float(v) for v in person["box"])
            others.append(OtherPerson(int(person["id"]), points, (x0, y0, x1, y1)))
        frames.append(tuple(others))
    return tuple(frames)


@dataclass(frozen=True, eq=False)
class ClipResult:
    """What the player and the analysis views need from one result.

    ``t_ms``: (n,) presentation times in ms. ``landmarks``: (n, k, 2) x, y normalised
    0–1 to the displayed frame, NaN where nothing was found. ``angles``: name → (n,)
    degrees, NaN where unmeasured. ``dancer_id``: whom the landmarks are of;
    ``others``: per frame, everyone else found (from people.json; empty without it).
    """

    t_ms: FloatArray
    landmarks: FloatArray
    bones: tuple[tuple[int, int], ...]
    joints: tuple[str, ...]
    angles: dict[str, FloatArray]
    summary: dict[str, dict[str, float | None]]
    metrics: dict[str, Any]
    feedback: list[dict[str, Any]]
    video: dict[str, Any] = field(default_factory=dict)
    music: Music = field(default_factory=lambda: Music.from_dict({}))
    timing: dict[str, Any] = field(default_factory=dict)
    dancer_id: int | None = None
    people_seen: int = 0
    others: tuple[tuple[OtherPerson, ...], ...] = ()

    def others_at(self, index: int) -> tuple[OtherPerson, ...]:
        return self.others[index] if 0 <= index < len(self.others) else ()

    @property
    def frame_count(self) -> int:
        return int(self.t_ms.shape[0])

    @classmethod
    def load(cls, path: Path) -> ClipResult:
        """result.json at ``path``, with the people.json beside it when there is one."""
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
        people_name = (data.get("artifacts") or {}).get("people")
        people = None
        if people_name and (path.parent / people_name).is_file():
            with (path.parent / people_name).open(encoding="utf-8") as handle:
                people = json.load(handle)
        return cls.from_dict(data, people)

    @classmethod
    def from_dict(cls, data: dict[str, Any], people: dict[str, Any] | None = None) -> ClipResult:
        frames = data.get("frames") or []
        skeleton = data.get("skeleton") or {}
        joints = tuple(skeleton.get("joints") or ())
        count = len(joints)
        t_ms = np.array([float(frame["t_ms"]) for frame in frames], dtype=np.float64)
        landmarks = np.full((len(frames), count, 2), np.nan)
        for index, frame in enumerate(frames):
            # The cleaned series is what the metrics used; fall back to the raw one.
            points = frame.get("clean_landmarks") or frame.get("landmarks")
            if points:
                landmarks[index] = [
                    (np.nan, np.nan) if p is None or p[0] is None else (p[0], p[1]) for p in points
                ]
        angles_block = data.get("angles") or {}
        angles = {
            name: np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            for name, values in (angles_block.get("series") or {}).items()
        }
        return cls(
            t_ms=t_ms,
            landmarks=landmarks,
            bones=tuple((int(a), int(b)) for a, b in skeleton.get("bones") or ()),
            joints=joints,
            angles=angles,
            summary=dict(angles_block.get("summary") or {}),
            metrics=dict(data.get("metrics") or {}),
            feedback=list(data.get("feedback") or []),
            video=dict(data.get("video") or {}),
            music=Music.from_dict(data.get("music") or {}),
            timing=dict(data.get("timing") or {}),
            dancer_id=data.get("dancer_id"),
            people_seen=int(data.get("people_seen") or 0),
            others=(
                ()
                if people is None
                else load_others(
                    people,
                    data.get("dancer_id"),
                    float((data.get("options") or {}).get("visibility_min", 0.5)),
                )
            ),
        )

    def frame_at(self, t_ms: float) -> int:
        """The frame shown at time ``t_ms`` (the last one that started at or before it)."""
        if self.frame_count == 0:
            return 0
        index = int(np.searchsorted(self.t_ms, t_ms + 1e-6, side="right")) - 1
        return min(max(index, 0), self.frame_count - 1)
