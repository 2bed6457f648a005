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

from tests.media import SQUATS, ffmpeg

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
