"""One clip from file to published artifacts: read → estimate → clean → measure → render → write.

Two processes share the work so the model never waits: a child process
(:mod:`dance_analysis.video.frame_process`) decodes frames into shared memory and
draws and encodes the overlay, while the caller's thread runs pose estimation on each
frame in place. Separate processes, not threads: the model then has this process's
GIL to itself (threads cost it about 20 % here). A ring of shared slots bounds memory,
however long the clip.

The estimator finds every person in each frame, each with an id kept through the
clip. The overlay is drawn while the model runs, with the dancer chosen so far (the
leader by :mod:`dance_analysis.pose.people`'s rule) drawn fully and the others
faintly; the final choice is made once the clip is done, and only if it differs from
what some frame was drawn with is the overlay drawn again (a second decode, draw and
encode). Everything downstream (series, angles, timing, feedback, artifacts) is about
the chosen dancer alone.

Everything is written into a hidden staging folder inside the output folder and moved
into place at the end, ``result.json`` last, so the output folder never holds a
half-written result. Progress and cancellation go through a small :class:`Progress`
object, so the pipeline knows nothing of terminals, Qt or HTTP.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from dance_analysis import __version__
from dance_analysis.analysis.angles import JOINT_ANGLES
from dance_analysis.analysis.progress import lesson_summary
from dance_analysis.analysis.series import AnalysisOptions, analyze_series
from dance_analysis.analysis.timing import Timing, analyze_timing, timing_feedback, with_counts
from dance_analysis.artifacts import (
    ARTIFACT_NAMES,
    SCHEMA_VERSION,
    PersonRow,
    write_angles_csv,
    write_client_analysis,
    write_coco17,
    write_keypoints_2d,
    write_keypoints_3d,
    write_landmarks_csv,
    write_people,
    write_result,
)
from dance_analysis.digests import sha256_of_file
from dance_analysis.errors import CanceledError, OutputError, Reason
from dance_analysis.exports import EXPORT_ARTIFACTS, Motion, write_exports
from dance_analysis.marks import Mark, marks_document
from dance_analysis.music.model import NO_AUDIO, Music, recount, with_first_downbeat
from dance_analysis.music.styles import get_style
from dance_analysis.pose import ACCELERATORS, create_estimator, resolve_backend
from dance_analysis.pose.base import PersonPose, PoseEstimator
from dance_analysis.pose.devices import Device, detect_device_in_background, may_have_accelerator
from dance_analysis.pose.people import People
from dance_analysis.skeleton import BLAZEPOSE_33
from dance_analysis.stages import Stage
from dance_analysis.video.frame_process import FrameProcess, OverlaySpec
from dance_analysis.video.probe import VideoInfo, VideoLimits, probe
from dance_analysis.video.reader import Frame

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
#: Segments tracked at once on an accelerator: 8 × the people in a frame crops a batch.
GPU_SEGMENTS = 8


@dataclass(frozen=True)
class PipelineOptions:
    backend: str = "auto"  # pose.BACKENDS; "auto" picks by device (pose.resolve_backend)
    model_complexity: int = 1
    limits: VideoLimits = field(default_factory=VideoLimits)
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    overlay: bool = True
    overlay_crf: int = 23
    overlay_preset: str = "veryfast"
    style: str = "auto"  # the dance style that constrains the tempo search (music.styles)
    one_ms: float | None = None  # a coach's "1" (ms): the counts start from the beat nearest
    dancer_id: int | None = None  # the dancer the user chose; None: by the rule (pose.people)
    mock_people: int = 1  # the mock backend's scene: 1 dancer, or 2 (the documented mock mode)
    pose_threads: int = 1  # CPU threads for our own graph's networks
    # Segments tracked at once (clip_poses): None picks (several on an accelerator, where
    # the network would otherwise idle between tiny batches; 1 on the CPU, where one
    # stream keeps the decoder and the encoder beside the model on their own core).
    segments: int | None = None
    # The coach's marks a clip analysed again keeps (issue 12): written as marks.json and
    # drawn into the KVA and the report from the start.
    marks: tuple[Mark, ...] = ()


class Progress(Protocol):
    """What the pipeline tells its caller, and how the caller can stop it."""

    def on_stage(self, stage: Stage) -> None: ...

    def on_frames(self, done: int, total: int) -> None: ...

    def should_cancel(self) -> bool: ...


class NullProgress:
    def on_stage(self, stage: Stage) -> None:
        pass

    def on_frames(self, done: int, total: int) -> None:
        pass

    def should_cancel(self) -> bool:
        return False


@dataclass(frozen=True)
class AnalysisOutcome:
    out_dir: Path
    artifacts: dict[str, Path]
    frame_count: int
    frames_with_person: int
    feedback_count: int
    warnings: list[dict[str, Any]]
    elapsed_s: float
    frame_process_peak_mb: float | None = None  # the decode/render child's peak memory
    music: dict[str, Any] | None = None  # result.json's ``music`` (``present`` false: why)
    dancer_id: int | None = None  # the dancer analysed (None: nobody found)
    people_seen: int = 0  # the most people in one frame
    people_ids: list[int] = field(default_factory=list)  # everyone found, by id
    overlay_passes: int = 0  # 1; 2 when the final dancer differs from the one first drawn
    segments: int = 1  # pieces of the clip tracked at once (clip_poses)
    summary: dict[str, Any] | None = None  # the lesson's numbers (analysis.progress)


# --- the pipeline ---------------------------------------------------------------------


@dataclass
class _Gathered:
    """Every person the model found in each frame, and whom each frame was drawn with."""

    t_ms: list[float] = field(default_factory=list)
    people: list[list[PersonPose]] = field(default_factory=list)
    drawn: list[int | None] = field(default_factory=list)  # the id drawn as the dancer

    def add(self, frame: Frame, people: list[PersonPose], drawn: int | None) -> None:
        self.t_ms.append(frame.t_ms)
        self.people.append(people)
        self.drawn.append(drawn)

    def arrays(self, dancer_id: int | None) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``t_ms`` (N,), and the dancer's landmarks and world (N, 33, 4), NaN where the
        dancer is not in the frame."""
        landmarks = np.full((len(self.t_ms), len(BLAZEPOSE_33.joints), 4), np.nan)
        world = np.full_like(landmarks, np.nan)
        for i, people in enumerate(self.people):
            for person in people:
                if person.id == dancer_id:
                    landmarks[i] = person.pose.landmarks
                    world[i] = person.pose.world
        return np.asarray(self.t_ms, dtype=np.float64), landmarks, world

    def needs_redraw(self, dancer_id: int | None) -> bool:
        """Was any frame drawn with another dancer than the final one?"""
        return any(
            drawn != _present(people, dancer_id)
            for drawn, people in zip(self.drawn, self.people, strict=True)
        )

    def rows(self) -> Iterator[list[PersonRow]]:
        for people in self.people:
            yield [(p.id, p.box, p.score, p.pose.landmarks) for p in people]


