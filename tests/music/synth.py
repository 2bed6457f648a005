"""Music with a known beat, made at test time: drums, bass, a pad and noise.

Not a metronome: a kick (loud on the bar's "1", softer on the middle beat), a snare on
the backbeats, hi-hats on the eighths, a bass that changes note on every bar, a
sustained pad with vibrato, room noise, and every hit played up to a few ms early or
late. The ground truth is the nominal grid: ``offset_s + k * 60 / bpm``.

    song = drum_song(124, seconds=6, offset_s=0.37)
    clip = mux_under_video(song, tmp_path / "clip.mp4")
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tests.media import SMALL, SQUATS, ffmpeg, make_clip

RATE = 44_100


@dataclass(frozen=True)
class Song:
    samples: NDArray[np.float32]
    rate: int
    beats_s: NDArray[np.float64]  # nominal beat times, seconds from the song's start
    downbeats_s: NDArray[np.float64]
    bpm: float
    beats_per_bar: int


def _env(n: int, decay_s: float, rate: int) -> NDArray[np.float64]:
    return np.exp(-np.arange(n) / (decay_s * rate))


def _add(out: NDArray[np.float64], at_s: float, sound: NDArray[np.float64], rate: int) -> None:
    i = round(at_s * rate)
    if i >= out.size or i < 0:
        return
    n = min(sound.size, out.size - i)
    out[i : i + n] += sound[:n]


def drum_song(
    bpm: float,
    *,
    seconds: float = 6.0,
    offset_s: float = 0.25,
    beats_per_bar: int = 4,
    half_time_accents: bool = False,
    drift: float = 0.0,
    seed: int = 0,
    rate: int = RATE,
) -> Song:
    """``seconds`` of a groove at ``bpm`` whose first downbeat is at ``offset_s``.

    ``half_time_accents``: only every other beat carries a drum hit (kick, then
    snare), the beats between only a soft bass note, so it reads as well at half tempo.
    ``drift``: the tempo glides from ``bpm * (1 - drift)`` to ``bpm * (1 + drift)``
    (a band pushing); ``beats_s`` are then the played beats, ``bpm`` their mean rate.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n, dtype=np.float64)
    period = 60.0 / bpm
    count = int((seconds - offset_s) / period * (1 + drift)) + 2
    ramp = np.linspace(1 - drift, 1 + drift, count)
    beats = offset_s + np.concatenate([[0.0], np.cumsum(period / ramp[:-1])])
    beats = beats[beats < seconds - 0.05]

    t_kick = np.arange(int(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 * t_kick + (120 - 50) * 0.03 * (1 - np.exp(-t_kick / 0.03))))
    kick *= _env(t_kick.size, 0.08, rate)
    snare = rng.standard_normal(int(0.15 * rate)) * _env(int(0.15 * rate), 0.04, rate)
    snare += (
        0.5 * np.sin(2 * np.pi * 190 * np.arange(snare.size) / rate) * _env(snare.size, 0.05, rate)
    )
    hat_noise = rng.standard_normal(int(0.05 * rate))
    hat = np.diff(hat_noise, prepend=0.0) * _env(hat_noise.size, 0.01, rate)  # bright
    bass_notes = (55.0, 73.42, 65.41, 49.0)
    pad_notes = (220.0, 293.66, 261.63, 196.0)

    def jitter() -> float:
        return float(rng.uniform(-0.006, 0.006))

    for k, t in enumerate(beats):
        bar, beat = divmod(k, beats_per_bar)
        if half_time_accents:
            # Hits on every other beat only (kick, then snare); the beats between
            # carry a soft bass note and nothing else.
            if k % 2 == 0:
                _add(out, t + jitter(), (1.0 if k % 4 == 0 else 0.5) * kick, rate)
                _add(out, t + jitter(), (0.0 if k % 4 == 0 else 0.45) * snare, rate)
                _add(out, t + jitter(), 0.2 * hat, rate)
        else:
            if beat == 0:
                _add(out, t + jitter(), 1.0 * kick, rate)
            elif beats_per_bar == 4 and beat == 2:
                _add(out, t + jitter(), 0.55 * kick, rate)
            else:
                _add(out, t + jitter(), 0.45 * snare, rate)  # the backbeats
            for half in (0.0, 0.5):
                _add(out, t + half * period + jitter(), (0.12 if half else 0.2) * hat, rate)
        # Bass: a note on each beat, the pitch changing with the bar.
        f = bass_notes[bar % len(bass_notes)]
        length = int(0.9 * period * rate)
        tt = np.arange(length) / rate
        note = np.sin(2 * np.pi * f * tt) * _env(length, 0.25 * period, rate)
        level = 0.1 if half_time_accents and k % 2 else (0.45 if beat == 0 else 0.25)
        _add(out, t + jitter(), level * note, rate)
    # A pad (a "voice") that glides between chords on the bar lines, with vibrato.
    t_all = np.arange(n) / rate
    bar_index = np.clip(((t_all - offset_s) // (period * beats_per_bar)).astype(int), 0, None)
    pad_f = np.asarray(pad_notes)[bar_index % len(pad_notes)]
    phase = 2 * np.pi * np.cumsum(pad_f * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t_all))) / rate
    out += 0.06 * np.sin(phase) + 0.03 * np.sin(1.5 * phase)
    out += 0.01 * rng.standard_normal(n)  # room noise
    out /= max(1.0, float(np.max(np.abs(out))) / 0.9)
    downbeats = beats[::beats_per_bar]
    played_bpm = 60.0 / float(np.mean(np.diff(beats)))
    return Song(out.astype(np.float32), rate, beats, downbeats, played_bpm, beats_per_bar)


