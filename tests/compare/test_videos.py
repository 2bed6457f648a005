"""The comparison's videos on real clips: a student and a teacher cut from the squats
clip (the teacher starts a second later into the dance, at another size), both
analysed by the real pose model, compared, then ``ghost.mp4`` and ``practice.mp4``
written and decoded again."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from dance_analysis.compare import Performance, compare, ghost_points
from dance_analysis.compare.ghost import alignment_of
from dance_analysis.compare_videos import (
    GHOST_COLOUR,
    segment_caption,
    weakest_segments,
    write_ghost,
    write_practice,
)
from dance_analysis.pipeline import PipelineOptions, analyze_clip
from dance_analysis.video.probe import probe
from dance_analysis.video.reader import Frame, read_frames
from tests.media import make_clip, mean_abs_diff, top_level_boxes

pytestmark = pytest.mark.slow

STUDENT_SIZE = (360, 640)
TEACHER_SIZE = (270, 480)  # another camera: the practice video scales it to match


@dataclass(frozen=True)
class Pair:
    student_clip: Path
    teacher_clip: Path
    student: dict[str, Any]
    teacher: dict[str, Any]
    comparison: dict[str, Any]


def _analysed(clip: Path, out: Path) -> dict[str, Any]:
    analyze_clip(clip, out, PipelineOptions(overlay=False))
    result: dict[str, Any] = json.loads((out / "result.json").read_text())
    return result


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    folder = tmp_path_factory.mktemp("compare-videos")
    student_clip = make_clip(
        folder / "student.mp4", start_s=0.0, seconds=13.0, size=STUDENT_SIZE, tone_hz=440.0
    )
    teacher_clip = make_clip(folder / "teacher.mp4", start_s=1.0, seconds=12.0, size=TEACHER_SIZE)
    student = _analysed(student_clip, folder / "student")
    teacher = _analysed(teacher_clip, folder / "teacher")
    outcome = compare(Performance.from_result(student), Performance.from_result(teacher))
    assert abs(outcome.time_offset_ms - 1000.0) <= 200.0  # the teacher starts 1 s in
    comparison = outcome.to_dict()["comparison"]
    return Pair(student_clip, teacher_clip, student, teacher, comparison)


def _frames(path: Path) -> list[Frame]:
    return list(read_frames(probe(path)))


def _green(pixel: np.ndarray) -> bool:
    """The ghost's colour: green well above red and blue (blended, then 4:2:0)."""
    r, g, b = (int(v) for v in pixel)
    return g - max(r, b) > 60


def test_ghost_video_has_the_students_frames_sound_and_the_ghost(
    pair: Pair, tmp_path: Path
) -> None:
    out = write_ghost(
        pair.student_clip, tmp_path / "ghost.mp4", pair.student, pair.teacher, pair.comparison
    )
    info, source = probe(out), probe(pair.student_clip)
    assert info.codec == "h264" and (info.width, info.height) == STUDENT_SIZE
    assert info.has_audio and info.audio_codec == "aac"
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # faststart: plays while downloading
    with av.open(str(out)) as container:  # the pixel format is not in VideoInfo
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"

    written, original = _frames(out), _frames(pair.student_clip)
    assert info.frame_count == source.frame_count == len(written) == len(original)
    assert [f.t_ms for f in written] == pytest.approx([f.t_ms for f in original], abs=0.5)

    # At the ghost's joints the picture is the ghost's green, where the original was not.
    ghost = ghost_points(pair.student, pair.teacher, pair.comparison)
    joints = [11, 12, 13, 14, 23, 24, 25, 26, 27, 28]
    hits = misses = 0
    for k in (10, 30, 50):
        assert not np.isnan(ghost[k, joints]).any()
        for j in joints:
            x, y = np.round(ghost[k, j] * STUDENT_SIZE).astype(int)
            if not (0 <= x < STUDENT_SIZE[0] and 0 <= y < STUDENT_SIZE[1]):
                continue
            assert not _green(original[k].image[y, x])
            if _green(written[k].image[y, x]):
                hits += 1
            else:
                misses += 1
    assert hits >= 0.9 * (hits + misses) and hits >= 25
    # Green is the ghost's alone: the student's skeleton is orange, blue and white.
    assert GHOST_COLOUR[1] - max(GHOST_COLOUR[0], GHOST_COLOUR[2]) > 100