def _present(people: list[PersonPose], dancer_id: int | None) -> int | None:
    """``dancer_id`` if that person is in the frame, else None."""
    return dancer_id if any(person.id == dancer_id for person in people) else None


def _hand_back(
    frames: FrameProcess, frame: Frame, people: list[PersonPose], dancer_id: int | None
) -> int | None:
    """Give the frame back for drawing: ``dancer_id`` fully, everyone else faintly.
    Returns the id drawn as the dancer (None: not in this frame)."""
    dancer = next((person for person in people if person.id == dancer_id), None)
    others = [person.pose.landmarks for person in people if person is not dancer]
    frames.done(
        frame,
        None if dancer is None else dancer.pose.landmarks,
        None if dancer is None else dancer.pose.world,
        np.stack(others) if others else None,
    )
    return None if dancer is None else dancer.id


def _pose_device(backend: str, device: Callable[[], Device]) -> str:
    """Where our graph runs: the detected device, waited for only when it can matter
    (``auto`` or ``torch`` on a machine that may have a GPU)."""
    if backend not in ("auto", "torch") or not may_have_accelerator():
        return "cpu"
    return device().kind


def _estimate(
    frames: FrameProcess,
    estimator: PoseEstimator,
    info: VideoInfo,
    progress: Progress,
    found: People,
) -> _Gathered:
    gathered = _Gathered()
    for frame in frames.frames():
        if progress.should_cancel():
            raise CanceledError()
        people = estimator.estimate_people(frame.image, frame.t_ms)
        found.add(frame.t_ms, people)
        drawn = _hand_back(frames, frame, people, found.leader())
        gathered.add(frame, people, drawn)
        done = len(gathered.t_ms)
        # The container's count can be wrong; progress must never pass 100 %.
        progress.on_frames(done, max(info.frame_count, done))
    frames.finish()
    return gathered


