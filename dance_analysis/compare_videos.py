"""The comparison's two videos: ``ghost.mp4`` (the teacher's skeleton over the
student's video) and ``practice.mp4`` (the weakest segments, student and teacher side
by side, at half speed, each twice).

A sibling of ``pipeline``: it reads and writes video and draws, while the numbers
(the ghost's points, the time map, the segments) come from the numpy-only
``compare`` package. Both videos stream: one decoded picture of each clip at a time,
so memory does not grow with the clips. Both are H.264 yuv420p MP4 with the index in
front (``+faststart``): they play on phones.

Both take a ``progress`` callback (:data:`FrameProgress`), called after every picture:
the job worker shows it as the job's progress and stops a canceled or timed-out job
from it by raising. Whatever it raises goes through unchanged, and nothing is left at
``out_path`` (the pictures so far are in a temporary folder that goes with it).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from dance_analysis.compare.ghost import alignment_of, ghost_points
from dance_analysis.render import draw_pose
from dance_analysis.skeleton import BLAZEPOSE_33
from dance_analysis.video.probe import VideoInfo, probe
from dance_analysis.video.reader import Frame, read_frames
from dance_analysis.video.writer import VideoWriter, finalize_mp4

FloatArray = npt.NDArray[np.float64]
Image = npt.NDArray[np.uint8]

# The ghost: green, unlike the skeleton's orange left, blue right and white middle,
# and a little transparent so the dancer shows through it.
GHOST_COLOUR = (60, 235, 90)  # RGB
GHOST_ALPHA = 0.8
PRACTICE_HEIGHT = 720  # side-by-side pictures are at most this tall: phones, file size
PRACTICE_SEGMENTS = 3
_FACE = set(range(1, 11))  # the nose (0) marks the head; the rest of the face clutters
_GHOST_BONES = [(a, b) for a, b in BLAZEPOSE_33.bones if a not in _FACE and b not in _FACE]
_GHOST_JOINTS = [j for j in range(33) if j not in _FACE]
_FAR = 1e5  # points this far outside the picture are clipped before cv2 sees them
_PRACTICE_WRITES = 5  # pictures per student frame: composed once, then 2 plays x 2 (half speed)

FrameProgress = Callable[[int, int], None]
"""``progress(done, expected)``: pictures handled so far and the estimate of all of them
(never below ``done``); called once before the first picture and after each one. It
may raise to stop the video."""


def write_ghost(
    student_clip: str | Path,
    out_path: str | Path,
    student_result: Mapping[str, Any],
    teacher_result: Mapping[str, Any],
    comparison: Mapping[str, Any],
    *,
    crf: int = 23,
    preset: str = "veryfast",
    progress: FrameProgress | None = None,
) -> Path:
    """Write ``out_path``: the student's video with their skeleton (as the overlay
    draws it) and the teacher's ghost (:func:`ghost_points`) in ``GHOST_COLOUR``; the
    same frames at the same timestamps as the student's clip, and its sound.

    ``progress``: see :data:`FrameProgress` (one picture per frame of the clip)."""
    student_clip, out_path = Path(student_clip), Path(out_path)
    info = probe(student_clip)
    ghost = ghost_points(student_result, teacher_result, comparison)
    frames: Sequence[Mapping[str, Any]] = student_result.get("frames") or []
    t_ms = np.array([float(f["t_ms"]) for f in frames])
    visibility_min = float((student_result.get("options") or {}).get("visibility_min") or 0.5)
    tally = _Tally(progress, max(info.frame_count, len(frames)))
    with _staging(out_path) as video_only:
        with (
            VideoWriter(
                video_only, width=info.width, height=info.height, time_base=info.time_base,
                crf=crf, preset=preset,
            ) as writer,
            _closing(read_frames(info)) as decoded,
        ):  # fmt: skip
            for frame in decoded:
                k = _nearest(t_ms, frame.t_ms, tolerance_ms=_half_frame_ms(info))
                if k is not None:
                    _draw_student(frame.image, frames[k], visibility_min)
                    draw_ghost(frame.image, ghost[k])
                writer.write(frame.image, frame.pts)
                tally.add(1)
        finalize_mp4(video_only, out_path, audio_source=student_clip if info.has_audio else None)
    return out_path


def draw_ghost(image: Image, points: FloatArray) -> None:
    """Draw one ghost pose, (33, 2) normalised x, y (NaN: not drawn), onto ``image``
    (h, w, 3) RGB in place: thick bones and joints in ``GHOST_COLOUR``, blended at
    ``GHOST_ALPHA`` over the picture (only its bounding box is blended)."""
    height, width = image.shape[:2]
    seen = ~np.isnan(points).any(axis=-1)
    if not seen.any():
        return
    pixels = np.clip(np.nan_to_num(points * (width, height)), -_FAR, _FAR).round().astype(int)
    scale = max(height, width) / 720
    thickness = max(3, round(5 * scale))
    radius = max(3, round(5 * scale))
    margin = thickness + radius + 2
    x0, y0 = np.clip(pixels[seen].min(axis=0) - margin, 0, (width, height))
    x1, y1 = np.clip(pixels[seen].max(axis=0) + margin, 0, (width, height))
    if x1 <= x0 or y1 <= y0:
        return
    box = image[y0:y1, x0:x1]
    layer = box.copy()
    offset = np.array([x0, y0])
    local = pixels - offset
    for a, b in _GHOST_BONES:
        if seen[a] and seen[b]:
            cv2.line(layer, _xy(local[a]), _xy(local[b]), GHOST_COLOUR, thickness, cv2.LINE_AA)
    for j in _GHOST_JOINTS:
        if seen[j]:
            cv2.circle(layer, _xy(local[j]), radius, GHOST_COLOUR, -1, cv2.LINE_AA)
    cv2.addWeighted(layer, GHOST_ALPHA, box, 1.0 - GHOST_ALPHA, 0.0, dst=box)


def weakest_segments(
    comparison: Mapping[str, Any], count: int = PRACTICE_SEGMENTS
) -> list[Mapping[str, Any]]:
    """The ``count`` lowest-scoring segments, weakest first (unscored ones left out)."""
    if "comparison" in comparison:
        comparison = comparison["comparison"]
    scored = [s for s in comparison.get("segments") or [] if s.get("score") is not None]
    return sorted(scored, key=lambda s: (float(s["score"]), float(s["start_ms"])))[:count]


def write_practice(
    student_clip: str | Path,
    teacher_clip: str | Path,
    student_result: Mapping[str, Any],
    teacher_result: Mapping[str, Any],
    comparison: Mapping[str, Any],
    out_path: str | Path,
    segments: int = PRACTICE_SEGMENTS,
    *,
    crf: int = 23,
    preset: str = "veryfast",
    progress: FrameProgress | None = None,
) -> Path:
    """Write ``out_path``: the ``segments`` weakest segments, weakest first, each shown
    twice at half speed: the student ("You") on the left, beside them the teacher
    ("Teacher") at the mapped moment (the teacher's frame nearest the time map's
    answer for each student frame), both at one height, the segment's label and
    score below. Silent: slowed sound helps no one count.

    Half speed keeps the student's frame rate: every picture is shown twice, at the
    student's own frame intervals, so the file has 2 × 2 × (the segment's frames)
    pictures per segment. ``student_result`` gives only the number of frames to expect
    (the pictures come from the clip). ``progress``: see :data:`FrameProgress` (five
    pictures per student frame in a chosen segment: composed once, written four times).
    """
    if "comparison" in comparison:
        comparison = comparison["comparison"]
    out_path = Path(out_path)
    chosen = sorted(weakest_segments(comparison, segments), key=lambda s: float(s["start_ms"]))
    if not chosen:
        raise ValueError("the comparison has no scored segment to practise")
    student_info, teacher_info = probe(student_clip), probe(teacher_clip)
    layout = _Layout.of(student_info, teacher_info)
    to_teacher_ms = alignment_of(comparison).teacher_ms
    teacher_frames_ms = np.array(
        [float(f["t_ms"]) for f in teacher_result.get("frames") or []], dtype=np.float64
    )
    order = [chosen.index(s) for s in weakest_segments(comparison, segments)]
    tally = _Tally(progress, _PRACTICE_WRITES * _frames_within(student_result, chosen))
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".practice-") as name:
        folder = Path(name)
        pieces = [folder / f"segment-{k}.mp4" for k in range(len(chosen))]
        # Pass 1, in clip order: each chosen segment composed once, at its own pace.
        _compose_segments(
            student_info, teacher_info, chosen, pieces, layout, to_teacher_ms,
            _teacher_span(teacher_frames_ms, teacher_info), tally,
        )  # fmt: skip
        # Pass 2, weakest first: each piece twice, every picture shown twice.
        video_only = folder / "practice.video-only.mp4"
        with VideoWriter(
            video_only, width=layout.width, height=layout.height,
            time_base=student_info.time_base, crf=crf, preset=preset,
        ) as writer:  # fmt: skip
            start = 0
            for k in order:
                if not pieces[k].exists():
                    continue  # no student frame fell in that segment
                piece = probe(pieces[k])
                for _ in range(2):
                    start = _write_slowed(writer, piece, student_info, start, tally)
        finalize_mp4(video_only, out_path, audio_source=None)
    return out_path


@dataclass(frozen=True)
class _Layout:
    """Where the two pictures go: both scaled to one even height, side by side."""

    height: int
    student_width: int
    teacher_width: int

    @property
    def width(self) -> int:
        return self.student_width + self.teacher_width

    @classmethod
    def of(cls, student: VideoInfo, teacher: VideoInfo) -> _Layout:
        height = _even(min(student.height, PRACTICE_HEIGHT))
        return cls(
            height=height,
            student_width=_even(student.width * height / student.height),
            teacher_width=_even(teacher.width * height / teacher.height),
        )


def _compose_segments(
    student: VideoInfo,
    teacher: VideoInfo,
    chosen: Sequence[Mapping[str, Any]],
    pieces: Sequence[Path],
    layout: _Layout,
    to_teacher_ms: Callable[[float], FloatArray],
    teacher_span: tuple[float, float],
    tally: _Tally,
) -> None:
    """One pass through both clips: the student's frames inside each chosen segment,
    each beside the teacher's frame nearest the mapped time, into ``pieces`` (one
    near-lossless H.264 file per segment, the student's timestamps)."""
    writer: VideoWriter | None = None
    current = -1
    end_ms = float(chosen[-1]["end_ms"])
    with (
        _closing(read_frames(student)) as student_frames,
        _closing(read_frames(teacher)) as teacher_frames,
        contextlib.ExitStack() as open_writers,
    ):
        teachers = _Follower(teacher_frames)
        for frame in student_frames:
            if frame.t_ms >= end_ms:
                break
            k = _segment_of(chosen, frame.t_ms)
            if k is None:
                tally.add(0)  # decoded, not shown: a stop is still seen here
                continue
            if k != current:
                open_writers.close()  # the previous segment's piece is complete
                writer = open_writers.enter_context(
                    VideoWriter(
                        pieces[k],
                        width=layout.width,
                        height=layout.height,
                        time_base=student.time_base,
                        crf=12,
                        preset="veryfast",
                    )
                )
                current = k
            assert writer is not None
            wanted = float(to_teacher_ms(frame.t_ms))
            inside = teacher_span[0] <= wanted <= teacher_span[1]
            picture = teachers.at(wanted) if inside else None
            writer.write(_side_by_side(frame.image, picture, layout, chosen[k]), frame.pts)
            tally.add(1)


