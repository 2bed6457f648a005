"""The squats clip as the teacher, shared by the comparison tests: its reference
landmarks (read once), and our own analysis of the clip by the real pipeline (once per
session, for the slow tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dance_analysis.pipeline import PipelineOptions, analyze_clip
from tests.compare import clips


@pytest.fixture(scope="session")
def squats() -> dict[str, Any]:
    return clips.squats()


@pytest.fixture(scope="session")
def analysed_squats(squats_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """result.json of the squats clip through the whole pipeline (real MediaPipe)."""
    out = tmp_path_factory.mktemp("compare-squats")
    analyze_clip(squats_clip, out, PipelineOptions(overlay=False))
    result: dict[str, Any] = json.loads((out / "result.json").read_text())
    return result
