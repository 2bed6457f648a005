"""A student's analysed clip against a teacher's: the comparison step of the engine.

The command line (``analyze STUDENT --reference TEACHER``) and the job service's
comparison jobs both come here, so a result compared on a laptop and one compared on
a server are the same. Everything starts from two finished analyses (``result.json``
dicts): the pose model never runs again.

:func:`compare_results` is the maths on dicts; :func:`write_comparison` writes the
student's result.json with the comparison in it and, given the clips, the comparison's videos
(ghost.mp4 and practice.mp4, :mod:`dance_analysis.compare_videos`) and the student's
report with the count sheet (report.html, :mod:`dance_analysis.exports.report`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dance_analysis.analysis.timing import with_counts
from dance_analysis.artifacts import ARTIFACT_NAMES, write_client_analysis_from_result
from dance_analysis.compare import CompareError, Performance, compare
from dance_analysis.compare.align import Alignment
from dance_analysis.errors import CannotCompare, OutputError, Reason

COMPARISON_TOPIC = "comparison"
GHOST_FILE = ARTIFACT_NAMES["ghost"]  # the teacher's ghost over the student's video
PRACTICE_FILE = ARTIFACT_NAMES["practice"]  # the weakest segments, side by side at half speed

VideoProgress = Callable[[float], None]
"""``progress(share)``: the share (0–1) of the comparison's videos written so far; called
before the first picture and after each one. It may raise to stop the writing."""


def _umask() -> int:
    """The process's umask: read by setting it and putting it back (once, at import)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() gives a new file


def compare_results(
    student_result: Mapping[str, Any],
    teacher_result: Mapping[str, Any],
    *,
    teacher_job_id: str | None = None,
) -> dict[str, Any]:
    """The student's result with ``comparison`` and the comparison's feedback merged in.

    The merged ``feedback`` is sorted by time (stable: the pipeline's order stays for
    equal times) and every item carries its ``count``: the analysis's on the student's
    music, as the pipeline gives them, the comparison's in the teacher's counts, as
    their words number them. Feedback from an earlier comparison is replaced, so
    comparing a result again does not pile items up. Raises :class:`CannotCompare`
    when either clip has no dancer. Neither argument is changed.
    """
    student = Performance.from_result(student_result)
    teacher = Performance.from_result(teacher_result, job_id=teacher_job_id)
    try:
        compared = compare(student, teacher).to_dict()
    except CompareError as error:
        # compare() names the clip in its message; the reason code is what clients read.
        raise CannotCompare("teacher's" if "teacher" in str(error) else "student's") from error
    own = [
        item
        for item in student_result.get("feedback") or ()
        if item.get("topic") != COMPARISON_TOPIC
    ]
    items = [
        *with_counts(own, _counts(student_result)),
        *_in_teacher_counts(compared["feedback"], compared["comparison"], teacher_result),
    ]
    items.sort(key=lambda item: float(item["time_ms"]))
    return {**student_result, "comparison": compared["comparison"], "feedback": items}