#: Drum patterns of one 4/4 bar: (position in beats, instrument, level). The bass
#: and pad of :func:`groove` play under them.
PATTERNS: dict[str, list[tuple[float, str, float]]] = {
    # Four on the floor: a kick on every beat, claps on 2 and 4, open hats between.
    "house": [(b, "kick", 1.0) for b in range(4)]
    + [(1, "snare", 0.5), (3, "snare", 0.5)]
    + [(b + 0.5, "hat", 0.3) for b in range(4)],
    # "2, 3, 4-and-1": the cha-cha's chasse on the "and" of four.
    "cha-cha": [(0, "kick", 1.0), (2, "kick", 0.6), (1, "snare", 0.4), (3, "snare", 0.4)]
    + [(3.5, "snare", 0.4)]
    + [(b * 0.5, "hat", 0.15) for b in range(8)],
    # Reggaeton's dembow: kick on every beat, snares off the beat.
    "dembow": [(b, "kick", 1.0 if b == 0 else 0.8) for b in range(4)]
    + [(0.75, "snare", 0.5), (1.5, "snare", 0.5), (2.75, "snare", 0.5), (3.5, "snare", 0.5)],
    # Salsa-like: a light kick on one, the rest on off-beats and the "and"s.
    "salsa": [(0, "kick", 0.6), (1, "snare", 0.5), (1.5, "snare", 0.4), (3, "snare", 0.5)]
    + [(3.5, "snare", 0.4)]
    + [(b * 0.5, "hat", 0.2) for b in range(8)],
    # Swung eighths (the "and" late, at two thirds of the beat).
    "swing": [(0, "kick", 1.0), (2, "kick", 0.7), (1, "snare", 0.5), (3, "snare", 0.5)]
    + [(b + f, "hat", 0.2) for b in range(4) for f in (0.0, 0.67)],
}


