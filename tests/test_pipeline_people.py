"""Everyone in the frame through the whole pipeline, in the documented mock mode.

``mock_people=2`` is the mock backend's two-dancer scene (dance_analysis/pose/mock.py):
a small figure at the left (id 1) from the start, the main figure (id 2) walking in
at 0.4 s. Nothing here is faked: the real pipeline, frame process, writers and overlay
run on a real clip; only the poses are the mock's, as in every mock-mode analysis.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from dance_analysis.errors import MediaError, Reason
from dance_analysis.pipeline import AnalysisOutcome, PipelineOptions, analyze_clip
from dance_analysis.pose import UnknownBackend
from dance_analysis.pose.mock import SECOND_DANCER_FROM_MS
from tests.conftest import REPO
from tests.media import make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 2 s at 5 fps: 10 frames, the second dancer from the third.
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


def _analyse(clip: Path, out: Path, **options: Any) -> tuple[AnalysisOutcome, dict[str, Any]]:
    outcome = analyze_clip(clip, out, PipelineOptions(backend="mock", **options))
    return outcome, json.loads((out / "result.json").read_text())


@pytest.fixture(scope="module")
def one(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisOutcome, dict]:
    return _analyse(clip, tmp_path_factory.mktemp("one"))


@pytest.fixture(scope="module")
def two(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisOutcome, dict]:
    return _analyse(clip, tmp_path_factory.mktemp("two"), mock_people=2)


def _schema_valid(result: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads((REPO / "docs" / "result.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(result)


def test_one_dancer_is_chosen_and_drawn_in_one_pass(one: tuple[AnalysisOutcome, dict]) -> None:
    outcome, result = one
    _schema_valid(result)
    assert result["dancer_id"] == 1 and result["people_seen"] == 1
    assert result["people"] == [
        {"id": 1, "first_ms": 0.0, "last_ms": 1800.0, "frames": 10, "chosen": True}
    ]
    assert outcome.overlay_passes == 1  # the common case: no second pass
    assert result["model"]["backend"] == "mock"
    people = json.loads((outcome.out_dir / "people.json").read_text())
    assert result["artifacts"]["people"] == "people.json"
    assert [len(frame["people"]) for frame in people["frames"]] == [1] * 10
    # people.json holds the dancer's landmarks as result.json does (x, y, visibility).
    first = np.array(people["frames"][0]["people"][0]["landmarks"])
    expected = np.array(result["frames"][0]["landmarks"])[:, [0, 1, 3]]
    np.testing.assert_allclose(first, expected, atol=1e-5)


def test_two_people_the_rule_picks_the_main_dancer_and_redraws(
    two: tuple[AnalysisOutcome, dict],
) -> None:
    outcome, result = two
    _schema_valid(result)
    assert result["people_seen"] == 2
    assert result["dancer_id"] == 2 == outcome.dancer_id
    by_id = {person["id"]: person for person in result["people"]}
    assert by_id[1] == {"id": 1, "first_ms": 0.0, "last_ms": 1800.0, "frames": 10, "chosen": False}
    assert by_id[2]["first_ms"] == SECOND_DANCER_FROM_MS and by_id[2]["frames"] == 8
    assert by_id[2]["chosen"] is True
    # The first frames were drawn with id 1 as the leader: the overlay is drawn again.
    assert outcome.overlay_passes == 2
    # Downstream is about dancer 2 alone: no landmarks before they walk in.
    frames = result["frames"]
    assert [f["landmarks"] is None for f in frames] == [True, True] + [False] * 8
    assert outcome.frames_with_person == 8
    # ...and the landmarks are the main figure's (centred), not the small one's.
    hips_x = np.array(frames[5]["landmarks"])[[23, 24], 0].mean()
    assert abs(hips_x - 0.5) < 0.06
    people = json.loads((outcome.out_dir / "people.json").read_text())
    assert people["dancer_id"] == 2 and people["people_seen"] == 2
    assert [sorted(p["id"] for p in f["people"]) for f in people["frames"][:3]] == [
        [1],
        [1],
        [1, 2],
    ]
    box = people["frames"][0]["people"][0]["box"]
    assert box[0] < box[2] < 0.5  # the small figure stands at the left


def _first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_the_published_overlay_shows_the_final_dancer(
    clip: Path, two: tuple[AnalysisOutcome, dict]
) -> None:
    """Frame 0 has only dancer 1, drawn as the leader in the first pass; the published
    overlay has it drawn faintly, as one of the others."""
    from dance_analysis.render import draw_others, draw_pose

    outcome, _ = two
    published = _first_frame(outcome.out_dir / "overlay.mp4").astype(int)
    people = json.loads((outcome.out_dir / "people.json").read_text())
    landmarks = np.array(people["frames"][0]["people"][0]["landmarks"])
    pose = np.column_stack([landmarks[:, :2], np.zeros(33), landmarks[:, 2]])
    faint, full = _first_frame(clip), _first_frame(clip)
    draw_others(faint, pose[None])
    draw_pose(full, pose, None)
    as_other = np.abs(published - faint).mean()
    as_dancer = np.abs(published - full).mean()
    assert as_other < 0.5 * as_dancer, (as_other, as_dancer)


def test_the_user_can_choose_the_other_dancer(clip: Path, tmp_path: Path) -> None:
    outcome, result = _analyse(clip, tmp_path, mock_people=2, dancer_id=1)
    assert result["dancer_id"] == 1 and result["options"]["dancer_id"] == 1
    assert [p["chosen"] for p in result["people"]] == [True, False]
    assert outcome.overlay_passes == 1  # asked for up front: drawn right the first time
    assert all(f["landmarks"] is not None for f in result["frames"])
    hips_x = np.array(result["frames"][5]["landmarks"])[[23, 24], 0].mean()
    assert hips_x < 0.35


def test_a_dancer_not_in_the_clip_is_refused_with_the_ids_seen(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        analyze_clip(clip, tmp_path, PipelineOptions(backend="mock", mock_people=2, dancer_id=7))
    assert caught.value.reason is Reason.NO_SUCH_DANCER
    assert "no dancer 7" in caught.value.message and "1 and 2" in caught.value.message
    assert not (tmp_path / "result.json").exists()


def test_an_unknown_backend_is_refused_before_any_work(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownBackend) as caught:
        analyze_clip(clip, tmp_path / "out", PipelineOptions(backend="openpose"))
    assert caught.value.reason is Reason.UNKNOWN_BACKEND
    assert "auto, torch, litert, mediapipe, mock" in caught.value.message
    assert not (tmp_path / "out").exists()
