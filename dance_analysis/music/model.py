"""The music outcome (``result.json``'s ``music``) and its 8-counts.

Counts are phrases of eight beats that start on a downbeat: the "1" dancers count
from. For a metre of three (the waltzes) a phrase is two bars, counted 1-6, so that
every phrase still starts on a downbeat. :func:`recount` moves the "1" (the coach's
"that is not the 1") and recomputes downbeats and counts from the beats alone: no
audio, no model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# Why there is no music to count (``present: false``). Not errors: a clip without
# music is a fine clip.
NO_AUDIO = "no_audio"  # no audio track (or none that decodes)
SILENCE = "silence"  # a track, but nothing audible on it
TOO_SHORT = "too_short"  # too little sound for a few beats
NO_STEADY_BEAT = "no_steady_beat"  # sound without a pulse: speech, noise, free rhythm


@dataclass(frozen=True)
class Count:
    t_ms: float
    count: int  # 1 .. beats_per_phrase
    phrase: int  # 0-based


def beats_per_phrase(beats_per_bar: int) -> int:
    """Eight counts; two bars for a metre whose bars do not divide eight (3/4: six)."""
    return 8 if 8 % beats_per_bar == 0 else 2 * beats_per_bar


def make_counts(beats_ms: list[float], first_one: int, beats_per_bar: int) -> list[Count]:
    """Counts for ``beats_ms`` with the beat at index ``first_one`` a "1".

    The phrase grid runs both ways from that beat; the first counted beat is the first
    "1" of the grid, so the counts always start on a downbeat. Beats before it (a
    pick-up of less than a phrase) have no count.
    """
    length = beats_per_phrase(beats_per_bar)
    start = first_one % length
    return [
        Count(t_ms=beats_ms[i], count=(i - start) % length + 1, phrase=(i - start) // length)
        for i in range(start, len(beats_ms))
    ]


@dataclass(frozen=True)
class Music:
    """What the clip's music says: tempo, beats, bars and counts, or why there is none.

    ``confidence`` (0..1) is the weakest of the three findings' own confidences, which
    are kept too: ``tempo_confidence`` (how clear the pulse is), ``beat_confidence``
    (how well the beats sit on onsets) and ``downbeat_confidence`` (how clearly one bar
    phase is accented over the others).
    """

    present: bool
    style: str
    method: str
    reason: str | None = None
    tempo_bpm: float | None = None
    beats_per_bar: int = 4
    beats_ms: list[float] = field(default_factory=list)
    downbeats_ms: list[float] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    confidence: float = 0.0
    tempo_confidence: float = 0.0
    beat_confidence: float = 0.0
    downbeat_confidence: float = 0.0
    first_downbeat: int = 0  # index into beats_ms of the first "1"

    @classmethod
    def absent(cls, reason: str, *, style: str, method: str, beats_per_bar: int = 4) -> Music:
        return cls(
            present=False, reason=reason, style=style, method=method, beats_per_bar=beats_per_bar
        )

    def to_dict(self) -> dict[str, Any]:
        """``result.json``'s ``music``, with the field names the issue fixes."""
        out: dict[str, Any] = {"present": self.present}
        if self.reason is not None:
            out["reason"] = self.reason
        out.update(
            tempo_bpm=None if self.tempo_bpm is None else round(self.tempo_bpm, 2),
            beats_per_bar=self.beats_per_bar,
            beats_ms=[round(t, 1) for t in self.beats_ms],
            downbeats_ms=[round(t, 1) for t in self.downbeats_ms],
            counts=[
                {"t_ms": round(c.t_ms, 1), "count": c.count, "phrase": c.phrase}
                for c in self.counts
            ],
            confidence=round(self.confidence, 3),
            style=self.style,
            method=self.method,
        )
        return out


def with_first_downbeat(music: Music, first: int) -> Music:
    """``music`` with the beat at index ``first`` a "1": downbeats and counts follow."""
    bpb = music.beats_per_bar
    phase = first % bpb
    downbeats = music.beats_ms[phase::bpb]
    counts = make_counts(music.beats_ms, first, bpb)
    return replace(music, downbeats_ms=downbeats, counts=counts, first_downbeat=phase)


def recount(music: Music, one_ms: float) -> Music:
    """Move the "1" to the beat nearest ``one_ms`` (the coach's correction).

    Downbeats and counts are recomputed from the beats; the beats, the tempo and the
    audio are untouched. Without music there is nothing to move: ``music`` comes back.
    """
    if not music.present or not music.beats_ms:
        return music
    nearest = min(range(len(music.beats_ms)), key=lambda i: abs(music.beats_ms[i] - one_ms))
    return with_first_downbeat(music, nearest)