def groove(
    bpm: float, pattern: str, *, seconds: float = 10.0, offset_s: float = 0.3, seed: int = 0
) -> Song:
    """``PATTERNS[pattern]`` in every bar, over a bass and a pad that change on the bar line."""
    rng = np.random.default_rng(seed)
    rate = RATE
    n = int(seconds * rate)
    out = np.zeros(n)
    period = 60.0 / bpm
    t_kick = np.arange(int(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 * t_kick + 70 * 0.03 * (1 - np.exp(-t_kick / 0.03))))
    snare = rng.standard_normal(int(0.15 * rate)) * _env(int(0.15 * rate), 0.04, rate)
    hat_noise = rng.standard_normal(int(0.05 * rate))
    sounds = {
        "kick": kick * _env(t_kick.size, 0.08, rate),
        "snare": snare,
        "hat": np.diff(hat_noise, prepend=0.0) * _env(hat_noise.size, 0.01, rate),
    }
    bars = int((seconds - offset_s) / (4 * period)) + 1
    length = int(0.9 * period * rate)
    tt = np.arange(length) / rate
    for bar in range(bars):
        start = offset_s + bar * 4 * period
        for position, name, level in PATTERNS[pattern]:
            at = start + position * period + rng.uniform(-0.005, 0.005)
            _add(out, at, level * sounds[name], rate)
        f = (55.0, 73.42, 65.41, 49.0)[bar % 4]
        note = np.sin(2 * np.pi * f * tt) * _env(length, 0.25 * period, rate)
        for beat in range(4):
            _add(out, start + beat * period, (0.4 if beat == 0 else 0.2) * note, rate)
    t_all = np.arange(n) / rate
    bar_index = np.clip(((t_all - offset_s) // (4 * period)).astype(int), 0, None)
    pad_f = np.asarray((220.0, 293.66, 261.63, 196.0))[bar_index % 4]
    out += 0.06 * np.sin(2 * np.pi * np.cumsum(pad_f) / rate)
    out += 0.01 * rng.standard_normal(n)
    out /= max(1.0, float(np.max(np.abs(out))) / 0.9)
    beats = offset_s + period * np.arange(bars * 4)
    beats = beats[beats < seconds - 0.05]
    return Song(out.astype(np.float32), rate, beats, beats[::4], bpm, 4)


def speech_like(seconds: float, *, seed: int = 5, rate: int = RATE) -> NDArray[np.float32]:
    """Syllables: voiced harmonics with a gliding pitch, some breath, irregular gaps."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    t = 0.1
    while t < seconds - 0.3:
        length = int(rng.uniform(0.08, 0.25) * rate)
        tt = np.arange(length) / rate
        f0 = rng.uniform(110, 220) * (1 + 0.1 * np.sin(2 * np.pi * 3 * tt))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        syllable = sum(np.sin(k * phase) / k for k in range(1, 12)) * np.hanning(length)
        if rng.random() < 0.3:
            syllable += 0.3 * rng.standard_normal(length) * np.hanning(length)
        _add(out, t, 0.3 * syllable, rate)
        t += length / rate + rng.uniform(0.02, 0.15)
        if rng.random() < 0.15:
            t += rng.uniform(0.2, 0.6)  # a pause between phrases
    return out.astype(np.float32)


def white_noise(seconds: float, *, seed: int = 1, rate: int = RATE) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal(int(seconds * rate))).clip(-1, 1).astype(np.float32)


def write_wav(samples: NDArray[np.float32], path: Path, rate: int = RATE) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def mux_under_video(
    samples: NDArray[np.float32] | None,
    out: Path,
    *,
    seconds: float = 6.0,
    audio_delay_s: float = 0.0,
    video: Path = SQUATS,
    rate: int = RATE,
) -> Path:
    """``video``'s first ``seconds`` (stream copy) with ``samples`` as AAC under it.

    ``audio_delay_s`` starts the sound that much after the first picture (an edit in
    the container, not silence in the samples). None muxes no audio track.
    """
    if samples is None:
        ffmpeg("-i", video, "-t", str(seconds), "-map", "0:v:0", "-c:v", "copy", "-an", out)
        return out
    wav = write_wav(samples, out.with_suffix(".wav"), rate)
    ffmpeg(
        "-i", video, "-itsoffset", str(audio_delay_s), "-i", wav, "-t", str(seconds),
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", out,
    )  # fmt: skip
    return out


def groove_clip(
    folder: Path, seconds: float, *, bpm: float = 124, size: tuple[int, int] | None = SMALL
) -> Path:
    """The squats clip's first ``seconds`` (``size``) over a ``bpm`` drum groove whose
    first beat is at 0.37 s: music under a dancer, so tempo, counts and timing. Writes
    picture.mp4 and groove.mp4 into ``folder``; the latter."""
    picture = make_clip(folder / "picture.mp4", start_s=0.0, seconds=seconds, size=size)
    song = drum_song(bpm, seconds=seconds, offset_s=0.37, seed=int(bpm))
    return mux_under_video(song.samples, folder / "groove.mp4", seconds=seconds, video=picture)


# ---------------------------------------------------------------------------------
# More realistic material: songs with several instruments, each with a known beat and
# "1". Real dance music is not a drum machine: a bass that anticipates the bar, chords
# that swell in slowly, a voice louder than the drums, a clave whose accents fall off
# the beat, swung eighths, a band that drifts, an intro without drums, a phone in a
# room. These songs are made at 22 050 Hz, the rate the app decodes to.

SONG_RATE = 22_050


def _midi(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _beat_grid(
    bpm: float,
    seconds: float,
    offset_s: float,
    *,
    sway: float = 0.0,
    sway_period_s: float = 60.0,
    ritardando: tuple[float, float] | None = None,
) -> NDArray[np.float64]:
    """Beat times from ``offset_s`` to past the end (some beats beyond, to place hits).

    ``sway``: the tempo drifts as ``bpm * (1 + sway * sin(2 pi t / sway_period_s))`` (a
    live band). ``ritardando``: ``(start_s, slowest)``: from ``start_s`` to the end the
    tempo falls linearly to ``slowest`` times ``bpm``.
    """
    beats = [offset_s]
    while beats[-1] < seconds + 4 * 60.0 / bpm:
        t = beats[-1]
        tempo = bpm * (1.0 + sway * np.sin(2 * np.pi * t / sway_period_s))
        if ritardando is not None and t > ritardando[0]:
            done = min(1.0, (t - ritardando[0]) / max(1e-6, seconds - ritardando[0]))
            tempo *= 1.0 - (1.0 - ritardando[1]) * done
        beats.append(t + 60.0 / tempo)
    return np.asarray(beats)


def _at(grid: NDArray[np.float64], position: float) -> float:
    """The time of a fractional beat ``position`` on ``grid`` (linear between beats)."""
    k = int(np.floor(position))
    k = min(max(k, 0), grid.size - 2)
    return float(grid[k] + (position - k) * (grid[k + 1] - grid[k]))


class _Kit:
    """One-shot sounds at ``rate``, made once per song (noise drawn from ``rng``)."""

    def __init__(self, rng: np.random.Generator, rate: int) -> None:
        self.rng = rng
        self.rate = rate
        t = np.arange(int(0.3 * rate)) / rate
        self.kick = np.sin(2 * np.pi * (48 * t + 90 * 0.035 * (1 - np.exp(-t / 0.035)))) * _env(
            t.size, 0.09, rate
        )
        n = int(0.2 * rate)
        body = np.sin(2 * np.pi * 185 * np.arange(n) / rate) * _env(n, 0.05, rate)
        self.snare = rng.standard_normal(n) * _env(n, 0.05, rate) + 0.6 * body
        n = int(0.06 * rate)
        self.hat = np.diff(rng.standard_normal(n), prepend=0.0) * _env(n, 0.012, rate)
        n = int(0.35 * rate)
        self.open_hat = np.diff(rng.standard_normal(n), prepend=0.0) * _env(n, 0.12, rate)
        n = int(0.05 * rate)
        self.clave = np.sin(2 * np.pi * 2500 * np.arange(n) / rate) * _env(n, 0.012, rate)
        n = int(0.25 * rate)
        tt = np.arange(n) / rate
        self.cowbell = (np.sin(2 * np.pi * 560 * tt) + 0.7 * np.sin(2 * np.pi * 845 * tt)) * _env(
            n, 0.06, rate
        )
        n = int(0.12 * rate)
        scrape = rng.standard_normal(n) * np.hanning(n)
        self.guira = np.diff(scrape, prepend=0.0)  # a bright scrape, no sharp attack

    def drum(self, freq: float, *, slap: bool = False, decay_s: float = 0.12) -> NDArray:
        """A hand drum (conga, bongo): a tuned membrane, a slap mostly skin noise."""
        n = int(0.3 * self.rate)
        tt = np.arange(n) / self.rate
        tone = np.sin(2 * np.pi * freq * tt * (1 + 0.08 * np.exp(-tt / 0.01)))
        tone *= _env(n, 0.035 if slap else decay_s, self.rate)
        noise = self.rng.standard_normal(n) * _env(n, 0.015 if slap else 0.006, self.rate)
        return tone * (0.5 if slap else 1.0) + noise * (0.9 if slap else 0.25)


def _note(
    freq: float,
    length_s: float,
    rate: int,
    *,
    partials: int = 8,
    rolloff: float = 1.0,
    attack_s: float = 0.005,
    decay_s: float = 0.5,
    release_s: float = 0.05,
    detune: float = 0.0,
    vibrato: float = 0.0,
) -> NDArray[np.float64]:
    """A harmonic tone: ``partials`` harmonics at 1/k**rolloff, an attack, decay, release.

    ``detune`` (fraction) adds two voices a little sharp and flat (a saw pad);
    ``vibrato`` (fraction) a 5.5 Hz pitch wobble that sets in after 0.2 s (a voice).
    """
    n = int(length_s * rate)
    if n <= 0:
        return np.zeros(0)
    t = np.arange(n) / rate
    wobble = 1 + vibrato * np.sin(2 * np.pi * 5.5 * t) * np.clip((t - 0.2) / 0.3, 0, 1)
    out = np.zeros(n)
    voices = (1.0,) if detune == 0 else (1.0, 1.0 + detune, 1.0 - detune)
    for v in voices:
        phase = 2 * np.pi * np.cumsum(freq * v * wobble) / rate
        for k in range(1, partials + 1):
            if k * freq * v > 0.45 * rate:
                break
            # Higher partials die sooner: a plucked or struck string darkens.
            out += np.sin(k * phase) / k**rolloff * np.exp(-t * (k - 1) / (4 * decay_s))
    shape = np.exp(-t / decay_s) * np.clip(t / max(attack_s, 1e-4), 0, 1)
    r = min(n, int(release_s * rate))
    shape[n - r :] *= np.linspace(1, 0, r)
    return out * shape / len(voices)


def _rms(x: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) + 1e-12


def _mix(stems: dict[str, tuple[NDArray[np.float64], float]], rng: np.random.Generator) -> NDArray:
    """Stems scaled to their relative RMS levels (dB, drums at 0), summed, normalised."""
    drums = _rms(stems["drums"][0]) if "drums" in stems else 1.0
    out = np.zeros_like(next(iter(stems.values()))[0])
    for x, level_db in stems.values():
        if np.any(x):
            out += x * (drums * 10 ** (level_db / 20) / _rms(x))
    out += 0.003 * float(np.max(np.abs(out))) * rng.standard_normal(out.size)
    return out / (float(np.max(np.abs(out))) / 0.9)


def _song(
    out: NDArray[np.float64],
    grid: NDArray[np.float64],
    seconds: float,
    beats_per_bar: int,
    rate: int,
    start_beat: int = 0,
) -> Song:
    beats = grid[(grid < seconds - 0.05)]
    index = np.arange(beats.size)
    downbeats = beats[(index - start_beat) % beats_per_bar == 0]
    bpm = 60.0 / float(np.mean(np.diff(beats)))
    return Song(out.astype(np.float32), rate, beats, downbeats, bpm, beats_per_bar)


#: A-minor pop, Am F C G: the chords' MIDI notes and the bass's roots.
_POP_CHORDS = ((57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62))
_POP_BASS = (45, 41, 48, 43)


def _pad(
    grid: NDArray[np.float64],
    chords: tuple[tuple[int, ...], ...],
    n: int,
    rate: int,
    beats_per_bar: int,
    *,
    first_bar: int = 0,
    bars: int | None = None,
    attack_s: float = 0.25,
    anticipate: float = 0.0,
) -> NDArray[np.float64]:
    """Sustained detuned-saw chords, one per bar, swelling in slowly.

    ``anticipate`` (beats): the chord changes that much before the bar line (a push).
    """
    out = np.zeros(n)
    total = (grid.size - 1) // beats_per_bar if bars is None else bars
    for bar in range(first_bar, first_bar + total):
        start = _at(grid, bar * beats_per_bar - anticipate)
        end = _at(grid, (bar + 1) * beats_per_bar - anticipate)
        if start >= n / rate:
            break
        for note in chords[bar % len(chords)]:
            tone = _note(
                _midi(note), end - start + 0.15, rate, partials=6, attack_s=attack_s,
                decay_s=8.0, release_s=0.2, detune=0.004,
            )  # fmt: skip
            _add(out, start, tone, rate)
    return out


def _vocal(
    grid: NDArray[np.float64], n: int, rate: int, rng: np.random.Generator, beats_per_bar: int
) -> NDArray[np.float64]:
    """A sung line: syllables on eighths (some pushed, some late), vibrato, breaths.

    Phrases of two bars that start on the "and" of the bar before (a pick-up) and rest
    for most of a bar after: a voice does not mark the "1".
    """
    out = np.zeros(n)
    scale = (69, 71, 72, 74, 76, 77, 79)
    bars = (grid.size - 1) // beats_per_bar
    for phrase_start in range(0, bars - 2, 3):
        position = phrase_start * beats_per_bar - 0.5
        end = (phrase_start + 2) * beats_per_bar
        degree = int(rng.integers(0, 5))
        while position < end:
            length = float(rng.choice([0.5, 0.5, 1.0, 1.5]))
            at = _at(grid, max(position, 0.0)) + rng.normal(0.0, 0.025)
            dur = _at(grid, max(position, 0.0) + length) - at
            degree = int(np.clip(degree + rng.integers(-2, 3), 0, len(scale) - 1))
            syllable = _note(
                _midi(scale[degree]), dur, rate, partials=12, rolloff=1.3,
                attack_s=0.04, decay_s=3.0, release_s=0.06, vibrato=0.012,
            )  # fmt: skip
            # A consonant at the start of some syllables.
            if rng.random() < 0.5:
                c = int(0.03 * rate)
                syllable[:c] += 0.2 * rng.standard_normal(min(c, syllable.size))[: syllable.size]
            _add(out, at, syllable, rate)
            position += length
    return out


def pop_song(
    bpm: float = 96.0,
    *,
    seconds: float = 24.0,
    offset_s: float = 0.4,
    voice_db: float = 4.0,
    seed: int = 0,
) -> Song:
    """Pop / hip-hop: kick, snare, hats, a bass line, slow chords, a voice over the drums.

    The voice is ``voice_db`` louder than the drums (RMS) and the chords 2 dB under
    them; the kick
    plays on 1, the "and" of 2 and 3, the bass on 1, the "and" of 2 and 4-and.
    """
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    kit = _Kit(rng, rate)
    drums = np.zeros(n)
    bass = np.zeros(n)
    bars = (grid.size - 1) // 4
    for bar in range(bars):
        b = bar * 4

        def hit(pos: float, sound: NDArray, level: float, out: NDArray = drums, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.004, 0.004), level * sound, rate)

        for pos, level in ((0, 1.0), (1.5, 0.6), (2, 0.8)):
            hit(pos, kit.kick, level)
        for pos in (1, 3):
            hit(pos, kit.snare, 0.6)
        for e in range(8):
            hit(e * 0.5, kit.hat, 0.25 if e % 2 else 0.35)
        root = _POP_BASS[bar % 4]
        for pos, length, step in ((0, 1.4, 0), (1.5, 1.0, 0), (3, 0.4, 12), (3.5, 0.5, 7)):
            dur = _at(grid, b + pos + length) - _at(grid, b + pos)
            tone = _note(_midi(root + step - 12), dur, rate, partials=3, rolloff=1.5,
                         attack_s=0.008, decay_s=0.6)  # fmt: skip
            hit(pos, tone, 1.0, bass)
    chords = _pad(grid, _POP_CHORDS, n, rate, 4, attack_s=0.3)
    voice = _vocal(grid, n, rate, rng, 4)
    out = _mix({"drums": (drums, 0.0), "bass": (bass, -1.0), "chords": (chords, -2.0),
                "voice": (voice, voice_db)}, rng)  # fmt: skip
    return _song(out, grid, seconds, 4, rate)


def _montuno(
    grid: NDArray[np.float64], n: int, rate: int, rng: np.random.Generator, chords: tuple
) -> NDArray[np.float64]:
    """A piano montuno: an octave-doubled figure on the eighths, most accents off-beat,
    the next bar's chord anticipated on the last "and"."""
    out = np.zeros(n)
    pattern = (0.5, 1.0, 1.5, 2.5, 3.0, 3.5)
    bars = (grid.size - 1) // 4
    for bar in range(bars):
        for i, pos in enumerate(pattern):
            chord = chords[(bar + (1 if pos == 3.5 else 0)) % len(chords)]
            at = _at(grid, bar * 4 + pos) + rng.uniform(-0.006, 0.006)
            dur = _at(grid, bar * 4 + pos + 0.45) - _at(grid, bar * 4 + pos)
            for note in (chord[i % len(chord)] + 12, chord[(i + 1) % len(chord)] + 12):
                _add(out, at, _note(_midi(note), dur, rate, partials=6, rolloff=1.2,
                                    attack_s=0.003, decay_s=0.4), rate)  # fmt: skip
    return out


def salsa_song(
    bpm: float = 190.0, *, seconds: float = 24.0, offset_s: float = 0.3, seed: int = 0
) -> Song:
    """Salsa: 2-3 son clave, conga tumbao (slap on 2, open tones on 4 and its "and"),
    piano montuno, cowbell on the beats, and a bass that anticipates: on the "and" of
    2 and on 4, never on the "1". Truth: the clave's bars, the 2-side first."""
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    kit = _Kit(rng, rate)
    drums = np.zeros(n)
    bass = np.zeros(n)
    bars = (grid.size - 1) // 4
    clave = ((1.0, 2.0), (0.0, 1.5, 3.0))  # 2-3: the 2-side, then the 3-side
    roots = (48, 53, 55, 48)  # C F G C
    chords = ((60, 64, 67), (60, 65, 69), (59, 62, 67), (60, 64, 67))
    conga_low, conga_high = kit.drum(200), kit.drum(330)
    slap = kit.drum(330, slap=True)
    for bar in range(bars):
        b = bar * 4

        def hit(pos: float, sound: NDArray, level: float, out: NDArray = drums, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.005, 0.005), level * sound, rate)

        for pos in clave[bar % 2]:
            hit(pos, kit.clave, 0.5)
        for pos, sound, level in ((0, conga_low, 0.25), (0.5, conga_low, 0.2), (1, slap, 0.6),
                                  (1.5, conga_low, 0.2), (2, conga_low, 0.25),
                                  (2.5, conga_low, 0.2), (3, conga_high, 0.6),
                                  (3.5, conga_high, 0.6)):  # fmt: skip
            hit(pos, sound, level)
        for beat in range(4):
            hit(beat, kit.cowbell, 0.35 if beat % 2 == 0 else 0.25)
        # Tumbao bass: the "and" of 2 and beat 4 take the next chord's root.
        nxt = roots[(bar + 1) % 4]
        for pos, note, length in ((1.5, roots[bar % 4] + 7, 1.5), (3.0, nxt, 2.5)):
            dur = _at(grid, b + pos + length) - _at(grid, b + pos)
            hit(pos, _note(_midi(note - 12), dur, rate, partials=3, rolloff=1.5, attack_s=0.01,
                           decay_s=0.8), 1.0, bass)  # fmt: skip
    piano = _montuno(grid, n, rate, rng, chords)
    out = _mix({"drums": (drums, 0.0), "bass": (bass, -1.0), "piano": (piano, -2.0)}, rng)
    return _song(out, grid, seconds, 4, rate)


def bachata_song(
    bpm: float = 128.0, *, seconds: float = 24.0, offset_s: float = 0.35, seed: int = 0
) -> Song:
    """Bachata: requinto guitar arpeggios on the eighths, bongo martillo (a slap on the
    4th beat: the bachata tap), guira scrapes, bass on 1, the "and" of 2 and 3."""
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    kit = _Kit(rng, rate)
    drums = np.zeros(n)
    bass = np.zeros(n)
    guitar = np.zeros(n)
    bars = (grid.size - 1) // 4
    chords = ((57, 60, 64), (50, 53, 57), (52, 56, 59), (57, 60, 64))  # Am Dm E Am
    bongo_high, bongo_low = kit.drum(420, decay_s=0.06), kit.drum(300, decay_s=0.08)
    bongo_slap = kit.drum(420, slap=True)
    for bar in range(bars):
        b = bar * 4

        def hit(pos: float, sound: NDArray, level: float, out: NDArray = drums, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.005, 0.005), level * sound, rate)

        for e in range(8):
            pos = e * 0.5
            sound = bongo_slap if pos == 3.0 else (bongo_low if e % 2 else bongo_high)
            hit(pos, sound, 0.7 if pos == 3.0 else 0.3)
            hit(pos, kit.guira, 0.3 if e % 2 == 0 else 0.2)
        chord = chords[bar % 4]
        for e in range(8):
            note = chord[(0, 1, 2, 1)[e % 4]] + 12 + (12 if e in (2, 6) else 0)
            dur = _at(grid, b + e * 0.5 + 0.5) - _at(grid, b + e * 0.5)
            hit(e * 0.5, _note(_midi(note), dur + 0.1, rate, partials=7, rolloff=1.1,
                               attack_s=0.002, decay_s=0.25), 1.0, guitar)  # fmt: skip
        for pos, step in ((0, 0), (1.5, 7), (2, 12)):
            dur = _at(grid, b + pos + 1) - _at(grid, b + pos)
            hit(pos, _note(_midi(chord[0] - 24 + step), dur, rate, partials=3, rolloff=1.5,
                           attack_s=0.01, decay_s=0.5), 1.0, bass)  # fmt: skip
    out = _mix({"drums": (drums, 0.0), "bass": (bass, -1.0), "guitar": (guitar, 0.0)}, rng)
    return _song(out, grid, seconds, 4, rate)