def _write_slowed(
    writer: VideoWriter, piece: VideoInfo, student: VideoInfo, start: int, tally: _Tally
) -> int:
    """Append ``piece`` at half speed from ``start`` (ticks): each picture twice, at
    the student's own intervals. Returns where the next piece starts."""
    period = max(1, round(1.0 / (student.fps * float(student.time_base)))) if student.fps else 1
    previous: Frame | None = None
    base = 0
    with _closing(read_frames(piece)) as decoded:
        for frame in decoded:
            if previous is None:
                base = frame.pts
            else:
                _write_twice(
                    writer, previous, start + 2 * (previous.pts - base), frame.pts - previous.pts
                )
                tally.add(2)
            previous = frame
    if previous is None:
        return start
    last = start + 2 * (previous.pts - base)
    _write_twice(writer, previous, last, period)
    tally.add(2)
    return last + 2 * period


def _write_twice(writer: VideoWriter, frame: Frame, pts: int, step: int) -> None:
    writer.write(frame.image, pts)
    writer.write(frame.image, pts + step)


class _Tally:
    """Pictures handled so far, told to a caller's :data:`FrameProgress` as they go."""

    def __init__(self, progress: FrameProgress | None, expected: int) -> None:
        self._progress = progress
        self._expected = max(1, expected)
        self._done = 0
        self.add(0)  # before the first picture: the caller sees the video begin

    def add(self, pictures: int) -> None:
        self._done += pictures
        if self._progress is not None:
            self._progress(self._done, max(self._expected, self._done))


