"""How well does the music tracker find tempo, beats and the "1" in music like real music?

    .venv/bin/python benchmarks/music_accuracy.py [--only NAME ...] [--seeds 1]

Each song of ``tests/music/synth.py``'s realistic set (pop with a loud voice, salsa,
bachata, cha-cha, jive, waltz, solo piano, a drifting band, a ritardando, an intro
without drums, and some of them through a phone in a room) is made at test time with
its true beats and downbeats, analysed on ``auto`` and on its own style, and scored:

- **tempo**: found BPM against the truth (the mean rate of the true beats);
- **med ms**: median |error| of the found beats to the nearest true beat;
- **F**: F-measure of the beats, a found beat within ±70 ms of a true one (one each);
- **down**: the fraction of found downbeats within ±70 ms of a true downbeat;
- **1 ok**: whether the first count "1" lies on a true downbeat;
- **conf**: the result's ``confidence``; **s/min**: tracking time per minute of audio
  (samples in memory: no decoding).

Scores only the span the truth covers (a song's last beat + 70 ms).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tests.music.synth import Song

REPO = Path(__file__).resolve().parents[1]
TOLERANCE_S = 0.07


def songs() -> list[tuple[str, str, Callable[[int], Song]]]:
    """(name, the right style, make(seed) -> Song) for every song of the benchmark."""
    sys.path.insert(0, str(REPO))
    from tests.music import synth

    def phone(make: Callable[[int], synth.Song]) -> Callable[[int], synth.Song]:
        def made(seed: int) -> synth.Song:
            song = make(seed)
            noisy = synth.phone_recording(song.samples, song.rate, seed=seed)
            return synth.Song(
                noisy, song.rate, song.beats_s, song.downbeats_s, song.bpm, song.beats_per_bar
            )

        return made

    return [
        ("pop 96", "hip-hop", lambda s: synth.pop_song(96, seed=s)),
        ("pop 124", "auto", lambda s: synth.pop_song(124, seed=s)),
        ("salsa 190", "salsa", lambda s: synth.salsa_song(190, seed=s)),
        ("bachata 128", "bachata", lambda s: synth.bachata_song(128, seed=s)),
        ("cha-cha 120", "cha-cha", lambda s: synth.chacha_song(120, seed=s)),
        ("jive 172", "jive", lambda s: synth.swing_song(172, seed=s)),
        ("swing 120", "west-coast-swing", lambda s: synth.swing_song(120, seed=s)),
        ("waltz 87", "waltz", lambda s: synth.waltz_song(87, seed=s)),
        ("piano 76", "ballet", lambda s: synth.piano_song(76, seed=s)),
        ("piano 3/4 90", "ballet", lambda s: synth.piano_song(90, beats_per_bar=3, seed=s)),
        ("drift ±3%/60s", "hip-hop", lambda s: synth.live_band(110, seconds=60, seed=s)),
        (
            "ritardando",
            "hip-hop",
            lambda s: synth.live_band(110, sway=0.0, ritardando=(18.0, 0.8), seed=s),
        ),
        ("intro 4 bars", "hip-hop", lambda s: synth.intro_song(100, seed=s)),
        (
            "free intro",
            "hip-hop",
            lambda s: synth.intro_song(100, free_intro=True, seed=s),
        ),
        ("phone pop 96", "hip-hop", phone(lambda s: synth.pop_song(96, seed=s))),
        ("phone salsa", "salsa", phone(lambda s: synth.salsa_song(190, seed=s))),
        ("phone waltz", "waltz", phone(lambda s: synth.waltz_song(87, seed=s))),
        ("phone bachata", "bachata", phone(lambda s: synth.bachata_song(128, seed=s))),
    ]


def score(found_ms: list[float], truth_s: np.ndarray, end_s: float) -> tuple[float, float]:
    """(median |error| ms, F-measure) of found beats against true ones, within ``end_s``."""
    found = np.asarray([t / 1000 for t in found_ms if t / 1000 <= end_s])
    if found.size == 0:
        return float("nan"), 0.0
    errors = np.min(np.abs(found[:, None] - truth_s[None, :]), axis=1)
    used: set[int] = set()
    hits = 0
    for t in found:
        k = int(np.argmin(np.abs(truth_s - t)))
        if abs(truth_s[k] - t) <= TOLERANCE_S and k not in used:
            used.add(k)
            hits += 1
    precision, recall = hits / found.size, hits / truth_s.size
    f = 2 * precision * recall / (precision + recall) if hits else 0.0
    return float(np.median(errors) * 1000), f


def on_downbeats(found_ms: list[float], truth_s: np.ndarray, end_s: float) -> float:
    found = np.asarray([t / 1000 for t in found_ms if t / 1000 <= end_s])
    if found.size == 0:
        return 0.0
    near = np.min(np.abs(found[:, None] - truth_s[None, :]), axis=1) <= TOLERANCE_S
    return float(np.mean(near))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="names starting with these")
    parser.add_argument("--seeds", type=int, default=1, help="songs per row (seeds 0..n-1)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from dance_analysis.music.analyze import analyze_samples

    analyze_samples(np.zeros(22050 * 3, np.float32), 22050)  # imports outside the clock
    header = (
        f"{'song':<15} {'style':<17} {'true':>6} {'found':>7} {'med ms':>7} {'F':>5} "
        f"{'down':>5} {'1 ok':>5} {'conf':>5} {'s/min':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, style, make in songs():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        for seed in range(args.seeds):
            song = make(seed)
            end_s = float(song.beats_s[-1]) + TOLERANCE_S
            minutes = song.samples.size / song.rate / 60
            for option in dict.fromkeys(["auto", style]):
                started = time.perf_counter()
                music = analyze_samples(song.samples, song.rate, style=option)
                took = (time.perf_counter() - started) / minutes
                label = name if seed == 0 else f"  seed {seed}"
                true_bpm = f"{song.bpm:6.1f}"
                if not music.present or music.tempo_bpm is None:
                    print(f"{label:<15} {option:<17} {true_bpm} {music.reason:>7}")
                    continue
                med, f = score(music.beats_ms, song.beats_s, end_s)
                down = on_downbeats(music.downbeats_ms, song.downbeats_s, end_s)
                first = [music.counts[0].t_ms] if music.counts else []
                one = on_downbeats(first, song.downbeats_s, end_s) == 1.0
                print(
                    f"{label:<15} {option:<17} {true_bpm} {music.tempo_bpm:7.1f} {med:7.1f} "
                    f"{f:5.2f} {down:5.2f} {'yes' if one else 'NO':>5} "
                    f"{music.confidence:5.2f} {took:6.3f}"
                )


if __name__ == "__main__":
    main()