def chacha_song(
    bpm: float = 120.0, *, seconds: float = 24.0, offset_s: float = 0.3, seed: int = 0
) -> Song:
    """Cha-cha "2, 3, 4-and-1": cowbell on the beats, guiro on 4-and, conga tumbao,
    bass on 1 and 3 (the 4-and anticipates the next bar's root), piano on the beats."""
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    kit = _Kit(rng, rate)
    drums = np.zeros(n)
    bass = np.zeros(n)
    piano = np.zeros(n)
    bars = (grid.size - 1) // 4
    roots = (50, 55, 57, 50)  # D G A D
    chords = ((62, 66, 69), (62, 67, 71), (61, 64, 69), (62, 66, 69))
    conga, slap = kit.drum(220), kit.drum(330, slap=True)
    for bar in range(bars):
        b = bar * 4

        def hit(pos: float, sound: NDArray, level: float, out: NDArray = drums, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.005, 0.005), level * sound, rate)

        for beat in range(4):
            hit(beat, kit.cowbell, 0.35)
        hit(3.0, kit.guira, 0.5)
        hit(3.5, kit.guira, 0.5)
        for pos, sound, level in ((1, slap, 0.5), (3, conga, 0.5), (3.5, conga, 0.5)):
            hit(pos, sound, level)
        hit(0, kit.kick, 0.4)
        for pos, note, length in ((0, roots[bar % 4], 2), (2, roots[bar % 4] + 7, 1.5),
                                  (3.5, roots[(bar + 1) % 4], 0.5)):  # fmt: skip
            dur = _at(grid, b + pos + length) - _at(grid, b + pos)
            hit(pos, _note(_midi(note - 12), dur, rate, partials=3, rolloff=1.5, attack_s=0.01,
                           decay_s=0.6), 1.0, bass)  # fmt: skip
        for beat in range(4):
            dur = _at(grid, b + beat + 0.4) - _at(grid, b + beat)
            for note in chords[bar % 4]:
                hit(beat, _note(_midi(note), dur, rate, partials=6, rolloff=1.2,
                                attack_s=0.003, decay_s=0.3), 0.5, piano)  # fmt: skip
    out = _mix({"drums": (drums, 0.0), "bass": (bass, -1.0), "piano": (piano, -3.0)}, rng)
    return _song(out, grid, seconds, 4, rate)


