"""Music analysis against ground truth made at test time, read back from muxed clips.

Each groove (tests/music/synth.py) is muxed as AAC under the first seconds of the shared
squats clip and analysed from the file, so decoding, the clip's clock and the tracker
are checked together.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dance_analysis.errors import Reason, UnknownStyle
from dance_analysis.music.analyze import analyze_music, analyze_samples
from dance_analysis.music.model import NO_AUDIO, NO_STEADY_BEAT, SILENCE, Music, recount
from dance_analysis.music.styles import STYLE_NAMES, STYLES, get_style
from tests.music.synth import (
    RATE,
    Song,
    drum_song,
    groove,
    mux_under_video,
    speech_like,
    white_noise,
)

SECONDS = 8.0
OFFSET_S = 0.37  # the first downbeat, seconds after the first picture
VIDEO_FPS = 5.0  # pose_squats.mp4


def _errors_ms(found_ms: list[float], truth_s: np.ndarray) -> np.ndarray:
    found = np.asarray(found_ms) / 1000.0
    nearest = truth_s[np.argmin(np.abs(truth_s[None, :] - found[:, None]), axis=1)]
    return (found - nearest) * 1000.0


def _check_against(music: Music, song: Song, shift_s: float = 0.0) -> None:
    assert music.present, music.reason
    assert music.tempo_bpm is not None
    assert abs(music.tempo_bpm - song.bpm) <= 0.01 * song.bpm
    truth = song.beats_s + shift_s
    errors = _errors_ms(music.beats_ms, truth)
    assert float(np.median(np.abs(errors))) <= 20.0
    # Every true beat is found (none skipped, none doubled).
    assert len(music.beats_ms) >= len(truth) - 1
    assert np.all(np.abs(errors) < 0.25 * 60_000 / song.bpm)
    # Downbeats on the accented beats: each within 30 ms of a true downbeat.
    assert len(music.downbeats_ms) >= 2
    down_errors = _errors_ms(music.downbeats_ms, song.downbeats_s + shift_s)
    assert np.all(np.abs(down_errors) <= 30.0), down_errors
    # Counts start on a downbeat, run 1..8 (1..6 in threes) and number the phrases.
    first = music.counts[0]
    assert first.count == 1 and first.phrase == 0
    assert first.t_ms in music.downbeats_ms
    length = 8 if song.beats_per_bar == 4 else 6
    for i, c in enumerate(music.counts):
        assert (c.count, c.phrase) == (i % length + 1, i // length)


@pytest.mark.parametrize("bpm", [84, 100, 124, 176])
def test_tempo_beats_downbeats_and_counts(bpm: int, tmp_path: Path) -> None:
    song = drum_song(bpm, seconds=SECONDS, offset_s=OFFSET_S, seed=bpm)
    clip = mux_under_video(song.samples, tmp_path / "groove.mp4", seconds=SECONDS)
    music = analyze_music(clip)
    assert music.style == "auto"
    _check_against(music, song)


@pytest.mark.parametrize(
    ("pattern", "bpm", "style"),
    [
        ("house", 124, "auto"),
        ("cha-cha", 124, "cha-cha"),
        ("dembow", 95, "hip-hop"),
        ("salsa", 190, "salsa"),
        ("swing", 110, "west-coast-swing"),
    ],
)
def test_grooves_that_are_not_a_backbeat(pattern: str, bpm: int, style: str) -> None:
    # A kick on every beat, accents off the beat, swung eighths: the beat and the "1"
    # must not follow the loudest hit.
    song = groove(bpm, pattern, seconds=10.0, offset_s=0.3, seed=bpm)
    music = analyze_samples(song.samples, song.rate, style=style)
    inside = song.beats_s[-1] + 0.1
    music = replace(
        music,
        beats_ms=[t for t in music.beats_ms if t < inside * 1000],
        downbeats_ms=[t for t in music.downbeats_ms if t < inside * 1000],
    )
    _check_against(music, song)


@pytest.mark.parametrize("style", ["waltz", "auto"])
def test_waltz_counts_in_threes(style: str, tmp_path: Path) -> None:
    # Named, the style gives the metre; on "auto" the accents repeating every three
    # beats must show it.
    song = drum_song(87, seconds=SECONDS, offset_s=0.2, beats_per_bar=3, seed=3)
    clip = mux_under_video(song.samples, tmp_path / "waltz.mp4", seconds=SECONDS)
    music = analyze_music(clip, style=style)
    assert music.beats_per_bar == 3
    _check_against(music, song)


def test_style_prior_picks_the_tempo_of_a_half_time_groove(tmp_path: Path) -> None:
    # Hits on every other beat only: the music reads as 86 as well as 172 BPM.
    song = drum_song(172, seconds=SECONDS, offset_s=OFFSET_S, half_time_accents=True)
    clip = mux_under_video(song.samples, tmp_path / "half.mp4", seconds=SECONDS)
    jive = analyze_music(clip, style="jive")
    assert jive.tempo_bpm is not None and abs(jive.tempo_bpm - 172) <= 1.72
    errors = _errors_ms(jive.beats_ms, song.beats_s)
    assert float(np.median(np.abs(errors))) <= 20.0
    # Without the prior the same clip is read at half time: the style made the difference.
    auto = analyze_music(clip, style="auto")
    assert auto.tempo_bpm is not None and abs(auto.tempo_bpm - 86) <= 0.86


@pytest.mark.parametrize("bpm", [96, 168])
def test_a_band_that_pushes_the_tempo_is_followed(bpm: int) -> None:
    # The tempo glides by 4 % each way over 12 s: beats follow it, the tempo is the mean.
    song = drum_song(bpm, seconds=12.0, offset_s=0.2, drift=0.04, seed=bpm)
    _check_against(analyze_samples(song.samples, song.rate), song)


def test_a_voice_over_the_groove_keeps_the_beat() -> None:
    song = drum_song(124, seconds=SECONDS, offset_s=OFFSET_S, seed=11)
    sung = song.samples + 0.8 * speech_like(SECONDS, seed=2)
    _check_against(analyze_samples(sung, song.rate), song)


def test_a_dropout_keeps_the_count() -> None:
    # Two bars of near silence in the middle: the beats (and so the counts) go on
    # through them, as dancers keep counting.
    song = drum_song(100, seconds=12.0, offset_s=0.3, seed=4)
    gap = slice(
        int((song.beats_s[8] - 0.05) * song.rate), int((song.beats_s[16] - 0.05) * song.rate)
    )
    samples = song.samples.copy()
    samples[gap] *= 0.001
    music = analyze_samples(samples, song.rate)
    _check_against(music, song)
    assert len(music.beats_ms) == len(song.beats_s)


def test_fill_gaps_puts_back_skipped_beats() -> None:
    from dance_analysis.music.beats import fill_gaps

    beats = np.array([0.0, 0.5, 1.5, 2.0, 3.49])
    filled = fill_gaps(beats, 0.5)
    assert filled.size == 8
    assert np.allclose(filled[:5], [0.0, 0.5, 1.0, 1.5, 2.0])
    assert np.allclose(np.diff(filled[4:]), 1.49 / 3)


@pytest.mark.parametrize("seed", range(6))
def test_speech_has_no_tempo(seed: int) -> None:
    music = analyze_samples(speech_like(SECONDS, seed=seed), RATE)
    assert not music.present and music.reason == NO_STEADY_BEAT
    assert music.tempo_bpm is None


def test_delayed_audio_moves_the_beats_by_the_delay(tmp_path: Path) -> None:
    song = drum_song(100, seconds=SECONDS - 1, offset_s=OFFSET_S, seed=7)
    on_time = analyze_music(mux_under_video(song.samples, tmp_path / "a.mp4", seconds=SECONDS))
    delay = 0.5
    late = analyze_music(
        mux_under_video(song.samples, tmp_path / "b.mp4", seconds=SECONDS, audio_delay_s=delay)
    )
    _check_against(late, song, shift_s=delay)
    shift = np.asarray(late.beats_ms[:8]) - np.asarray(on_time.beats_ms[:8])
    assert np.all(np.abs(shift - delay * 1000) < 1000 / VIDEO_FPS)
    assert abs(float(np.median(shift)) - delay * 1000) < 5.0


@pytest.mark.parametrize(
    ("samples", "reason"),
    [
        (np.zeros(int(SECONDS * RATE), dtype=np.float32), SILENCE),
        (white_noise(SECONDS), NO_STEADY_BEAT),
        (None, NO_AUDIO),
    ],
    ids=["silence", "white-noise", "no-audio-track"],
)
def test_no_music_no_tempo(samples: np.ndarray | None, reason: str, tmp_path: Path) -> None:
    clip = mux_under_video(samples, tmp_path / "quiet.mp4", seconds=SECONDS)
    music = analyze_music(clip, style="cha-cha")
    out = music.to_dict()
    assert out["present"] is False and out["reason"] == reason
    assert out["tempo_bpm"] is None and out["beats_ms"] == [] and out["counts"] == []
    assert out["style"] == "cha-cha"


def test_result_fields_are_the_issues() -> None:
    song = drum_song(124, seconds=5.0, offset_s=0.1)
    out = analyze_samples(song.samples, song.rate).to_dict()
    assert list(out) == [
        "present", "tempo_bpm", "beats_per_bar", "beats_ms", "downbeats_ms", "counts",
        "confidence", "style", "method",
    ]  # fmt: skip
    assert set(out["counts"][0]) == {"t_ms", "count", "phrase"}
    assert 0.0 <= out["confidence"] <= 1.0


def test_recount_moves_the_one() -> None:
    song = drum_song(100, seconds=8.0, offset_s=0.3)
    music = analyze_samples(song.samples, song.rate)
    assert music.counts[0].t_ms == music.beats_ms[0]  # the groove starts on its "1"
    target = music.beats_ms[2]
    moved = recount(music, target + 40.0)  # a click near the third beat
    assert moved.beats_ms == music.beats_ms and moved.tempo_bpm == music.tempo_bpm
    assert target in moved.downbeats_ms
    by_time = {c.t_ms: c for c in moved.counts}
    assert by_time[target].count == 1
    # The counts still start on a downbeat; the two beats before the new "1" are a pick-up.
    assert moved.counts[0].t_ms == target and moved.counts[0].phrase == 0
    assert [c.count for c in moved.counts[:9]] == [1, 2, 3, 4, 5, 6, 7, 8, 1]
    # Moving it back restores the original counts.
    assert recount(moved, music.beats_ms[0]).counts == music.counts


def test_a_pick_up_has_no_count() -> None:
    # The clip starts on the third beat of a bar: two beats of pick-up, then the "1".
    song = drum_song(100, seconds=10.0, offset_s=0.3, seed=9)
    cut = song.beats_s[2] - 0.15
    samples = song.samples[int(cut * song.rate) :]
    music = analyze_samples(samples, song.rate, start_s=cut)
    errors = _errors_ms(music.beats_ms, song.beats_s)
    assert float(np.median(np.abs(errors))) <= 20.0
    assert abs(music.beats_ms[0] - song.beats_s[2] * 1000) <= 20.0
    assert music.counts[0].t_ms == music.beats_ms[2] == music.downbeats_ms[0]
    assert abs(music.counts[0].t_ms - song.beats_s[4] * 1000) <= 20.0


def test_recount_without_music_changes_nothing() -> None:
    absent = Music.absent(NO_AUDIO, style="auto", method="x")
    assert recount(absent, 1000.0) is absent


def test_style_table() -> None:
    assert STYLE_NAMES == (
        "waltz", "tango", "viennese-waltz", "foxtrot", "quickstep", "samba", "cha-cha",
        "rumba", "paso-doble", "jive", "salsa", "bachata", "west-coast-swing", "hip-hop",
        "contemporary", "ballet", "auto",
    )  # fmt: skip
    for name, style in STYLES.items():
        assert style.beats_per_bar == (3 if name in ("waltz", "viennese-waltz") else 4)
        assert style.min_bpm < style.centre_bpm < style.max_bpm
        if style.competition_bpm is not None:
            # Narrower than an octave: no half or double time inside.
            assert style.max_bpm < 2 * style.min_bpm
    assert STYLES["cha-cha"].competition_bpm == (120, 128)
    assert STYLES["waltz"].competition_bpm == (84, 90)
    assert STYLES["samba"].competition_bpm == (100, 104)
    assert get_style(None).name == get_style("").name == "auto"
    assert get_style(" Cha-Cha ").name == "cha-cha"


def test_unknown_style_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownStyle) as caught:
        analyze_music(tmp_path / "never-read.mp4", style="polka")
    assert caught.value.reason is Reason.UNKNOWN_STYLE
    assert "polka" in caught.value.message and "cha-cha" in caught.value.message


def test_envelopes_do_not_depend_on_the_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # The STFT runs in blocks to bound memory on long clips; the seams must not show.
    from dance_analysis.music import beats

    song = drum_song(124, seconds=6.0)
    whole = beats.envelopes(song.samples, song.rate)
    monkeypatch.setattr(beats, "_BLOCK_FRAMES", 37)
    blocks = beats.envelopes(song.samples, song.rate)
    assert np.allclose(whole.flux, blocks.flux, rtol=1e-5, atol=1e-4)
    assert np.allclose(whole.low, blocks.low, rtol=1e-5, atol=1e-4)
    assert np.array_equal(whole.mid_spectra, blocks.mid_spectra)
