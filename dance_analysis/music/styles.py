"""The dance styles the tempo search knows: a tempo range and a metre for each.

A style is a prior, not a filter on the music: it tells the tempo search where to look,
so that a cha-cha is not read at half or double time. The ten DanceSport styles carry
their competition tempi (WDSF, in bars per minute) converted to beats per minute
(bars x beats per bar, counting the 2/4 dances, samba and paso doble, in the four
counts dancers use). Practice music is rarely at competition tempo, so the search range
is that tempo widened by about a fifth each way: still far less than an octave, which is
what keeps half and double time out. The social and open styles have wide ranges and a
weak pull towards a typical tempo.
"""

from __future__ import annotations

from dataclasses import dataclass

from dance_analysis.errors import UnknownStyle

#: The style used when the user names none.
DEFAULT_STYLE = "auto"


@dataclass(frozen=True)
class Style:
    """How to look for the beat of one dance style."""

    name: str
    min_bpm: float  # the search range, beats per minute
    max_bpm: float
    centre_bpm: float  # the most likely tempo: where the prior peaks
    spread_octaves: float  # the prior's width (standard deviation, in octaves)
    beats_per_bar: int
    competition_bpm: tuple[float, float] | None = None  # WDSF tempo, for the record
    # Which beat of the bar (0-based) carries the bass and chord accents when the bass
    # anticipates. Salsa's bass tumbao plays on the "and" of 2 and on 4 and ties over
    # the "1", and its piano anticipates the next chord: the accents fall on the 4
    # (index 3). 0: the accented beat is the "1" (a bass on the "1" keeps it so even
    # in a salsa; see beats.ANTICIPATED_BASS_RATIO).
    accent_beat: int = 0


def _ballroom(name: str, bars_per_minute: tuple[float, float], beats_in_bar: int) -> Style:
    """A DanceSport style from its WDSF tempo in bars per minute.

    ``beats_in_bar`` is the music's own bar (3 for the waltzes, 2 for the 2/4 dances
    samba and paso doble, 4 otherwise). Dancers count the 2/4 dances in fours (a
    figure spans two bars), so their metre here is 4.
    """
    low = bars_per_minute[0] * beats_in_bar
    high = bars_per_minute[1] * beats_in_bar
    return Style(
        name=name,
        min_bpm=round(low * 0.8, 1),
        max_bpm=round(high * 1.2, 1),
        centre_bpm=(low + high) / 2,
        spread_octaves=0.15,
        beats_per_bar=3 if beats_in_bar == 3 else 4,
        competition_bpm=(low, high),
    )


_STYLES: tuple[Style, ...] = (
    # WDSF competition tempi, bars per minute.
    _ballroom("waltz", (28, 30), 3),  # 84-90 BPM
    _ballroom("tango", (31, 33), 4),  # 124-132 BPM
    _ballroom("viennese-waltz", (58, 60), 3),  # 174-180 BPM
    _ballroom("foxtrot", (28, 30), 4),  # 112-120 BPM
    _ballroom("quickstep", (50, 52), 4),  # 200-208 BPM
    _ballroom("samba", (50, 52), 2),  # 100-104 BPM
    _ballroom("cha-cha", (30, 32), 4),  # 120-128 BPM
    _ballroom("rumba", (25, 27), 4),  # 100-108 BPM
    _ballroom("paso-doble", (60, 62), 2),  # 120-124 BPM
    _ballroom("jive", (42, 44), 4),  # 168-176 BPM
    # Social and open styles: typical ranges of their music.
    Style("salsa", 150.0, 230.0, 190.0, 0.25, 4, accent_beat=3),
    Style("bachata", 105.0, 155.0, 128.0, 0.25, 4),
    Style("west-coast-swing", 75.0, 135.0, 100.0, 0.3, 4),
    Style("hip-hop", 70.0, 135.0, 95.0, 0.35, 4),
    Style("contemporary", 55.0, 170.0, 100.0, 0.6, 4),
    Style("ballet", 50.0, 180.0, 100.0, 0.7, 4),
    # Auto: from a slow waltz to a quickstep; slower pieces need a named style (ballet,
    # contemporary), which keeps half-time readings of a fast groove out.
    Style("auto", 70.0, 215.0, 120.0, 1.0, 4),
)

STYLES: dict[str, Style] = {s.name: s for s in _STYLES}

#: Every name a user may give, in the order the issue lists them.
STYLE_NAMES: tuple[str, ...] = tuple(s.name for s in _STYLES)


def get_style(name: str | None) -> Style:
    """The style called ``name`` (None or "" means :data:`DEFAULT_STYLE`).

    Raises :class:`~dance_analysis.errors.UnknownStyle` (``unknown_style``) otherwise:
    the name comes from the user.
    """
    key = (name or DEFAULT_STYLE).strip().lower()
    try:
        return STYLES[key]
    except KeyError:
        raise UnknownStyle(name or "", STYLE_NAMES) from None
