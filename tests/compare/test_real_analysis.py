"""The comparison on a real analysis: the squats clip through the whole pipeline with
the real pose model (once per session: ``analysed_squats`` in conftest.py), its
result.json read back from disk."""

from __future__ import annotations

import json

import pytest

from dance_analysis.compare import Performance, compare
from tests.compare import clips

pytestmark = pytest.mark.slow


def test_a_real_result_against_itself(analysed_squats: dict) -> None:
    performance = Performance.from_result(analysed_squats)
    outcome = compare(performance, performance)
    assert outcome.overall is not None and outcome.overall >= 95
    assert abs(outcome.time_offset_ms) < 1.0 and outcome.mirrored is False
    out = outcome.to_dict()
    assert out["comparison"]["reference"]["sha256"] == analysed_squats["video"]["sha256"]
    json.dumps(out, allow_nan=False)


def test_a_real_result_mirrored_and_late(analysed_squats: dict) -> None:
    student = clips.delayed(clips.mirrored(analysed_squats), 1000.0)
    outcome = compare(Performance.from_result(student), Performance.from_result(analysed_squats))
    assert outcome.mirrored is True
    assert outcome.time_offset_ms == pytest.approx(1000.0, abs=clips.FRAME_MS)
    assert outcome.overall is not None and outcome.overall >= 90


def test_our_analysis_against_the_published_reference_landmarks(
    analysed_squats: dict, squats: dict
) -> None:
    """Two estimates of one dance (our run of the model, and the model's published
    output): the same dance, so a high score, at offset zero."""
    outcome = compare(Performance.from_result(analysed_squats), Performance.from_result(squats))
    assert outcome.overall is not None and outcome.overall >= 85
    assert abs(outcome.time_offset_ms) <= clips.FRAME_MS
    assert outcome.mirrored is False
