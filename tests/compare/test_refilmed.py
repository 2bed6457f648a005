"""The comparison on a student *filmed again*: the squats clip written as another
camera's video (``refilm.COMBINED``: 0.7x further away in a landscape picture, moved
right, rolled 6 degrees, mirrored, the dance 1.2x faster at 6 fps, starting 1.5 s in),
analysed again by the real pose model, and compared with our analysis of the original.

The body and the dance are the same, so the scores should be high. What is left is
what the model reads differently in the new pictures. Measured
(``benchmarks/compare_refilmed.py``): overall 92.2, the lowest part 88.8, offset 1453
ms for 1500, tempo 1.183 for 1.2; the ghost a median 7.4 % of a torso from the
student's own landmarks (6.5 % for the clip merely re-encoded). Nearly all of the lost
points are the mirror: the model's world landmarks of a flipped picture are not the
mirror image of the original's (a median 7 degrees per bone, while its image points
agree within 2 % of a torso), and the flipped video alone scores 91.7; the other
changes each cost under 0.5.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dance_analysis.comparing import compare_results
from dance_analysis.pipeline import PipelineOptions, analyze_clip
from dance_analysis.video.probe import probe
from dance_analysis.video.reader import read_frames
from tests.compare.refilm import COMBINED, Refilmed, ghost_offsets, refilm

SOURCE_FRAMES = 65  # pose_squats.mp4
SOURCE_FRAME_MS = 200.0  # 5 fps: the coarser of the two clips
TORSO_POINTS = [11, 12, 23, 24]  # shoulders and hips


@dataclass(frozen=True)
class RefilmedPair:
    clip: Refilmed
    student: dict[str, Any]
    teacher: dict[str, Any]
    comparison: dict[str, Any]


@pytest.fixture(scope="module")
def refilmed(
    squats_clip: Path, analysed_squats: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> RefilmedPair:
    folder = tmp_path_factory.mktemp("compare-refilmed")
    clip = refilm(squats_clip, folder / "student.mp4", COMBINED)
    analyze_clip(clip.path, folder / "student", PipelineOptions(overlay=False))
    student: dict[str, Any] = json.loads((folder / "student" / "result.json").read_text())
    comparison = compare_results(student, analysed_squats)["comparison"]
    return RefilmedPair(clip, student, analysed_squats, comparison)


def test_the_refilmed_clip_is_another_camera_with_every_frame_new(
    squats_clip: Path, tmp_path: Path
) -> None:
    clip = refilm(squats_clip, tmp_path / "student.mp4", COMBINED)
    info = probe(clip.path)
    assert (info.width, info.height) == COMBINED.size
    lead = 9  # 1.5 s at 6 fps
    assert clip.frames == info.frame_count == lead + SOURCE_FRAMES  # 6 fps x 1.2 = 5 fps
    assert clip.time_offset_ms == pytest.approx(1500.0)
    assert clip.tempo_ratio == pytest.approx(1.2)
    frames = list(read_frames(info))
    assert [f.t_ms for f in frames] == pytest.approx(
        [i * 1000.0 / 6 for i in range(len(frames))], abs=0.1
    )
    # The lead is dark and empty; then the dance, in a picture padded with the wall.
    assert all(f.image.mean() < 40 for f in frames[:lead])
    assert all(f.image.mean() > 100 for f in frames[lead:])
    # No picture is shown twice (a repeated frame is easier for the model's tracker):
    # each differs from the one before by more than 12 grey levels in at least 1000
    # pixels (measured: 1366 at the stillest moment; x264 repeats a picture to within
    # a few levels).
    for before, after in itertools.pairwise(frames):
        changed = np.abs(before.image.astype(np.int16) - after.image).max(axis=-1) > 12
        assert changed.sum() >= 1000


@pytest.mark.slow
def test_the_same_dance_filmed_again_scores_high_in_every_part(refilmed: RefilmedPair) -> None:
    comparison = refilmed.comparison
    # Measured 92.2. 85 leaves 7 points for another build of the model or another CPU,
    # and still lies well above a different dance (49-62 in docs/design/compare.md)
    # and above the same squats in shuffled order (77).
    assert comparison["overall"] >= 85
    parts = comparison["parts"]
    assert all(parts[name] is not None for name in parts)
    # The body is the same: no part far below the rest (measured: 88.8 to 99.1).
    assert min(parts.values()) >= max(80.0, comparison["overall"] - 10)
    for segment in comparison["segments"]:
        assert min(v for v in segment["parts"].values() if v is not None) >= 75


@pytest.mark.slow
def test_the_refilmed_student_is_found_mirrored_later_and_faster(refilmed: RefilmedPair) -> None:
    comparison, truth = refilmed.comparison, refilmed.clip
    assert comparison["mirrored"] is True
    assert all(segment["mirrored"] for segment in comparison["segments"])
    assert abs(comparison["time_offset_ms"] - truth.time_offset_ms) <= SOURCE_FRAME_MS
    # The straight-line search tries tempo ratios about 2 % apart; the fit refines it.
    assert comparison["tempo_ratio"] == pytest.approx(truth.tempo_ratio, abs=0.05)
    # The student's empty first 1.5 s has no dancer: nothing is scored there.
    assert comparison["segments"][0]["start_ms"] >= truth.time_offset_ms - SOURCE_FRAME_MS


@pytest.mark.slow
def test_the_teachers_ghost_sits_on_the_refilmed_student(refilmed: RefilmedPair) -> None:
    offsets = ghost_offsets(refilmed.student, refilmed.teacher, refilmed.comparison)
    seen = ~np.isnan(offsets).all(axis=1)
    # Every frame with the dancer has a ghost (the lead has neither).
    people = np.array([bool(f["person"]) for f in refilmed.student["frames"]])
    assert seen.sum() >= 0.95 * people.sum()
    # Measured: median 7.4 % of a torso (the clip merely re-encoded: 6.5 %, the model's
    # own disagreement between its world and image landmarks), 90th percentile 18 %;
    # at the shoulders and hips, where the ghost is anchored and scaled, less.
    assert np.nanmedian(offsets) < 0.10
    assert np.nanpercentile(offsets, 90) < 0.25
    assert np.nanmedian(offsets[:, TORSO_POINTS]) < 0.08
