"""Every person of a clip as a track, and the rule that chooses the one dancer analysed.

The estimator gives each person an id that stays theirs through the clip; this module
gathers what each id did (the frames they were in, their boxes) and chooses the
dancer whom angles, feedback, counts and comparison are about:

    score = frames seen × median box area × centrality

``frames seen``: in how many frames the person was found; ``median box area``: the
median of their box's area, as a fraction of the frame's (how big they are, robust to
a few bad boxes); ``centrality``: 1 for a median box centre in the middle of the
frame, falling linearly to 0.5 in a corner (distance measured in pixels, so a portrait
frame's height counts as height). Equal scores go to the lower id (the one seen
first). A user's choice (``--dancer``, ``dancer_id``) overrides the rule; an id nobody
had is refused with ``no_such_dancer``. The choice is made once for the whole clip, so
the analysed dancer never jumps to someone else.

The same rule over the frames so far gives the *leader*, the provisional choice the
overlay is drawn with while the model runs. numpy only.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dance_analysis.errors import MediaError, Reason
from dance_analysis.pose.base import PersonPose

_TIE = 1e-9  # relative: scores closer than this are equal (then the lower id wins)


@dataclass
class Track:
    """One person through the clip, gathered frame by frame.

    Areas and centres are kept sorted as they arrive, so the median (and so the
    leader) costs nothing per frame, however long the clip.
    """

    id: int
    first_ms: float
    last_ms: float = 0.0
    frames: int = 0
    _areas: list[float] = field(default_factory=list, repr=False)
    _xs: list[float] = field(default_factory=list, repr=False)
    _ys: list[float] = field(default_factory=list, repr=False)

    def add(self, t_ms: float, box: Sequence[float]) -> None:
        x0, y0, x1, y1 = (float(v) for v in box)
        self.last_ms = t_ms
        self.frames += 1
        bisect.insort(self._areas, max(x1 - x0, 0.0) * max(y1 - y0, 0.0))
        bisect.insort(self._xs, (x0 + x1) / 2)
        bisect.insort(self._ys, (y0 + y1) / 2)

    @staticmethod
    def _median(values: list[float]) -> float:
        middle = len(values) // 2
        if len(values) % 2:
            return values[middle]
        return (values[middle - 1] + values[middle]) / 2

    @property
    def median_area(self) -> float:
        """Median box area, as a fraction of the frame's."""
        return self._median(self._areas) if self._areas else 0.0

    @property
    def median_centre(self) -> tuple[float, float]:
        """Median box centre, normalised 0–1."""
        if not self._xs:
            return (0.5, 0.5)
        return self._median(self._xs), self._median(self._ys)


def centrality(centre: tuple[float, float], width: int, height: int) -> float:
    """1 in the middle of the frame, 0.5 in a corner, linear in the distance in pixels."""
    dx = (centre[0] - 0.5) * width
    dy = (centre[1] - 0.5) * height
    distance = float(np.hypot(dx, dy) / np.hypot(width / 2, height / 2))
    return 1.0 - 0.5 * min(distance, 1.0)


def dancer_score(track: Track, width: int, height: int) -> float:
    """The rule: frames seen × median box area × centrality."""
    return track.frames * track.median_area * centrality(track.median_centre, width, height)


def no_such_dancer(wanted_id: int, ids: Iterable[int]) -> MediaError:
    """The ``no_such_dancer`` error, its sentence naming the ids there are."""
    seen = sorted(ids)
    if not seen:
        there = "Nobody was found in the clip."
    elif len(seen) == 1:
        there = f"The clip has one dancer, id {seen[0]}."
    else:
        there = f"The dancers in the clip have ids {', '.join(map(str, seen[:-1]))} and {seen[-1]}."
    return MediaError(
        Reason.NO_SUCH_DANCER, f"There is no dancer {wanted_id} in this clip. {there}"
    )


def choose_dancer(
    tracks: Mapping[int, Track], frame_size: tuple[int, int], wanted_id: int | None = None
) -> int | None:
    """The dancer the analysis is about: ``wanted_id`` when given, else the best score.

    ``frame_size``: (width, height) of the displayed frame in pixels. None when nobody
    was found and nobody was asked for. Raises ``MediaError(no_such_dancer)`` when
    ``wanted_id`` names no track; its sentence lists the ids there are.
    """
    if wanted_id is not None:
        if wanted_id not in tracks:
            raise no_such_dancer(wanted_id, tracks)
        return wanted_id
    width, height = frame_size
    best_id, best_score = None, -1.0
    for track_id in sorted(tracks):  # ascending, and only a clearly better score wins
        score = dancer_score(tracks[track_id], width, height)
        if best_id is None or score > best_score * (1 + _TIE):
            best_id, best_score = track_id, score
    return best_id


class People:
    """Every person found so far: their tracks, the most in one frame, the leader."""

    def __init__(self, frame_size: tuple[int, int], wanted_id: int | None = None) -> None:
        self.frame_size = frame_size
        self.wanted_id = wanted_id
        self.tracks: dict[int, Track] = {}
        self.people_seen = 0  # the most people in one frame

    def add(self, t_ms: float, people: Iterable[PersonPose]) -> None:
        count = 0
        for person in people:
            count += 1
            track = self.tracks.get(person.id)
            if track is None:
                track = self.tracks[person.id] = Track(person.id, first_ms=t_ms)
            track.add(t_ms, person.box)
        self.people_seen = max(self.people_seen, count)

    def leader(self) -> int | None:
        """The provisional choice: the user's dancer if one was asked for (even before
        they appear), else the best by the rule over the frames so far."""
        if self.wanted_id is not None:
            return self.wanted_id
        return choose_dancer(self.tracks, self.frame_size)

    def choose(self) -> int | None:
        """The final choice for the whole clip (see :func:`choose_dancer`)."""
        return choose_dancer(self.tracks, self.frame_size, self.wanted_id)

    def summary(self, chosen: int | None) -> list[dict[str, Any]]:
        """result.json's ``people``: ``[{id, first_ms, last_ms, frames, chosen}]`` by id."""
        return [
            {
                "id": track.id,
                "first_ms": round(track.first_ms, 3),
                "last_ms": round(track.last_ms, 3),
                "frames": track.frames,
                "chosen": track.id == chosen,
            }
            for track in sorted(self.tracks.values(), key=lambda t: t.id)
        ]