def swing_song(
    bpm: float = 172.0, *, seconds: float = 24.0, offset_s: float = 0.3, seed: int = 0
) -> Song:
    """Jive / swing: a ride in triplet swing ("ding, ding-a ding"), snare and hi-hat
    foot on 2 and 4, feathered kick on every beat, a walking bass (a new note on every
    beat, the same loudness), piano comping off the beat, chords changing on the bar."""
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    kit = _Kit(rng, rate)
    drums = np.zeros(n)
    bass = np.zeros(n)
    piano = np.zeros(n)
    bars = (grid.size - 1) // 4
    chords = ((60, 64, 67, 70), (65, 69, 72, 75), (60, 64, 67, 70), (67, 71, 74, 77))
    walk = ((36, 40, 43, 45), (41, 45, 48, 47), (36, 38, 40, 42), (43, 47, 50, 37))
    ride = (
        kit.open_hat * 0.5
        + 0.3 * np.pad(kit.cowbell, (0, kit.open_hat.size))[: kit.open_hat.size] * 0.2
    )
    for bar in range(bars):
        b = bar * 4

        def hit(pos: float, sound: NDArray, level: float, out: NDArray = drums, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.006, 0.006), level * sound, rate)

        for beat in range(4):
            hit(beat, ride, 0.4)
            if beat % 2:
                hit(beat + 2 / 3, ride, 0.3)  # the swung "a" before 3 and 1
                hit(beat, kit.snare, 0.5)
                hit(beat, kit.hat, 0.3)
            hit(beat, kit.kick, 0.25)
            dur = _at(grid, b + beat + 0.95) - _at(grid, b + beat)
            hit(beat, _note(_midi(walk[bar % 4][beat] - 12 + 12), dur, rate, partials=3,
                            rolloff=1.5, attack_s=0.01, decay_s=0.5), 1.0, bass)  # fmt: skip
        for pos in (1 + 2 / 3, 3 + 2 / 3) if bar % 2 else (0.0 + 2 / 3, 2 + 2 / 3):
            dur = _at(grid, b + pos + 0.6) - _at(grid, b + pos)
            for note in chords[bar % 4]:
                hit(pos, _note(_midi(note), dur, rate, partials=5, rolloff=1.3,
                               attack_s=0.004, decay_s=0.4), 0.5, piano)  # fmt: skip
    pad = _pad(grid, chords, n, rate, 4, attack_s=0.15)
    out = _mix({"drums": (drums, 0.0), "bass": (bass, 0.0), "piano": (piano, -4.0),
                "pad": (pad, -8.0)}, rng)  # fmt: skip
    return _song(out, grid, seconds, 4, rate)


