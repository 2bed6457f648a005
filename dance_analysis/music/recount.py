"""Move the "1" of a finished analysis: counts, timing and feedback again, no model.

A tracker can take the wrong beat for the "1" (a pick-up, a loud snare on 2); the coach
knows better. :func:`move_one` rewrites a ``result.json`` dict from what it already holds:
the beats give the new downbeats and counts (:func:`~dance_analysis.music.model.recount`),
the dancer's accents in ``timing.accents_ms`` give the timing against the new phrases
(:func:`~dance_analysis.analysis.timing.timing_from_accents`), and every feedback item
gets its count again. Neither the audio nor the video is decoded; the pose model never
runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dance_analysis.analysis.timing import timing_feedback, timing_from_accents, with_counts
from dance_analysis.errors import DanceAnalysisError, InvalidRequest, Reason
from dance_analysis.music.model import Count, Music, with_first_downbeat

#: ``music.one_set_by`` once a coach has moved the "1" (absent while the tracker's stands).
SET_BY_COACH = "coach"

# Timing items written before they carried ``topic`` (issue 8's first results).
_TIMING_OPENINGS = ("Counts ", "Overall you are ", "No steps or hits found")


class NoMusic(DanceAnalysisError):
    """The clip has no beats, so there is no "1" to move."""

    http_status = 409

    def __init__(self) -> None:
        super().__init__(
            Reason.NO_MUSIC,
            "This clip has no music with a beat to count, so there is no “1” to move.",
        )


def music_from_result(data: Mapping[str, Any]) -> Music:
    """The :class:`Music` a result's ``music`` was written from (rounded to 0.1 ms)."""
    beats = [float(t) for t in data.get("beats_ms") or ()]
    counts = [
        Count(t_ms=float(c["t_ms"]), count=int(c["count"]), phrase=int(c["phrase"]))
        for c in data.get("counts") or ()
    ]
    first = _nearest(beats, counts[0].t_ms) if counts and beats else 0
    confidence = float(data.get("confidence") or 0.0)
    return Music(
        present=bool(data.get("present")),
        style=str(data.get("style") or ""),
        method=str(data.get("method") or ""),
        reason=data.get("reason"),
        tempo_bpm=None if data.get("tempo_bpm") is None else float(data["tempo_bpm"]),
        beats_per_bar=int(data.get("beats_per_bar") or 4),
        beats_ms=beats,
        downbeats_ms=[float(t) for t in data.get("downbeats_ms") or ()],
        counts=counts,
        confidence=confidence,
        first_downbeat=first,
    )


def first_one_ms(music: Mapping[str, Any]) -> float | None:
    """When the first counted "1" sounds, or None without counts."""
    counts = music.get("counts") or ()
    return float(counts[0]["t_ms"]) if counts else None


def move_one(
    result: Mapping[str, Any], *, one_ms: float | None = None, shift_beats: int | None = None
) -> dict[str, Any]:
    """``result`` with the "1" on the beat nearest ``one_ms``, or moved by ``shift_beats``.

    Exactly one of the two is given. ``shift_beats=1`` makes the beat after today's "1"
    the new "1" (the counts slide one beat later). Returns a new dict; ``result`` is not
    changed. Raises :class:`NoMusic` when the result has no counted beats and
    :class:`InvalidRequest` for a bad pair of arguments.
    """
    if (one_ms is None) == (shift_beats is None):
        raise InvalidRequest("Give either the moment of the new “1” or a shift in beats.")
    music = music_from_result(result.get("music") or {})
    if not music.present or not music.beats_ms or not music.counts:
        raise NoMusic()
    if one_ms is not None:
        first = _nearest(music.beats_ms, float(one_ms))
    else:
        assert shift_beats is not None
        first = music.first_downbeat + int(shift_beats)
    moved = with_first_downbeat(music, first)
    music_out = {**dict(result["music"]), **moved.to_dict(), "one_set_by": SET_BY_COACH}
    counts = music_out["counts"]

    accents = [float(a) for a in (result.get("timing") or {}).get("accents_ms") or ()]
    timing = timing_from_accents(accents, moved.beats_ms, counts)
    others = [item for item in result.get("feedback") or () if not is_timing_item(item)]
    fps = (result.get("video") or {}).get("fps")
    items = others + timing_feedback(
        timing, counts, moved.beats_per_bar, fps=None if fps is None else float(fps)
    )
    items.sort(key=lambda item: float(item["time_ms"]))
    return {
        **dict(result),
        "music": music_out,
        "timing": timing.to_dict(),
        "feedback": with_counts(items, counts),
    }


def is_timing_item(item: Mapping[str, Any]) -> bool:
    """A feedback item about timing (recomputed with the counts), not about the body."""
    if "topic" in item:
        return bool(item["topic"] == "timing")
    return not item.get("joints") and str(item.get("message", "")).startswith(_TIMING_OPENINGS)


def _nearest(times: list[float], t_ms: float) -> int:
    return min(range(len(times)), key=lambda i: abs(times[i] - t_ms))
