"""What does the music analysis cost a job: fixed, and per minute of audio?

    .venv/bin/python benchmarks/music_speed.py [--repeat 3] [--pose]

Makes, with ffmpeg, two clips of the shared squats video with a synthetic groove
(124 BPM: drums, bass, pad, noise; tests/music/synth.py) as AAC under it: 5 s and 60 s.
Each measurement runs in a fresh interpreter, as a job does, and times, in one run on
the same machine:

(a) **decode**: the audio track decoded and resampled alone (``load_audio``): the
    baseline, what any use of the sound costs;
(b) **music**: ``analyze_music`` from its imports on (PyAV's included: a job's child
    pays them once), so the 5 s clip's figure is the fixed cost per job;
(c) **in a job**: the same with PyAV imported before the clock, as a job's child has
    it already (it decodes the pictures);
(d) with ``--pose``, **bare pose**: the single-instance MediaPipe loop of
    ``pipeline_speed.py`` over the same 60 s of pictures (30 fps, 720p): what the
    issue's "≤ 10 % of a 60 s clip's analysis" is measured against. Slow (a minute).

Prints medians. Per minute = (music 60 s - music 5 s) / 55 s x 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DANCE_SHARED_DATA", REPO.parent / "shared" / "data"))
WORK = REPO / "benchmarks" / "_work"
BPM = 124


def make_clip(seconds: int) -> Path:
    """The shared clip looped to ``seconds`` (pictures copied) with a groove under it."""
    sys.path.insert(0, str(REPO))
    from tests.music.synth import drum_song, mux_under_video

    WORK.mkdir(parents=True, exist_ok=True)
    target = WORK / f"music_{BPM}bpm_{seconds}s.mp4"
    if target.exists():
        return target
    import imageio_ffmpeg

    looped = WORK / f"squats_looped_{seconds}s.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1",
            "-i", str(SHARED / "pose_squats.mp4"), "-t", str(seconds), "-c:v", "copy",
            "-an", str(looped),
        ],
        check=True,
    )  # fmt: skip
    song = drum_song(BPM, seconds=seconds, offset_s=0.37)
    return mux_under_video(song.samples, target, seconds=seconds, video=looped)


def _child_decode(clip: str) -> dict[str, float]:
    started = time.perf_counter()
    from dance_analysis.music.audio import load_audio

    audio = load_audio(Path(clip))
    assert audio is not None
    return {"seconds": time.perf_counter() - started, "audio_s": audio.duration_s}


def _child_music(clip: str) -> dict[str, float]:
    started = time.perf_counter()
    from dance_analysis.music.analyze import analyze_music

    music = analyze_music(Path(clip))
    assert music.present and music.tempo_bpm is not None
    return {"seconds": time.perf_counter() - started, "tempo_bpm": music.tempo_bpm}


def _child_music_in_job(clip: str) -> dict[str, float]:
    # A job's child has imported PyAV already (it decodes the pictures): what music
    # adds to the job starts after it.
    import av  # noqa: F401

    return _child_music(clip)


def _child_pose(clip: str) -> dict[str, float]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from pipeline_speed import _child_bare, make_long_clip

    return _child_bare(str(make_long_clip(SHARED / "pose_squats.mp4")))


def _measure(kind: str, clip: Path) -> dict[str, float]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from pipeline_speed import _measure as measure_in_child

    return measure_in_child(kind, clip, script=__file__)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median reported)")
    parser.add_argument("--pose", action="store_true", help="also time the bare pose loop")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CLIP"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, clip = args.child
        work = {
            "decode": _child_decode,
            "music": _child_music,
            "in_job": _child_music_in_job,
            "pose": _child_pose,
        }[kind]
        print(json.dumps(work(clip)))
        return 0

    clips = {5: make_clip(5), 60: make_clip(60)}
    print(f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}, {args.repeat} run(s) each\n")
    header = (
        f"{'clip':<26}{'decode s':>10}{'music s':>10}{'in a job s':>12}"
        f"{'music - decode':>16}{'tempo':>8}"
    )
    print(header)
    print("-" * len(header))
    medians: dict[int, float] = {}
    for seconds, clip in clips.items():
        runs: dict[str, list[dict[str, float]]] = {"decode": [], "music": [], "in_job": []}
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            for kind in runs:
                runs[kind].append(_measure(kind, clip))
        decode = statistics.median(r["seconds"] for r in runs["decode"])
        music = statistics.median(r["seconds"] for r in runs["music"])
        in_job = statistics.median(r["seconds"] for r in runs["in_job"])
        medians[seconds] = music
        print(
            f"{clip.name:<26}{decode:>10.3f}{music:>10.3f}{in_job:>12.3f}{music - decode:>16.3f}"
            f"{runs['music'][0]['tempo_bpm']:>8.2f}",
            flush=True,
        )
    per_minute = (medians[60] - medians[5]) / 55 * 60
    print(f"\nfixed per job (5 s clip, imports included): {medians[5]:.3f} s")
    print(f"per minute of audio:                         {per_minute:.3f} s")
    if args.pose:
        pose = _measure("pose", clips[60])
        print(
            f"bare pose loop, same 60 s at 30 fps:         {pose['seconds']:.1f} s "
            f"-> music adds {100 * medians[60] / pose['seconds']:.1f} %"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