def waltz_song(
    bpm: float = 87.0, *, seconds: float = 24.0, offset_s: float = 0.3, seed: int = 0
) -> Song:
    """Waltz: oom-pah-pah (a bass note on 1, short chords on 2 and 3) under a legato
    string melody with slow attacks that moves across the bar lines."""
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    bass = np.zeros(n)
    chords_out = np.zeros(n)
    melody = np.zeros(n)
    bars = (grid.size - 1) // 3
    roots = (43, 48, 50, 43, 45, 50, 43, 43)  # G C D G Em D G G
    triads = {43: (59, 62, 67), 48: (60, 64, 67), 50: (57, 62, 66), 45: (59, 64, 67)}
    tune = (74, 76, 74, 72, 71, 72, 74, 79, 78, 76, 74, 71)
    for bar in range(bars):
        b = bar * 3
        root = roots[bar % len(roots)]

        def hit(pos: float, sound: NDArray, level: float, out: NDArray, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.006, 0.006), level * sound, rate)

        dur = _at(grid, b + 1.0) - _at(grid, b)
        hit(0, _note(_midi(root - 12), dur, rate, partials=4, rolloff=1.4, attack_s=0.01,
                     decay_s=0.6), 1.0, bass)  # fmt: skip
        for beat in (1, 2):
            dur = _at(grid, b + beat + 0.5) - _at(grid, b + beat)
            for note in triads[root]:
                hit(beat, _note(_midi(note - 12), dur, rate, partials=5, rolloff=1.3,
                                attack_s=0.004, decay_s=0.25), 0.5, chords_out)  # fmt: skip
        # Melody: a dotted half, or a half and a quarter, tied across some bar lines.
        pos = 0.0 if bar % 2 == 0 else 0.5
        for length in (3.0,) if bar % 2 == 0 else (1.5, 1.0):
            note = tune[(bar * 2 + int(pos)) % len(tune)]
            dur = _at(grid, b + pos + length + 0.3) - _at(grid, b + pos)
            hit(pos, _note(_midi(note), dur, rate, partials=8, rolloff=1.1, attack_s=0.2,
                           decay_s=4.0, release_s=0.3, vibrato=0.008), 1.0, melody)  # fmt: skip
            pos += length
    out = _mix({"drums": (bass, 0.0), "chords": (chords_out, -3.0), "melody": (melody, 1.0)},
               rng)  # fmt: skip
    return _song(out, grid, seconds, 3, rate)


