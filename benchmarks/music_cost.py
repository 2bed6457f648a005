"""What do music and timing add to a job? The issue's bound: ≤ 10 % of a 60 s clip's
analysis and ≤ 2 s fixed per job.

    .venv/bin/python benchmarks/music_cost.py [--repeat 2]

Two pairs of clips, each pair with the same pictures (the shared squats video made into
distinct frames: ``pipeline_speed.make_long_clip``), one clip with a 124 BPM groove as
AAC under it and one with no audio track at all: 5 s (the fixed cost) and 60 s. Each
job is the whole pipeline (``analyze_clip``: probe, pose, cleaning, music on its side
thread, timing, overlay with sound, files), run in a fresh interpreter as a job's child
is, timed after the imports. Without an audio track the pipeline skips the music and
times no accents against beats, so the difference of the pair is what music and timing
cost. Runs are interleaved so a busy machine slows both alike; medians are printed, with
the ratio of the pair measured in the same run. Wall time is what a coach waits; the
music runs on a thread beside the pose loop, so on an idle second core it hides. CPU
time (the job's process and its frame process) is what it costs a busy worker.

The timing step alone (accents from the cleaned landmarks, offsets to the beats, the
feedback) is also timed in-process on the 60 s job's result: it costs milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

from pipeline_speed import SHARED, WORK, make_long_clip  # noqa: E402

BPM = 124


def make_pair(seconds: int) -> tuple[Path, Path]:
    """(with music, without an audio track): the same pictures."""
    from tests.music.synth import drum_song, mux_under_video

    silent = make_long_clip(SHARED / "pose_squats.mp4", seconds=seconds)
    target = WORK / f"{silent.stem}_groove{BPM}.mp4"
    if not target.exists():
        song = drum_song(BPM, seconds=seconds, offset_s=0.37)
        mux_under_video(song.samples, target, seconds=seconds, video=silent)
    return target, silent


def _child_job(clip: str) -> dict[str, float | str]:
    import mediapipe  # noqa: F401  (imported before the clock, as in pipeline_speed)

    from dance_analysis.pipeline import analyze_clip

    out = tempfile.mkdtemp(prefix="music_cost_")
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    outcome = analyze_clip(clip, out)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    result = json.loads((Path(out) / "result.json").read_text())
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "frames": outcome.frame_count,
        "tempo_bpm": result["music"]["tempo_bpm"] or 0.0,
        "result": str(Path(out) / "result.json"),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the frame process)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measure(clip: Path) -> dict[str, Any]:
    env = {**os.environ, "GLOG_minloglevel": "2", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(clip)],
        check=True, capture_output=True, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def timing_alone(result_path: str, repeat: int = 5) -> float:
    """Seconds for the timing step on a finished result's cleaned landmarks (median)."""
    import numpy as np

    from dance_analysis.analysis.timing import analyze_timing, timing_feedback

    result = json.loads(Path(result_path).read_text())
    t_ms = np.array([f["t_ms"] for f in result["frames"]], dtype=np.float64)
    landmarks = np.full((len(t_ms), 33, 4), np.nan)
    for index, frame in enumerate(result["frames"]):
        for joint, point in enumerate(frame.get("clean_landmarks") or ()):
            if point is not None:
                landmarks[index, joint] = [np.nan if v is None else v for v in point]
    music = result["music"]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        timing = analyze_timing(t_ms, landmarks, music["beats_ms"], music["counts"])
        timing_feedback(timing, music["counts"], music["beats_per_bar"])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each (median reported)")
    parser.add_argument("--child", metavar="CLIP", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child_job(args.child)))
        return 0

    print(f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}, {args.repeat} run(s) each\n")
    header = (
        f"{'clip':<8}{'with music s':>14}{'no audio s':>12}{'added s':>10}{'ratio':>8}"
        f"{'CPU music s':>13}{'CPU none s':>12}{'CPU ratio':>11}"
    )
    print(header)
    print("-" * len(header))
    last_result = ""
    added: dict[int, float] = {}
    cpu_added: dict[int, float] = {}
    for seconds in (5, 60):
        music_clip, silent_clip = make_pair(seconds)
        runs: dict[str, list[dict[str, Any]]] = {"music": [], "silent": []}
        for _ in range(args.repeat):
            runs["music"].append(_measure(music_clip))
            runs["silent"].append(_measure(silent_clip))
        with_music = statistics.median(r["seconds"] for r in runs["music"])
        silent = statistics.median(r["seconds"] for r in runs["silent"])
        cpu_music = statistics.median(r["cpu_seconds"] for r in runs["music"])
        cpu_silent = statistics.median(r["cpu_seconds"] for r in runs["silent"])
        added[seconds] = with_music - silent
        cpu_added[seconds] = cpu_music - cpu_silent
        print(
            f"{f'{seconds} s':<8}{with_music:>14.2f}{silent:>12.2f}{added[seconds]:>10.2f}"
            f"{with_music / silent:>8.3f}{cpu_music:>13.2f}{cpu_silent:>12.2f}"
            f"{cpu_music / cpu_silent:>11.3f}",
            flush=True,
        )
        tempo = runs["music"][0]["tempo_bpm"]
        assert abs(tempo - BPM) < 0.01 * BPM, f"tempo {tempo}: the music was not found"
        last_result = str(runs["music"][-1]["result"])
    print(f"\nfixed per job (5 s pair):        {added[5]:+.2f} s wall, {cpu_added[5]:+.2f} s CPU"
          "  (bound: 2 s)")  # fmt: skip
    print(f"60 s clip, music + timing added: {added[60]:+.2f} s wall, {cpu_added[60]:+.2f} s CPU")
    print(f"timing step alone, 60 s result:  {1000 * timing_alone(last_result):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
