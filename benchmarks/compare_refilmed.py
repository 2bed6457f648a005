"""How does the comparison score the same dance filmed by another camera?

    nice .venv/bin/python benchmarks/compare_refilmed.py [--only NAME ...]

The shared squats clip is the teacher. Each student is that clip "filmed again"
(``tests/compare/refilm.py``: further away, moved, tilted, mirrored, another frame
rate or tempo, a later start, another picture shape, and all of these at once),
written as a new video and analysed by the real pipeline (real MediaPipe, no overlay),
then compared with the teacher's analysis (``comparing.compare_results``). The body and
the dance are the same, so every score should be high; what is left is what the model
reads differently in the new pictures.

Prints one row per student: overall; the clip's part scores; mirrored; the time offset
and tempo ratio found against the truth; the ghost's distance from the student's own
image landmarks, in torso lengths (``ghost_points``; median and 90th percentile); the
lowest part score in any segment; frames with a dancer / all. Takes a few minutes on 2 cores (one
analysis per row, a few seconds to tens of seconds each); run it with ``nice``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DANCE_SHARED_DATA", REPO.parent / "shared" / "data"))
PARTS = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")


def variants() -> dict[str, Any]:
    from tests.compare.refilm import COMBINED, Refilm

    return {
        "re-encoded": Refilm(),
        "0.7x, padded": Refilm(scale=0.7),
        "0.7x, moved sideways": Refilm(scale=0.7, shift=(0.25, 0.05)),
        "tilted 5 deg": Refilm(scale=0.85, tilt_deg=5.0),
        "tilted -8 deg": Refilm(scale=0.85, tilt_deg=-8.0),
        "mirrored": Refilm(mirrored=True),
        "6 fps, 1.2x faster": Refilm(fps=6.0, speed=1.2),
        "4 fps, 0.8x slower": Refilm(fps=4.0, speed=0.8),
        "2.5 fps, same tempo": Refilm(fps=2.5),
        "1.5 s later": Refilm(lead_s=1.5),
        "landscape 1280x720": Refilm(size=(1280, 720), scale=0.9),
        "all at once (tests)": COMBINED,
    }


def analysed(clip: Path, out: Path) -> dict[str, Any]:
    from dance_analysis.pipeline import PipelineOptions, analyze_clip

    analyze_clip(clip, out, PipelineOptions(overlay=False))
    result: dict[str, Any] = json.loads((out / "result.json").read_text())
    return result


def measure(student: dict[str, Any], teacher: dict[str, Any]) -> dict[str, Any]:
    from dance_analysis.comparing import compare_results
    from tests.compare.refilm import ghost_offsets

    comparison = compare_results(student, teacher)["comparison"]
    offsets = ghost_offsets(student, teacher, comparison)
    return {
        "overall": comparison["overall"],
        "parts": comparison["parts"],
        "mirrored": comparison["mirrored"],
        "offset_ms": comparison["time_offset_ms"],
        "tempo": comparison["tempo_ratio"],
        "method": comparison["alignment"]["method"],
        "worst_segment_part": min(
            (v for seg in comparison["segments"] for v in seg["parts"].values() if v is not None),
            default=None,
        ),
        "ghost": float(np.nanmedian(offsets)),
        "ghost90": float(np.nanpercentile(offsets, 90)),
        "seen": sum(bool(f.get("person")) for f in student["frames"]),
        "frames": len(student["frames"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", help="names of the variants to run (a prefix)")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    sys.path.insert(0, str(REPO))
    from tests.compare.refilm import refilm

    source = SHARED / "pose_squats.mp4"
    wanted = variants()
    if args.only:
        wanted = {k: v for k, v in wanted.items() if any(k.startswith(p) for p in args.only)}
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        started = time.perf_counter()
        teacher = analysed(source, folder / "teacher")
        print(f"teacher: the shared clip, analysed in {time.perf_counter() - started:.1f} s")
        header = (
            f"{'student':22} {'overall':>7} " + " ".join(f"{p[:7]:>7}" for p in PARTS)
            + f" {'mirr':>5} {'offset/true ms':>15} {'tempo/true':>11} {'ghost':>6} {'90%':>5}"
            + f" {'seg min':>7} {'seen':>7} {'s':>4}"
        )  # fmt: skip
        print(header)
        for name, spec in wanted.items():
            started = time.perf_counter()
            clip = refilm(source, folder / f"{len(os.listdir(folder))}.mp4", spec)
            student = analysed(clip.path, folder / f"{clip.path.stem}-out")
            seconds = time.perf_counter() - started
            row = measure(student, teacher)
            parts = " ".join(
                f"{row['parts'][p]:7.1f}" if row["parts"].get(p) is not None else f"{'-':>7}"
                for p in PARTS
            )
            print(
                f"{name:22} {row['overall']:7.1f} {parts} {'yes' if row['mirrored'] else 'no':>5}"
                f" {row['offset_ms']:7.0f}/{clip.time_offset_ms:<7.0f}"
                f" {row['tempo']:5.3f}/{clip.tempo_ratio:<5.2f}"
                f" {row['ghost']:6.3f} {row['ghost90']:5.2f}"
                f" {row['worst_segment_part']:7.1f}"
                f" {row['seen']:>3}/{row['frames']:<3}{seconds:4.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
