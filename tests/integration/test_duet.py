"""Two real dancers through the real graph: the squats beside a smaller mirrored copy.

The clip is made at test time: the shared clip on the left, its mirror image at 70 %
size on the right (a second dancer who moves the same way, smaller, so the dancer rule
has a clear answer). Our own graph on LiteRT finds both, keeps their ids on every
frame, chooses the bigger dancer by the rule, analyses the other on request, and gives
the same people when the clip is cut into segments tracked at once (the GPU's way).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dance_analysis.pipeline import AnalysisOutcome, PipelineOptions, analyze_clip
from dance_analysis.video.probe import probe
from tests.media import SQUATS, ffmpeg

FRAMES = 65


@pytest.fixture(scope="module")
def duet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("duet") / "duet.mp4"
    ffmpeg("-i", SQUATS, "-an", "-filter_complex",
           "[0:v]split[a][b];[b]hflip,scale=iw*0.7:ih*0.7,pad=720:1280:0:(1280-ih)/2[m];"
           "[a][m]hstack,scale=720:640",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "16",
           "-keyint_min", "16", "-sc_threshold", "0", out)  # fmt: skip
    return out


def analyse(clip: Path, out: Path, **options: Any) -> tuple[AnalysisOutcome, dict[str, Any]]:
    outcome = analyze_clip(clip, out, PipelineOptions(backend="litert", **options))
    return outcome, json.loads((out / "result.json").read_text())


@pytest.fixture(scope="module")
def by_rule(duet: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisOutcome, dict]:
    return analyse(duet, tmp_path_factory.mktemp("by-rule"))


def side_of(landmarks: list[list[float]] | None) -> str:
    assert landmarks is not None
    xs = np.array(landmarks)[:, 0]
    return "left" if np.median(xs) < 0.5 else "right"


def ids_by_side(out: Path) -> dict[str, set[int]]:
    people = json.loads((out / "people.json").read_text())
    sides: dict[str, set[int]] = {"left": set(), "right": set()}
    for frame in people["frames"]:
        for person in frame["people"]:
            sides[side_of(person["landmarks"])].add(person["id"])
    return sides


def test_both_dancers_are_found_with_one_id_each_on_every_frame(
    by_rule: tuple[AnalysisOutcome, dict], tmp_path: Path
) -> None:
    outcome, result = by_rule
    assert result["people_seen"] == 2
    assert [p["frames"] for p in result["people"]] == [FRAMES, FRAMES]
    sides = ids_by_side(outcome.out_dir)
    assert len(sides["left"]) == 1 and len(sides["right"]) == 1  # nobody ever swaps sides
    assert sides["left"] != sides["right"]
    assert result["model"]["backend"] == "litert" and result["model"]["device"] == "cpu"


def test_the_rule_chooses_the_bigger_dancer_and_never_switches(
    by_rule: tuple[AnalysisOutcome, dict],
) -> None:
    outcome, result = by_rule
    (left,) = ids_by_side(outcome.out_dir)["left"]
    assert result["dancer_id"] == left
    assert [p["id"] for p in result["people"] if p["chosen"]] == [left]
    assert all(side_of(f["landmarks"]) == "left" for f in result["frames"])
    assert outcome.overlay_passes == 1  # the leader was the final dancer from the start
    assert outcome.segments == 1  # one stream on the CPU
    assert probe(outcome.out_dir / "overlay.mp4").frame_count == FRAMES


def test_the_other_dancer_is_analysed_on_request(
    duet: Path, by_rule: tuple[AnalysisOutcome, dict], tmp_path: Path
) -> None:
    (right,) = ids_by_side(by_rule[0].out_dir)["right"]
    _, result = analyse(duet, tmp_path / "other", dancer_id=right)
    assert result["dancer_id"] == right
    assert all(side_of(f["landmarks"]) == "right" for f in result["frames"])
    # The smaller dancer's knees bend as much: the analysis is theirs, not a copy.
    assert result["angles"]["summary"]["left_knee"]["min"] < 120
    # (An id nobody has is refused with no_such_dancer: tests/test_pipeline_people.py.)


def test_segments_tracked_at_once_find_the_same_people(
    duet: Path, by_rule: tuple[AnalysisOutcome, dict], tmp_path: Path
) -> None:
    outcome, result = analyse(duet, tmp_path / "segments", segments=3)
    assert outcome.segments == 3
    assert result["people_seen"] == 2
    assert [p["frames"] for p in result["people"]] == [FRAMES, FRAMES]
    assert ids_by_side(outcome.out_dir) == ids_by_side(by_rule[0].out_dir)
    assert result["dancer_id"] == by_rule[1]["dancer_id"]
    assert outcome.overlay_passes == 1  # drawn once, after the choice
    assert probe(outcome.out_dir / "overlay.mp4").frame_count == FRAMES
