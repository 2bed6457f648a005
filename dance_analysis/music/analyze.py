"""From a clip (or samples) to :class:`~dance_analysis.music.model.Music`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dance_analysis.music.model import NO_AUDIO, Music, with_first_downbeat
from dance_analysis.music.styles import get_style

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: Says which tracker made a result; bump when the method changes what it finds.
METHOD = "flux-dp-2"


def analyze_samples(
    samples: NDArray[np.float32], rate: int, *, style: str | None = None, start_s: float = 0.0
) -> Music:
    """The music in mono ``samples`` whose first sample lies at ``start_s`` on the clip's clock.

    Raises ``unknown_style`` for a style name we do not know.
    """
    from dance_analysis.music.beats import Track, analyse

    chosen = get_style(style)
    found = analyse(samples, rate, chosen)
    if not isinstance(found, Track):
        return Music.absent(
            found, style=chosen.name, method=METHOD, beats_per_bar=chosen.beats_per_bar
        )
    beats_ms = [float((start_s + t) * 1000.0) for t in found.beats_s]
    music = Music(
        present=True,
        style=chosen.name,
        method=METHOD,
        tempo_bpm=found.tempo_bpm,
        beats_per_bar=found.beats_per_bar,
        beats_ms=beats_ms,
        confidence=min(found.tempo_confidence, found.beat_confidence, found.downbeat_confidence),
        tempo_confidence=found.tempo_confidence,
        beat_confidence=found.beat_confidence,
        downbeat_confidence=found.downbeat_confidence,
    )
    return with_first_downbeat(music, found.first_downbeat)


def analyze_music(
    path: Path,
    *,
    style: str | None = None,
    video_start_s: float | None = None,
    max_seconds: float | None = None,
) -> Music:
    """The music of ``path``'s first audio track, on the clip's clock (ms from the first frame).

    ``video_start_s``: the video's first presentation time (the probe's ``start_pts``
    times its time base); see :func:`dance_analysis.music.audio.load_audio`. The style
    is checked before anything is decoded, so a wrong name fails at once.
    """
    from dance_analysis.music.audio import load_audio

    chosen = get_style(style)
    audio = load_audio(path, video_start_s=video_start_s, max_seconds=max_seconds)
    if audio is None:
        return Music.absent(
            NO_AUDIO, style=chosen.name, method=METHOD, beats_per_bar=chosen.beats_per_bar
        )
    return analyze_samples(audio.samples, audio.rate, style=chosen.name, start_s=audio.start_s)