def _in_teacher_counts(
    items: list[dict[str, Any]], comparison: Mapping[str, Any], teacher: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The comparison's items with the ``count`` their moment has in the teacher's counts,
    the numbering their words use ("Counts 9–16: …"): the two recordings may number
    their phrases a bar apart. Without a counts alignment: no count."""
    alignment = comparison.get("alignment") or {}
    if alignment.get("method") != "counts":
        return with_counts(items, [])
    to_teacher = Alignment(
        "counts",
        np.asarray(alignment["map"], dtype=np.float64).reshape(-1, 2),
        float(comparison["tempo_ratio"]),
        float(comparison["time_offset_ms"]),
    )
    on_teacher = [
        {**item, "time_ms": float(to_teacher.teacher_ms(float(item["time_ms"])))}
        for item in items
    ]
    counted = with_counts(on_teacher, _counts(teacher))
    return [{**item, "count": c["count"]} for item, c in zip(items, counted, strict=True)]


def _counts(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    music = result.get("music") or {}
    return list(music.get("counts") or []) if music.get("present") else []


def write_comparison(
    student_result: Mapping[str, Any],
    teacher_result: Mapping[str, Any],
    out_dir: Path,
    *,
    teacher_job_id: str | None = None,
    student_clip: Path | None = None,
    teacher_clip: Path | None = None,
    progress: VideoProgress | None = None,
) -> dict[str, Path]:
    """Compare and write the comparison's files into ``out_dir``; artifact name → path.

    result.json is written whole (a temporary file renamed into place), so a reader
    never sees half of it. ``student_clip`` (and ``teacher_clip``): the two videos, for
    ghost.mp4 (and practice.mp4, when a segment was scored) and report.html; None:
    result.json only.
    ``progress``: see :data:`VideoProgress`; whatever it raises goes through unchanged,
    and the files written so far are removed.
    """
    compared = compare_results(student_result, teacher_result, teacher_job_id=teacher_job_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Path] = {}
    try:
        # The comparison's videos (issue 9, point 7), from both clips when given them.
        if student_clip is not None:
            _write_videos(
                compared["comparison"], student_result, teacher_result, out_dir, artifacts,
                student_clip, teacher_clip, progress,
            )  # fmt: skip
            artifacts["report"] = _write_report(compared, out_dir, student_clip)
    except BaseException:
        for path in artifacts.values():
            path.unlink(missing_ok=True)
        raise
    # Kinovea's keyframes with the comparison's feedback too (no pictures needed).
    artifacts["kva"] = _write_kva(compared, out_dir)
    artifacts["result"] = _write_json(out_dir / ARTIFACT_NAMES["result"], compared)
    # The original backend's client reads the feedback here: now with the comparison's.
    analysis = out_dir / ARTIFACT_NAMES["analysis"]
    write_client_analysis_from_result(analysis, compared)
    artifacts["analysis"] = analysis
    return artifacts


def _write_report(compared: Mapping[str, Any], out_dir: Path, student_clip: Path) -> Path:
    """The student's report with the comparison and its count sheet (issue 12); its
    pictures from the student's clip, the skeleton drawn on them."""
    from dance_analysis.exports import Motion, write_exports

    written = write_exports(
        Motion.from_result(compared), out_dir, video=student_clip, names=("report",)
    )
    return written["report"]


def _write_kva(compared: Mapping[str, Any], out_dir: Path) -> Path:
    from dance_analysis.exports import Motion, write_exports

    return write_exports(Motion.from_result(compared), out_dir, names=("kva",))["kva"]


def _write_videos(
    comparison: Mapping[str, Any],
    student_result: Mapping[str, Any],
    teacher_result: Mapping[str, Any],
    out_dir: Path,
    artifacts: dict[str, Path],
    student_clip: Path,
    teacher_clip: Path | None,
    progress: VideoProgress | None,
) -> None:
    """ghost.mp4, then practice.mp4 if there is a segment to practise, into ``artifacts``
    as each is done; ``progress`` gets each video's share of the whole (half each)."""
    from dance_analysis.compare_videos import weakest_segments, write_ghost, write_practice

    practice = teacher_clip is not None and bool(weakest_segments(comparison))
    shares = (0.5, 0.5) if practice else (1.0, 0.0)
    artifacts["ghost"] = write_ghost(
        student_clip, out_dir / GHOST_FILE, student_result, teacher_result, comparison,
        progress=_part(progress, 0.0, shares[0]),
    )  # fmt: skip
    if practice:
        assert teacher_clip is not None
        artifacts["practice"] = write_practice(
            student_clip, teacher_clip, student_result, teacher_result, comparison,
            out_dir / PRACTICE_FILE, progress=_part(progress, shares[0], shares[1]),
        )  # fmt: skip
    if progress is not None:
        progress(1.0)  # both done: one more chance to stop before result.json


def _part(
    progress: VideoProgress | None, start: float, share: float
) -> Callable[[int, int], None] | None:
    """One video's pictures as its ``share`` of the whole, from ``start``."""
    if progress is None:
        return None
    report = progress

    def on_pictures(done: int, expected: int) -> None:
        report(start + share * min(1.0, done / max(expected, 1)))

    return on_pictures


def _write_json(path: Path, data: Mapping[str, Any]) -> Path:
    try:
        handle, name = tempfile.mkstemp(prefix=".result-", suffix=".json", dir=path.parent)
        try:
            os.fchmod(handle, _FILE_MODE)  # mkstemp's 0600 would hide it from other readers
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise OutputError(
            Reason.OUTPUT_NOT_WRITABLE, f"The comparison cannot be written to {path}: {error}"
        ) from error
    return path
