"""A student's clip against a teacher's: aligned, normalised, mirror-aware scores per
body part and per segment, and feedback in dance terms. Pure numpy over two analysed
results (``result.json`` dicts): the pose model never runs again.

    student = Performance.from_result(student_result)
    teacher = Performance.from_result(teacher_result, job_id=teacher_job_id)
    student_result.update(compare(student, teacher).to_dict())  # adds comparison, feedback

Modules: ``model`` (Performance in, Comparison out), ``features`` (the body frame,
bone directions, retargeting), ``mirror``, ``align`` (counts to counts, or DTW),
``score`` (the formula), ``feedback`` (the words), ``ghost`` (the teacher's pose placed
in the student's picture). See docs/design/compare.md.
"""

from __future__ import annotations

import numpy as np

from dance_analysis.compare.align import Alignment, find_alignment
from dance_analysis.compare.features import PART_NAMES, BodyFeatures, body_features, retarget
from dance_analysis.compare.feedback import comparison_feedback
from dance_analysis.compare.ghost import ghost_points
from dance_analysis.compare.model import Comparison, Performance, Segment
from dance_analysis.compare.score import FORMULA_VERSION, score_comparison


class CompareError(ValueError):
    """Two clips that cannot be compared (no dancer in one of them)."""


def compare(student: Performance, teacher: Performance) -> Comparison:
    """Compare ``student`` with ``teacher`` (see the module docstring)."""
    for who, performance in (("student", student), ("teacher", teacher)):
        if len(performance.t_ms) < 2 or np.isnan(performance.world).all():
            raise CompareError(f"no dancer found in the {who}'s clip")
    student_features = body_features(student)
    teacher_features = body_features(teacher)
    alignment = find_alignment(student, teacher, student_features, teacher_features)
    scores = score_comparison(student, teacher, student_features, teacher_features, alignment)
    reference: dict[str, str] = {"source": teacher.source or "", "sha256": teacher.sha256 or ""}
    if teacher.job_id is not None:
        reference["job_id"] = teacher.job_id
    return Comparison(
        reference=reference,
        overall=scores.overall,
        mirrored=scores.mirrored,
        time_offset_ms=alignment.time_offset_ms,
        tempo_ratio=alignment.tempo_ratio,
        method=alignment.method,
        alignment_map=alignment.map_ms,
        parts=scores.parts,
        segments=[s.segment for s in scores.segments],
        formula_version=FORMULA_VERSION,
        feedback=comparison_feedback(
            scores.segments,
            scores.parts,
            scores.mirrored,
            frame_ms=max(student.frame_ms, teacher.frame_ms),
            method=alignment.method,
        ),
    )


__all__ = [
    "PART_NAMES", "Alignment", "BodyFeatures", "CompareError", "Comparison", "Performance",
    "Segment", "body_features", "compare", "ghost_points", "retarget",
]  # fmt: skip