def _segment_count(options: PipelineOptions, backend: str, device: str) -> int:
    """How many segments to track at once: our own graph only (the others track one
    stream); torch on an accelerator up to :data:`GPU_SEGMENTS` unless the caller says."""
    if backend not in ("torch", "litert"):
        return 1
    if options.segments is not None:
        return max(1, options.segments)
    return GPU_SEGMENTS if backend == "torch" and device in ACCELERATORS else 1


def _estimate_in_segments(
    info: VideoInfo,
    options: PipelineOptions,
    estimator: PoseEstimator,
    segments: int,
    progress: Progress,
    found: People,
) -> tuple[_Gathered, int]:
    """Every person in every picture, the clip cut at keyframes into up to ``segments``
    pieces decoded on threads and tracked in lock-step, one network batch a step; and
    how many pieces it was cut into."""
    from dance_analysis.clip_poses import ClipJob, track_clip
    from dance_analysis.pose.blazepose.estimator import BlazePoseGraph

    assert isinstance(estimator, BlazePoseGraph)  # _segment_count: our own graph only
    total = max(info.frame_count, 1)
    poses = track_clip(
        ClipJob(info, segments, options.limits),
        estimator.networks,
        on_frames=lambda done: progress.on_frames(done, max(total, done)),
        should_cancel=progress.should_cancel,
    )
    gathered = _Gathered()
    for t_ms, people in zip(poses.t_ms, poses.people, strict=True):
        found.add(t_ms, people)
        gathered.t_ms.append(t_ms)
        gathered.people.append(people)
        gathered.drawn.append(None)
    return gathered, poses.segments


def _draw_overlay(
    info: VideoInfo,
    options: PipelineOptions,
    overlay: OverlaySpec,
    gathered: _Gathered,
    dancer_id: int | None,
    progress: Progress,
) -> None:
    """The overlay from poses already found (no model), every frame drawn with the final
    dancer: decode, draw, encode in the frame process. The only pass after tracking in
    segments; a second pass when the one drawn while tracking showed another dancer."""
    with FrameProcess(info, options.limits, overlay) as frames:
        for i, frame in enumerate(frames.frames()):
            if progress.should_cancel():
                raise CanceledError()
            people = gathered.people[i] if i < len(gathered.people) else []
            _hand_back(frames, frame, people, dancer_id)
        frames.finish()