def piano_song(
    bpm: float = 76.0,
    *,
    seconds: float = 24.0,
    offset_s: float = 0.5,
    beats_per_bar: int = 4,
    seed: int = 0,
) -> Song:
    """Ballet class / contemporary: solo piano, no drums. Soft chords on the beats, a
    low bass note on each "1", a melody above, and the pianist's own time (each beat up
    to 2 % early or late)."""
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    period = 60.0 / bpm
    grid = grid + np.concatenate([[0.0], rng.normal(0, 0.02 * period, grid.size - 1)])
    out = np.zeros(n)
    bars = (grid.size - 1) // beats_per_bar
    progression = ((48, 60, 64, 67), (45, 60, 64, 69), (41, 60, 65, 69), (43, 59, 62, 67))
    tune = (76, 74, 72, 74, 76, 76, 76, 74, 74, 74, 76, 79, 79)
    k = 0
    for bar in range(bars):
        chord = progression[bar % 4]
        for beat in range(beats_per_bar):
            at = _at(grid, bar * beats_per_bar + beat)
            dur = _at(grid, bar * beats_per_bar + beat + 1) - at
            if beat == 0:
                _add(out, at, 0.6 * _note(_midi(chord[0] - 12), 3 * dur, rate, partials=8,
                                          attack_s=0.02, decay_s=1.5), rate)  # fmt: skip
            for note in chord[1:]:
                _add(out, at + 0.01, 0.2 * _note(_midi(note), dur + 0.2, rate, partials=6,
                                                 attack_s=0.03, decay_s=1.0), rate)  # fmt: skip
            if beat % 2 == 0:
                tone = _note(_midi(tune[k % len(tune)]), 2 * dur, rate, partials=8,
                             attack_s=0.015, decay_s=1.2)  # fmt: skip
                _add(out, at, 0.45 * tone, rate)
                k += 1
    out += 0.002 * rng.standard_normal(n)
    out /= float(np.max(np.abs(out))) / 0.9
    return _song(out, grid, seconds, beats_per_bar, rate)