def test_practice_video_shows_the_weakest_segments_side_by_side_slowed_twice(
    pair: Pair, tmp_path: Path
) -> None:
    # Scores set so that the weakest two are the last and the first window, in that
    # order (the real pair scores near 100 everywhere).
    comparison = copy.deepcopy(pair.comparison)
    assert len(comparison["segments"]) == 3
    for segment, score in zip(comparison["segments"], (60.0, 90.0, 50.0), strict=True):
        segment["score"] = score
    out = write_practice(
        pair.student_clip, pair.teacher_clip, pair.student, pair.teacher, comparison,
        tmp_path / "practice.mp4", segments=2,
    )  # fmt: skip
    info = probe(out)
    width, height = STUDENT_SIZE
    assert info.codec == "h264" and not info.has_audio  # silent, said in the docstring
    assert (info.width, info.height) == (2 * width, height)  # side by side, one height
    assert top_level_boxes(out).index("moov") < top_level_boxes(out).index("mdat")

    chosen = weakest_segments(comparison, 2)
    assert chosen == [comparison["segments"][2], comparison["segments"][0]]
    student = _frames(pair.student_clip)
    t_ms = np.array([f.t_ms for f in student])
    period_ms = float(np.median(np.diff(t_ms)))
    inside = [
        [f for f in student if s["start_ms"] <= f.t_ms < s["end_ms"]] for s in chosen
    ]  # weakest first
    written = _frames(out)
    assert len(written) == 2 * 2 * sum(len(frames) for frames in inside)
    # Half speed: every picture is shown twice, each for the student's frame period.
    steps = np.diff([f.t_ms for f in written])
    assert steps == pytest.approx(period_ms, abs=0.5)
    assert info.duration_s == pytest.approx(len(written) * period_ms / 1000.0, abs=0.01)

    teacher = _frames(pair.teacher_clip)
    teacher_ms = np.array([f.t_ms for f in teacher])
    to_teacher = alignment_of(pair.comparison).teacher_ms
    k = 0
    for frames in inside:
        for _ in range(2):  # each segment twice
            for frame in frames:
                for _ in range(2):  # each picture twice
                    picture = written[k].image
                    k += 1
                    assert mean_abs_diff(picture[100:-100, :width], frame.image[100:-100]) < 6
                    nearest = int(np.argmin(np.abs(teacher_ms - to_teacher(frame.t_ms))))
                    expected = cv2.resize(teacher[nearest].image, (width, height))
                    right = picture[100:-100, width:]
                    assert mean_abs_diff(right, expected[100:-100]) < 6
    assert k == len(written)
    # The teacher shown is the mapped one, not the one at the student's own time (a
    # second earlier in the dance): that differs visibly in a squat.
    frame = inside[0][len(inside[0]) // 2]
    same_time = int(np.argmin(np.abs(teacher_ms - frame.t_ms)))
    mapped = int(np.argmin(np.abs(teacher_ms - to_teacher(frame.t_ms))))
    assert same_time != mapped


def test_weakest_segments_come_weakest_first() -> None:
    comparison = {
        "segments": [
            {"start_ms": 0, "end_ms": 4000, "label": "counts 1–8", "score": 80.0},
            {"start_ms": 4000, "end_ms": 8000, "label": "counts 9–16", "score": None},
            {"start_ms": 8000, "end_ms": 12000, "label": "counts 17–24", "score": 55.0},
            {"start_ms": 12000, "end_ms": 16000, "label": "counts 25–32", "score": 70.0},
            {"start_ms": 16000, "end_ms": 20000, "label": "counts 33–40", "score": 90.0},
        ]
    }
    labels = [s["label"] for s in weakest_segments({"comparison": comparison}, 3)]
    assert labels == ["counts 17–24", "counts 25–32", "counts 1–8"]
    assert segment_caption(comparison["segments"][2]) == "Counts 17-24 | score 55"
