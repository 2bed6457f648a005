"""Analyses the export tests read: the mock pipeline on a short real clip (once per
session), and the squats clip's real BlazePose world landmarks (the model's published
output, ``pose_squats_3d.full.json``) as a Motion, with no model run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dance_analysis.exports import Motion
from dance_analysis.marks import parse_marks
from dance_analysis.pipeline import AnalysisOutcome, PipelineOptions, analyze_clip
from tests.conftest import shared_file
from tests.media import make_clip

SQUATS_FRAME_MS = 200.0  # the squats clip is 5 fps
#: One mark of each kind, on frames of the mock analysis.
MARKS = parse_marks(
    [
        {"id": "a1", "kind": "angle", "t_ms": 400.0,
         "points": [[0.4, 0.3], [0.5, 0.5], [0.6, 0.3]]},
        {"id": "l1", "kind": "line", "t_ms": 400.0, "points": [[0.1, 0.9], [0.9, 0.9]]},
        {"id": "n1", "kind": "note", "t_ms": 1000.0, "points": [[0.2, 0.2]],
         "text": "Knees <soft> & over toes"},
    ]
)  # fmt: skip


@pytest.fixture(scope="session")
def mock_analysis(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisOutcome, Path]:
    """Four seconds of the squats clip (small, 5 fps: 20 frames) through the whole
    pipeline in the documented mock mode, without the overlay."""
    folder = tmp_path_factory.mktemp("exports-mock")
    clip = make_clip(folder / "clip.mp4", seconds=4.0)
    out = folder / "out"
    outcome = analyze_clip(clip, out, PipelineOptions(backend="mock", overlay=False))
    return outcome, out


@pytest.fixture(scope="session")
def mock_result(mock_analysis: tuple[AnalysisOutcome, Path]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((mock_analysis[1] / "result.json").read_text())
    return result


@pytest.fixture(scope="session")
def real_motion() -> Motion:
    """The squats clip as the real model saw it: 65 frames of world landmarks (metres,
    hip-centred, y down) and image points (pixels of its 720x1280 picture)."""
    world = np.array(json.loads(shared_file("pose_squats_3d.full.json").read_text()))
    pixels = np.array(json.loads(shared_file("pose_squats.full.json").read_text()))
    count = len(world)
    visibility = np.full((count, 33, 1), 0.99)
    landmarks = np.concatenate(
        [pixels[:, :, :2] / np.array([720.0, 1280.0]), pixels[:, :, 2:3] / 720.0, visibility],
        axis=2,
    )
    header = {"video": {"name": "pose_squats.mp4", "width": 720, "height": 1280, "fps": 5.0,
                        "time_base": "1/10240", "start_pts": 0},
              "feedback": []}  # fmt: skip
    return Motion(
        t_ms=np.arange(count) * SQUATS_FRAME_MS,
        landmarks=landmarks,
        world=np.concatenate([world, visibility], axis=2),
        angles={},
        header=header,
    )