def live_band(
    bpm: float = 110.0,
    *,
    seconds: float = 30.0,
    offset_s: float = 0.3,
    sway: float = 0.03,
    sway_period_s: float = 60.0,
    ritardando: tuple[float, float] | None = None,
    seed: int = 0,
) -> Song:
    """A pop band (as :func:`pop_song`, no voice) whose tempo drifts by ``sway`` over
    ``sway_period_s``, and with ``ritardando=(start_s, slowest)`` slows to the end."""
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s, sway=sway, sway_period_s=sway_period_s,
                      ritardando=ritardando)  # fmt: skip
    kit = _Kit(rng, rate)
    drums = np.zeros(n)
    bass = np.zeros(n)
    bars = (grid.size - 1) // 4
    for bar in range(bars):
        b = bar * 4

        def hit(pos: float, sound: NDArray, level: float, out: NDArray = drums, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.008, 0.008), level * sound, rate)

        for pos, level in ((0, 1.0), (2, 0.8), (2.5, 0.5)):
            hit(pos, kit.kick, level)
        for pos in (1, 3):
            hit(pos, kit.snare, 0.6)
        for e in range(8):
            hit(e * 0.5, kit.hat, 0.3 if e % 2 else 0.4)
        root = _POP_BASS[bar % 4]
        for pos in range(4):
            dur = _at(grid, b + pos + 0.9) - _at(grid, b + pos)
            hit(pos, _note(_midi(root - 12 + (7 if pos == 2 else 0)), dur, rate, partials=3,
                           rolloff=1.5, attack_s=0.008, decay_s=0.5), 1.0, bass)  # fmt: skip
    chords = _pad(grid, _POP_CHORDS, n, rate, 4, attack_s=0.3)
    out = _mix({"drums": (drums, 0.0), "bass": (bass, -2.0), "chords": (chords, -3.0)}, rng)
    return _song(out, grid, seconds, 4, rate)


def intro_song(
    bpm: float = 100.0,
    *,
    seconds: float = 26.0,
    offset_s: float = 0.5,
    intro_bars: int = 4,
    free_intro: bool = False,
    seed: int = 0,
) -> Song:
    """``intro_bars`` of pads alone (chords changing on the bar, slow attacks), then the
    band of :func:`live_band` (steady tempo) comes in on a downbeat.

    ``free_intro``: the intro's chords change in free time (off the song's bar grid);
    its beats are then no beats (``beats_s`` starts where the band comes in).
    """
    rng = np.random.default_rng(seed)
    rate = SONG_RATE
    n = int(seconds * rate)
    grid = _beat_grid(bpm, seconds, offset_s)
    kit = _Kit(rng, rate)
    drums = np.zeros(n)
    bass = np.zeros(n)
    bars = (grid.size - 1) // 4
    for bar in range(intro_bars, bars):
        b = bar * 4

        def hit(pos: float, sound: NDArray, level: float, out: NDArray = drums, b: int = b) -> None:
            _add(out, _at(grid, b + pos) + rng.uniform(-0.005, 0.005), level * sound, rate)

        for pos, level in ((0, 1.0), (2, 0.8), (2.5, 0.5)):
            hit(pos, kit.kick, level)
        for pos in (1, 3):
            hit(pos, kit.snare, 0.6)
        for e in range(8):
            hit(e * 0.5, kit.hat, 0.3 if e % 2 else 0.4)
        root = _POP_BASS[bar % 4]
        for pos in range(4):
            dur = _at(grid, b + pos + 0.9) - _at(grid, b + pos)
            hit(pos, _note(_midi(root - 12), dur, rate, partials=3, rolloff=1.5,
                           attack_s=0.008, decay_s=0.5), 1.0, bass)  # fmt: skip
    pad_grid = grid.copy()
    if free_intro:
        # The intro's bars stretched and squeezed (1.3, 0.9, 1.2, 0.6 bars, a little
        # jitter) within the intro's span: every chord change lies 0.8 beats or more
        # off the song's bar lines.
        span = intro_bars * 4
        shape = np.resize([1.3, 0.9, 1.2, 0.6], intro_bars) * rng.uniform(0.97, 1.03, intro_bars)
        lengths = np.repeat(shape, 4)
        warped = np.concatenate([[0.0], np.cumsum(lengths)]) / np.sum(lengths) * span
        pad_grid[: span + 1] = np.interp(warped, np.arange(span + 1), grid[: span + 1])
    chords = _pad(pad_grid, _POP_CHORDS, n, rate, 4, attack_s=0.4)
    # The pads are as loud in the intro as under the band: the intro is quiet, not silent.
    out = _mix({"drums": (drums, 0.0), "bass": (bass, -2.0), "chords": (chords, 0.0)}, rng)
    song = _song(out, grid, seconds, 4, rate)
    if free_intro:
        entry = grid[intro_bars * 4] - 0.01
        song = Song(
            song.samples, rate, song.beats_s[song.beats_s >= entry],
            song.downbeats_s[song.downbeats_s >= entry], song.bpm, 4,
        )  # fmt: skip
    return song


def phone_recording(
    samples: NDArray[np.float32],
    rate: int,
    *,
    snr_db: float = 20.0,
    reverb_s: float = 0.5,
    band_hz: tuple[float, float] = (150.0, 4000.0),
    seed: int = 0,
) -> NDArray[np.float32]:
    """``samples`` as a phone hears them in a room: a mild reverb (an exponentially
    decaying noise tail, ``reverb_s`` to -60 dB, mixed 30 %), the microphone's band
    (steep high- and low-pass at ``band_hz``) and noise at ``snr_db`` below the music."""
    rng = np.random.default_rng(seed)
    x = samples.astype(np.float64)
    m = int(reverb_s * rate)
    tail = rng.standard_normal(m) * np.exp(-6.9 * np.arange(m) / m)
    tail[: int(0.01 * rate)] = 0.0  # the first reflections come after ~10 ms
    tail *= 0.3 / np.sqrt(np.sum(tail**2))
    size = 1 << int(np.ceil(np.log2(x.size + m)))
    spectrum = np.fft.rfft(x, size) * (1.0 + np.fft.rfft(tail, size))
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    low, high = band_hz
    # Fourth-order-like roll-offs either side of the band (magnitude only).
    gain = 1.0 / np.sqrt(1.0 + (low / np.maximum(freqs, 1e-3)) ** 8)
    gain /= np.sqrt(1.0 + (freqs / high) ** 8)
    y = np.fft.irfft(spectrum * gain, size)[: x.size]
    noise = rng.standard_normal(x.size)
    noise *= _rms(y) / _rms(noise) * 10 ** (-snr_db / 20)
    y = y + noise
    return (y / (float(np.max(np.abs(y))) / 0.9)).astype(np.float32)
