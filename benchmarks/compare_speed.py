"""How long does comparing a student's 60 s clip with a teacher's take?

    .venv/bin/python benchmarks/compare_speed.py [--repeat 5] [--seconds 60]

Makes two analysed results in memory from the shared squats clip's reference landmarks
(BlazePose full, 65 frames at 5 fps; no model runs): the landmark series played back
and forth (no jumps) and time-warped to 30 fps, the teacher at a wavering tempo, the
student 7 % slower, starting 1.5 s later, with the last third mirrored and a little
noise. Then times, in one run on the same machine:

(a) **load**: ``Performance.from_result`` on both result dicts: the baseline, what any
    use of two results costs (the job will have parsed the JSON already);
(b) **compare, DTW**: ``compare`` without music (body frame, 10 Hz straight-line
    search and banded DTW, two-way scores, feedback);
(c) **compare, counts**: the same with music counts on both (120 BPM in the dance's
    own time, so the beats follow each warp), matched count to count.

Prints medians in seconds and each as a multiple of (a). The issue's bar: comparing two
analysed 60 s clips takes at most 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DANCE_SHARED_DATA", REPO.parent / "shared" / "data"))
FPS = 30.0
BEAT_MS = 500.0


def _source() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    world = np.array(json.loads((SHARED / "pose_squats_3d.full.json").read_text()))
    pixels = np.array(json.loads((SHARED / "pose_squats.full.json").read_text()))[:, :, :2]
    t = np.arange(len(world)) * 200.0
    return t, world, pixels / (720.0, 1280.0)


def _played(t_src: np.ndarray, points: np.ndarray, source_ms: np.ndarray) -> np.ndarray:
    """``points`` (n, 33, d) at source times played back and forth (a ping-pong loop)."""
    span = t_src[-1]
    phase = np.mod(source_ms, 2 * span)
    folded = np.where(phase > span, 2 * span - phase, phase)
    flat = points.reshape(len(points), -1)
    out = np.stack([np.interp(folded, t_src, column) for column in flat.T], axis=1)
    return out.reshape((len(source_ms), *points.shape[1:]))


def _result(
    t_ms: np.ndarray, world: np.ndarray, image: np.ndarray, music: dict[str, Any] | None
) -> dict[str, Any]:
    frames = [
        {
            "index": i,
            "t_ms": float(t_ms[i]),
            "person": True,
            "landmarks": [[x, y, 0.0, 0.99] for x, y in image[i].tolist()],
            "world_landmarks": [[*p, 0.99] for p in world[i].tolist()],
            "clean_landmarks": [[x, y, 0.0, 0.99] for x, y in image[i].tolist()],
        }
        for i in range(len(t_ms))
    ]
    return {
        "video": {"name": "synthetic.mp4", "sha256": "0" * 64},
        "options": {"visibility_min": 0.5},
        "music": music or {"present": False, "reason": "no_audio"},
        "frames": frames,
    }


def _music(t_ms: np.ndarray, source_ms: np.ndarray) -> dict[str, Any]:
    """A steady beat in the dance's own (source) time, where the clip shows it: the
    dancer dances to the music, so the beats follow the time warp."""
    moving = np.concatenate([[True], np.diff(source_ms) > 0])
    on = np.arange(250.0, source_ms[-1], BEAT_MS)
    on = on[on >= source_ms[moving][0]]
    beats = np.interp(on, source_ms[moving], t_ms[moving])
    return {
        "present": True,
        "tempo_bpm": 60_000.0 / BEAT_MS,
        "beats_ms": beats.tolist(),
        "counts": [
            {"t_ms": float(b), "count": i % 8 + 1, "phrase": i // 8} for i, b in enumerate(beats)
        ],
    }


def make_pair(seconds: float, with_music: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(student, teacher) result dicts, ``seconds`` long each at 30 fps."""
    sys.path.insert(0, str(REPO))
    from dance_analysis.compare.mirror import POINT_SWAP

    t_src, world, image = _source()
    t = np.arange(0.0, seconds * 1000.0, 1000.0 / FPS)
    wobble = 150.0 * np.sin(2 * np.pi * t / 9000.0)  # the teacher's tempo wavers
    teacher_src = t + wobble
    start_ms, speed = 1500.0, 0.93
    student_src = np.maximum(t - start_ms, 0.0) * speed
    student_src = student_src + 150.0 * np.sin(2 * np.pi * student_src / 9000.0)
    rng = np.random.default_rng(7)
    s_world = _played(t_src, world, student_src) + rng.normal(0, 0.01, (len(t), 33, 3))
    s_image = _played(t_src, image, student_src)
    third = slice(2 * len(t) // 3, None)
    s_world[third] = s_world[third][:, POINT_SWAP[:33]] * (-1.0, 1.0, 1.0)
    teacher = _result(
        t,
        _played(t_src, world, teacher_src),
        _played(t_src, image, teacher_src),
        _music(t, teacher_src) if with_music else None,
    )
    student = _result(
        t,
        s_world,
        s_image,
        _music(t, student_src) if with_music else None,
    )
    return student, teacher


def _median_s(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from dance_analysis.compare import Performance, compare

    plain = make_pair(args.seconds, with_music=False)
    counted = make_pair(args.seconds, with_music=True)
    frames = len(plain[0]["frames"])

    def load() -> tuple[Performance, Performance]:
        return Performance.from_result(plain[0]), Performance.from_result(plain[1])

    load_s = _median_s(load, args.repeat)
    students = {name: Performance.from_result(pair[0]) for name, pair in
                (("dtw", plain), ("counts", counted))}  # fmt: skip
    teachers = {name: Performance.from_result(pair[1]) for name, pair in
                (("dtw", plain), ("counts", counted))}  # fmt: skip
    print(f"two clips of {args.seconds:.0f} s at {FPS:.0f} fps ({frames} frames each)")
    print(f"(a) load both results:   {load_s:6.3f} s   1.0 x")
    for label, name in (("(b) compare, DTW:", "dtw"), ("(c) compare, counts:", "counts")):
        seconds = _median_s(partial(compare, students[name], teachers[name]), args.repeat)
        outcome = compare(students[name], teachers[name])
        print(
            f"{label:<24} {seconds:6.3f} s {seconds / load_s:5.1f} x   "
            f"(method {outcome.method}, offset {outcome.time_offset_ms:.0f} ms, "
            f"tempo {outcome.tempo_ratio:.3f}, overall {outcome.overall:.1f}, "
            f"mirrored segments {sum(s.mirrored for s in outcome.segments)}"
            f"/{len(outcome.segments)})"
        )


if __name__ == "__main__":
    main()