def _frames_within(result: Mapping[str, Any], chosen: Sequence[Mapping[str, Any]]) -> int:
    """How many of the result's frames fall inside the chosen segments."""
    t_ms = np.array([float(f["t_ms"]) for f in result.get("frames") or []], dtype=np.float64)
    inside = np.zeros(len(t_ms), dtype=bool)
    for segment in chosen:
        inside |= (t_ms >= float(segment["start_ms"])) & (t_ms < float(segment["end_ms"]))
    return int(inside.sum())


def _side_by_side(
    student: Image, teacher: Image | None, layout: _Layout, segment: Mapping[str, Any]
) -> Image:
    """One practice picture: the student left, the teacher right, labelled."""
    out = np.zeros((layout.height, layout.width, 3), dtype=np.uint8)
    out[:, : layout.student_width] = _fit(student, layout.student_width, layout.height)
    if teacher is not None:
        out[:, layout.student_width :] = _fit(teacher, layout.teacher_width, layout.height)
    else:
        out[:, layout.student_width :] = 40  # the teacher's clip has no such moment
    scale = layout.height / 720
    _label(out, "You", (round(16 * scale), round(44 * scale)), scale)
    _label(out, "Teacher", (layout.student_width + round(16 * scale), round(44 * scale)), scale)
    _label(out, segment_caption(segment), (round(16 * scale), layout.height - round(24 * scale)),
           scale * 0.8)  # fmt: skip
    return out