def _pin_malloc_mmap_threshold() -> None:
    """Keep glibc from hoarding freed frames, so memory stays flat (Linux only).

    Large short-lived buffers (frames, model tensors) make glibc raise its mmap
    threshold after the first free, so later ones come from heaps that return memory
    late: measured here with frames passed between threads, RSS swung between 650 MB
    and 1.5 GB over a 60 s clip. A fixed threshold of 1 MiB (which also turns the
    dynamic adjustment off) kept it flat.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):  # musl and other libcs: nothing to tune
        log.debug("mallopt unavailable; leaving the allocator as it is")


def _library_versions() -> dict[str, str]:
    import av

    return {
        "dance_analysis": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "av": str(av.__version__),
    }


def _music(clip: Path, info: VideoInfo, style: str) -> Music:
    """The clip's music on its clock: ms from the video's first frame (as ``t_ms``)."""
    from dance_analysis.music.analyze import METHOD, analyze_music

    if not info.has_audio:
        chosen = get_style(style)
        return Music.absent(
            NO_AUDIO, style=chosen.name, method=METHOD, beats_per_bar=chosen.beats_per_bar
        )
    start_s = float(info.start_pts * info.time_base)
    return analyze_music(clip, style=style, video_start_s=start_s)


def _within(music: Music, end_ms: float) -> Music:
    """``music`` without the beats before the first frame or after the video's end.

    Audio may start before the picture or outlast it; a beat nobody can see is not a
    count. The phrase grid is kept: the counts go on from the same "1", renumbered
    from phrase 0.
    """
    if not music.present:
        return music
    kept = [i for i, t in enumerate(music.beats_ms) if 0.0 <= t <= end_ms]
    if len(kept) == len(music.beats_ms):
        return music
    if not kept:
        return replace(music, beats_ms=[], downbeats_ms=[], counts=[], first_downbeat=0)
    lo, hi = kept[0], kept[-1] + 1
    # The index of a "1" in the full list: counts start on one (make_counts).
    one = music.beats_ms.index(music.counts[0].t_ms) if music.counts else music.first_downbeat
    trimmed = replace(music, beats_ms=music.beats_ms[lo:hi])
    return with_first_downbeat(trimmed, one - lo)


def _timing(
    t_ms: FloatArray, series: Any, music: Music, info: VideoInfo, options: PipelineOptions
) -> tuple[Timing, list[dict[str, Any]]]:
    """The dancer's accents against the beats, and every feedback item with its count.

    Without music there are accents but no offsets, and no count on any item.
    """
    counts = music.to_dict()["counts"] if music.present else []
    beats_ms = music.beats_ms if music.present else []
    timing = analyze_timing(
        t_ms, series.clean_landmarks, beats_ms, counts,
        visibility_min=options.analysis.visibility_min, aspect=info.width / info.height,
    )  # fmt: skip
    items = [item.to_dict() for item in series.feedback]
    items += timing_feedback(timing, counts, music.beats_per_bar, fps=info.fps)
    items.sort(key=lambda item: float(item["time_ms"]))  # stable: the summary stays last
    return timing, with_counts(items, counts)


def _header(
    info: VideoInfo,
    device: Device,
    sha256: str,
    estimator: PoseEstimator,
    options: PipelineOptions,
    series: Any,
    frame_count: int,
    artifacts: list[str],
    music: Music,
    timing: Timing,
    feedback: list[dict[str, Any]],
    found: People,
    dancer_id: int | None,
) -> dict[str, Any]:
    from dance_analysis.artifacts import json_ready

    video = info.to_dict()
    video.update(
        name=info.path.name, sha256=sha256, frame_count=frame_count,
        header_frame_count=info.header_frame_count, probed_frame_count=info.frame_count,
    )  # fmt: skip
    model = estimator.info.to_dict()
    model["versions"] = {**_library_versions(), **dict(estimator.info.versions)}
    model["detected_device"] = device.kind
    model["accelerator"] = device.to_dict()
    if device.kind != estimator.info.device:
        model["note"] = f"{estimator.info.note} ({device.name} detected, not used by this backend)"
    analysis = series.to_dict()
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "dance-analysis", "version": __version__},
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "video": video,
        "model": model,
        "skeleton": BLAZEPOSE_33.to_dict(),
        "dancer_id": dancer_id,
        "people_seen": found.people_seen,
        "people": found.summary(dancer_id),
        "options": {
            "cutoff_hz": options.analysis.cutoff_hz,
            "max_gap_s": options.analysis.max_gap_s,
            "visibility_min": options.analysis.visibility_min,
            "dancer_id": options.dancer_id,
        },
        "coverage": analysis.pop("coverage"),
        "angles": {
            "definitions": {name: list(joints) for name, joints in JOINT_ANGLES.items()}
            | {"trunk": ["mid_hip", "mid_shoulder", "vertical"]},
            "unit": "degrees",
            "summary": analysis["angles"],
            "series": {name: json_ready(values, 3) for name, values in series.angles.items()},
        },
        "metrics": analysis["metrics"],
        "feedback": feedback,
        "warnings": analysis["warnings"],
        "music": music.to_dict()
        | ({"one_set_by": "coach"} if options.one_ms is not None and music.counts else {}),
        "timing": timing.to_dict(),
        "artifacts": {key: ARTIFACT_NAMES[key] for key in artifacts},
    }


def _publish(staging: Path, out_dir: Path, names: list[str]) -> dict[str, Path]:
    """Move finished files into ``out_dir``; result.json last, as the commit mark."""
    result_name = ARTIFACT_NAMES["result"]
    (out_dir / result_name).unlink(missing_ok=True)  # an old result must not describe new files
    published = {}
    for key in sorted(names, key=lambda k: k == "result"):
        target = out_dir / ARTIFACT_NAMES[key]
        os.replace(staging / ARTIFACT_NAMES[key], target)
        published[key] = target
    return published


def analyze_clip(
    clip: str | Path,
    out_dir: str | Path,
    options: PipelineOptions | None = None,
    progress: Progress | None = None,
) -> AnalysisOutcome:
    """Analyse ``clip`` and publish its artifacts into ``out_dir``.

    Raises :class:`MediaError` for a clip it refuses, :class:`OutputError` when the
    results cannot be written, :class:`CanceledError` when ``progress`` asks to stop.
    """
    options = options or PipelineOptions()
    progress = progress or NullProgress()
    clip, out_dir = Path(clip), Path(out_dir)
    started = time.perf_counter()

    get_style(options.style)  # a wrong name fails before any work (unknown_style)
    resolve_backend(options.backend)  # likewise (unknown_backend)
    _pin_malloc_mmap_threshold()
    progress.on_stage(Stage.PROBE)
    info = probe(clip, options.limits)
    device = detect_device_in_background()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=out_dir))
    except OSError as error:
        raise OutputError(
            Reason.OUTPUT_NOT_WRITABLE, f"Cannot write results to {out_dir}: {error.strerror}."
        ) from error

    try:
        with ThreadPoolExecutor(2, thread_name_prefix="sidework") as pool:
            sha256 = pool.submit(sha256_of_file, clip)  # overlaps with the model's first frames
            # The music (about 0.3 s for a minute of audio, mostly numpy that releases the
            # GIL) runs beside the pose loop, so it adds next to nothing to a job.
            music_future = pool.submit(_music, clip, info, options.style)
            progress.on_stage(Stage.POSE)
            video_only = staging / "overlay.video-only.mp4"
            overlay = (
                OverlaySpec(
                    video_only,
                    crf=options.overlay_crf,
                    preset=options.overlay_preset,
                    visibility_min=options.analysis.visibility_min,
                )
                if options.overlay
                else None
            )
            found = People((info.width, info.height), options.dancer_id)
            pose_device = _pose_device(options.backend, device)
            backend = resolve_backend(options.backend, pose_device)
            segments = _segment_count(options, backend, pose_device)

            def new_estimator() -> PoseEstimator:
                return create_estimator(
                    backend,
                    model_complexity=options.model_complexity,
                    mock_people=options.mock_people,
                    device=pose_device,
                    threads=options.pose_threads,
                )

            drawn_while_tracking = segments == 1
            if not drawn_while_tracking:
                # Every picture is tracked first, then drawn once with the final dancer.
                estimator = new_estimator()
                try:
                    gathered, segments = _estimate_in_segments(
                        info, options, estimator, segments, progress, found
                    )
                finally:
                    estimator.close()
                child_peak_mb = None
            else:
                # The child starts decoding while the model loads.
                with FrameProcess(info, options.limits, overlay) as frames:
                    estimator = new_estimator()
                    try:
                        gathered = _estimate(frames, estimator, info, progress, found)
                    finally:
                        estimator.close()
                child_peak_mb = frames.peak_rss_mb
            dancer_id = found.choose()  # no_such_dancer: before anything is measured

            progress.on_stage(Stage.MEASURE)
            t_ms, landmarks, world = gathered.arrays(dancer_id)
            end_ms = max(info.duration_s * 1000.0, float(t_ms[-1]) if len(t_ms) else 0.0)
            music = _within(music_future.result(), end_ms)
            if options.one_ms is not None:
                music = recount(music, options.one_ms)
            series = analyze_series(
                t_ms,
                landmarks,
                world,
                width=info.width,
                height=info.height,
                options=options.analysis,
            )
            timing, feedback = _timing(t_ms, series, music, info, options)

            progress.on_stage(Stage.WRITE)
            names = ["landmarks_csv", "angles_csv", "coco17", "people"]
            write_people(
                staging / ARTIFACT_NAMES["people"],
                {
                    "dancer_id": dancer_id,
                    "people_seen": found.people_seen,
                    "people": found.summary(dancer_id),
                },
                t_ms,
                gathered.rows(),
                width=info.width,
                height=info.height,
            )
            write_landmarks_csv(
                staging / ARTIFACT_NAMES["landmarks_csv"],
                t_ms,
                landmarks,
                world,
                series.clean_landmarks,
            )
            write_angles_csv(staging / ARTIFACT_NAMES["angles_csv"], t_ms, series.angles)
            write_coco17(
                staging / ARTIFACT_NAMES["coco17"],
                t_ms,
                landmarks,
                width=info.width,
                height=info.height,
            )
            # The original backend's files, from the arrays in hand (nothing decoded again).
            write_keypoints_2d(
                staging / ARTIFACT_NAMES["keypoints_2d"],
                landmarks,
                width=info.width,
                height=info.height,
            )
            write_keypoints_3d(staging / ARTIFACT_NAMES["keypoints_3d"], world)
            write_client_analysis(
                staging / ARTIFACT_NAMES["analysis"],
                t_ms,
                landmarks,
                width=info.width,
                height=info.height,
                fps=info.fps,
                feedback=feedback,
            )
            names += ["keypoints_2d", "keypoints_3d", "analysis"]
            overlay_passes = 0
            if overlay is not None:
                from dance_analysis.video.writer import finalize_mp4

                overlay_passes = 1
                if not drawn_while_tracking:
                    _draw_overlay(info, options, overlay, gathered, dancer_id, progress)
                elif gathered.needs_redraw(dancer_id):
                    overlay = replace(overlay, path=staging / "overlay.redrawn.mp4")
                    _draw_overlay(info, options, overlay, gathered, dancer_id, progress)
                    overlay_passes = 2
                finalize_mp4(
                    overlay.path,
                    staging / ARTIFACT_NAMES["overlay"],
                    audio_source=clip if info.has_audio else None,
                )
                names.append("overlay")
            if options.marks:
                (staging / ARTIFACT_NAMES["marks"]).write_text(
                    json.dumps(marks_document(options.marks), ensure_ascii=False),
                    encoding="utf-8",
                )
                names.append("marks")
            names += [*EXPORT_ARTIFACTS, "result"]
            header = _header(
                info, device(), sha256.result(), estimator, options, series, len(t_ms), names,
                music, timing, feedback, found, dancer_id,
            )  # fmt: skip
            # Issue 12's exports: OpenSim, Kinovea, BVH and the student's report, whose
            # pictures come from the finished overlay (or the clip without one).
            write_exports(
                Motion(t_ms=t_ms, landmarks=landmarks, world=world, angles=series.angles,
                       header=header),
                staging,
                marks=options.marks,
                video=staging / ARTIFACT_NAMES["overlay"] if "overlay" in names else clip,
                names=EXPORT_ARTIFACTS,
            )  # fmt: skip
            write_result(
                staging / ARTIFACT_NAMES["result"],
                header,
                t_ms,
                landmarks,
                world,
                series.clean_landmarks,
            )
            published = _publish(staging, out_dir, names)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise OutputError(
                Reason.INSUFFICIENT_STORAGE, "The disk is full: free some space and try again."
            ) from error
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    with_dancer = int((~np.isnan(landmarks[:, :, 0]).all(axis=1)).sum())
    return AnalysisOutcome(
        out_dir=out_dir,
        artifacts=published,
        frame_count=len(t_ms),
        frames_with_person=with_dancer,
        feedback_count=len(feedback),
        warnings=list(series.warnings),
        elapsed_s=time.perf_counter() - started,
        frame_process_peak_mb=child_peak_mb,
        music=music.to_dict(),
        dancer_id=dancer_id,
        people_seen=found.people_seen,
        people_ids=sorted(found.tracks),
        overlay_passes=overlay_passes,
        segments=segments,
        summary=lesson_summary(header),
    )
