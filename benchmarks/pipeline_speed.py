"""How fast is ``analyze`` next to a bare MediaPipe loop, and does memory stay flat?

    .venv/bin/python benchmarks/pipeline_speed.py [--repeat N] [--clip PATH ...]
        [--backends auto,litert@2,mediapipe]

For each clip, in one run on the same machine:

(a) **bare**: a single-instance loop, OpenCV decode → RGB → ``Pose.process``, nothing else;
(b) **analyze**: the full pipeline (probe, decode, pose, clean, measure, overlay drawn
    and H.264-encoded with audio, CSV/JSON written, files published), once per pose
    backend in ``--backends`` (``auto``: what a user gets; ``litert@2``: our graph with
    two XNNPACK threads; ``mediapipe``: MediaPipe's solution, as before issue 11).

Each measurement runs in a fresh child process (so its peak RSS is its own) and times
only the work, after imports: model creation counts in both. Prints frames per second
for both, their ratio (the figure to watch: ≥ 1.0 means the extra work is free), and
peak memory (for analyze: its process plus its decode/render child, added). Clips:
the shared ``pose_squats.mp4`` and a 60 s 720p clip this script makes from it
(looped, re-timed to 30 fps by blending, panned so no two frames are alike,
720 px on the short side).
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

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DANCE_SHARED_DATA", REPO.parent / "shared" / "data"))
WORK = REPO / "benchmarks" / "_work"


def make_long_clip(source: Path, seconds: int = 60, fps: int = 30) -> Path:
    """The shared clip looped to ``seconds``, at ``fps``, 720 px on its short side, with no
    two frames alike.

    The shared clip has 5 pictures a second: ``fps=30`` alone would repeat each one six
    times and a repeated picture is cheaper for a tracker than a new one. Here the in-
    between pictures are blends of their neighbours (``framerate``) and a slow pan over a
    slightly larger picture (a crop whose corner moves with time) makes every loop differ.
    """
    import imageio_ffmpeg

    WORK.mkdir(parents=True, exist_ok=True)
    target = WORK / f"squats_{seconds}s_720p_{fps}fps_distinct.mp4"
    if target.exists():
        return target
    scale = "scale='if(lt(iw,ih),760,-2)':'if(lt(iw,ih),-2,760)'"
    pan = "crop='iw-40':'ih-40':'20+20*sin(t/2.3)':'20+20*cos(t/3.1)'"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1",
            "-i", str(source), "-t", str(seconds),
            "-vf", f"framerate=fps={fps},{scale},{pan}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-an", str(target),
        ],
        check=True,
    )  # fmt: skip
    return target


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux keeps ru_maxrss across
    execve, so a freshly started child would report its parent's peak."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))


def _child_bare(clip: str) -> dict[str, float]:
    import cv2
    import mediapipe as mp

    started = time.perf_counter()
    pose = mp.solutions.pose.Pose(model_complexity=1)
    capture = cv2.VideoCapture(clip)
    frames = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        frames += 1
    pose.close()
    return {"frames": frames, "seconds": time.perf_counter() - started}


def _child_analyze(clip: str, backend: str) -> dict[str, float]:
    """``backend``: a pose backend name, ``@N`` after it for N CPU threads (``litert@2``)."""
    import mediapipe  # noqa: F401  (imported before the clock, as in the bare loop)

    from dance_analysis.pipeline import PipelineOptions, analyze_clip

    name, _, threads = backend.partition("@")
    options = PipelineOptions(backend=name, pose_threads=int(threads or 1))
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outcome = analyze_clip(clip, out, options)
        seconds = time.perf_counter() - started
    # The pipeline's decode/render child counts too: peak of both, added.
    child_mb = outcome.frame_process_peak_mb or 0.0
    return {"frames": outcome.frame_count, "seconds": seconds, "child_peak_rss_mb": child_mb}


def _measure(kind: str, clip: Path, script: str = __file__) -> dict[str, float]:
    """Run one measurement (``script --child KIND CLIP``) in a fresh interpreter."""
    env = {**os.environ, "GLOG_minloglevel": "2", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, script, "--child", kind, str(clip)],
        check=True, capture_output=True, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (median reported)")
    parser.add_argument(
        "--clip", type=Path, action="append", help="clip(s) instead of the defaults"
    )
    parser.add_argument(
        "--backends",
        default="auto,litert@2,mediapipe",
        help="analyze with each (name, @N for N CPU threads), all against the same bare loop",
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CLIP"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, clip = args.child
        figures = _child_bare(clip) if kind == "bare" else _child_analyze(clip, kind)
        figures["peak_rss_mb"] = _peak_rss_mb() + figures.pop("child_peak_rss_mb", 0.0)
        print(json.dumps(figures))
        return 0

    source = SHARED / "pose_squats.mp4"
    clips = args.clip or [source, make_long_clip(source)]
    print(f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}, {args.repeat} run(s) each\n")
    backends = args.backends.split(",")
    header = (
        f"{'clip':<32}{'frames':>7}{'analyze with':>14}{'bare fps':>10}{'analyze fps':>13}"
        f"{'ratio':>7}{'bare MB':>9}{'analyze MB':>12}"
    )
    print(header)
    print("-" * len(header))
    for clip in clips:
        runs: dict[str, list[dict[str, float]]] = {"bare": [], **{b: [] for b in backends}}
        for _ in range(args.repeat):  # interleaved, so drift hits all alike
            for kind in runs:
                runs[kind].append(_measure(kind, clip))
        fps = {k: statistics.median(r["frames"] / r["seconds"] for r in v) for k, v in runs.items()}
        peak = {k: max(r["peak_rss_mb"] for r in v) for k, v in runs.items()}
        frames = int(runs["bare"][0]["frames"])
        for backend in backends:
            print(
                f"{clip.name:<32}{frames:>7}{backend:>14}{fps['bare']:>10.1f}"
                f"{fps[backend]:>13.1f}{fps[backend] / fps['bare']:>7.2f}"
                f"{peak['bare']:>9.0f}{peak[backend]:>12.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