def segment_caption(segment: Mapping[str, Any]) -> str:
    """ "Counts 9-16 | score 62": the segment's label and score, in ASCII (OpenCV's
    fonts have no dashes or middle dots)."""
    label = str(segment.get("label") or "")
    label = label[:1].upper() + label[1:]
    label = label.replace("\u2013", "-").replace("\u2014", "-").replace("\u00b7", "|")
    label = label.encode("ascii", "replace").decode("ascii")
    score = segment.get("score")
    return label if score is None else f"{label} | score {float(score):.0f}"


def _label(image: Image, text: str, origin: tuple[int, int], scale: float) -> None:
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 1.1 * scale
    weight = max(1, round(2 * scale))
    cv2.putText(image, text, origin, font, size, (0, 0, 0), weight + 4, cv2.LINE_AA)
    cv2.putText(image, text, origin, font, size, (255, 255, 255), weight, cv2.LINE_AA)


def _fit(image: Image, width: int, height: int) -> Image:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


class _Follower:
    """The teacher's clip, decoded forwards only: :meth:`at` gives the picture nearest
    a time, for times that never go back (the time map is monotonic)."""

    def __init__(self, frames: Iterator[Frame]) -> None:
        self._frames = frames
        self._current: Frame | None = next(frames, None)
        self._next: Frame | None = next(frames, None)

    def at(self, t_ms: float) -> Image | None:
        if self._current is None:
            return None
        while self._next is not None and abs(self._next.t_ms - t_ms) <= abs(
            self._current.t_ms - t_ms
        ):
            self._current, self._next = self._next, next(self._frames, None)
        return self._current.image


def _segment_of(chosen: Sequence[Mapping[str, Any]], t_ms: float) -> int | None:
    for k, segment in enumerate(chosen):
        if float(segment["start_ms"]) <= t_ms < float(segment["end_ms"]):
            return k
    return None


def _teacher_span(frames_ms: FloatArray, info: VideoInfo) -> tuple[float, float]:
    """The teacher times that have a picture: the clip, half a frame either side."""
    half = _half_frame_ms(info)
    if len(frames_ms):
        return float(frames_ms[0]) - half, float(frames_ms[-1]) + half
    return -half, info.duration_s * 1000.0 + half


def _draw_student(image: Image, frame: Mapping[str, Any], visibility_min: float) -> None:
    landmarks, world = frame.get("landmarks"), frame.get("world_landmarks")
    if landmarks is None:
        return
    draw_pose(
        image,
        np.asarray(landmarks, dtype=np.float64),
        None if world is None else np.asarray(world, dtype=np.float64),
        visibility_min=visibility_min,
    )


def _nearest(t_ms: FloatArray, wanted: float, *, tolerance_ms: float) -> int | None:
    """Index of the time in sorted ``t_ms`` nearest ``wanted``, if within tolerance."""
    if len(t_ms) == 0:
        return None
    k = int(np.argmin(np.abs(t_ms - wanted)))
    return k if abs(t_ms[k] - wanted) <= tolerance_ms else None


def _half_frame_ms(info: VideoInfo) -> float:
    return 500.0 / info.fps if info.fps else 20.0


def _even(value: float) -> int:
    return max(2, round(value / 2.0) * 2)


def _xy(point: npt.NDArray[np.int_]) -> tuple[int, int]:
    return int(point[0]), int(point[1])


@contextlib.contextmanager
def _closing(frames: Iterator[Frame]) -> Iterator[Iterator[Frame]]:
    """Close a frame generator (and so its file) when a loop leaves it early."""
    try:
        yield frames
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


@contextlib.contextmanager
def _staging(out_path: Path) -> Iterator[Path]:
    """A temporary video-only file beside ``out_path``, removed afterwards."""
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".ghost-") as folder:
        yield Path(folder) / "video-only.mp4"
