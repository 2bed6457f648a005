"""The original backend's files: keypoints_2d.json, keypoints_3d.json, analysis.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dance_analysis.artifacts import (
    client_feedback,
    clock,
    write_client_analysis,
    write_client_analysis_from_result,
    write_keypoints_2d,
    write_keypoints_3d,
    write_result,
)
from dance_analysis.skeleton import COCO_17, to_coco17

WIDTH, HEIGHT = 640, 360


def _arrays(frames: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    t_ms = np.arange(frames) * 40.0 + 3.0
    landmarks = rng.random((frames, 33, 4))
    world = rng.normal(0.0, 0.4, (frames, 33, 4))
    landmarks[2] = np.nan  # no dancer in frame 2
    world[2] = np.nan
    return t_ms, landmarks, world


def test_keypoints_are_coco17_in_pixels_and_metres_with_zeros_without_a_dancer(
    tmp_path: Path,
) -> None:
    t_ms, landmarks, world = _arrays()
    write_keypoints_2d(tmp_path / "k2.json", landmarks, width=WIDTH, height=HEIGHT)
    write_keypoints_3d(tmp_path / "k3.json", world)
    flat = json.loads((tmp_path / "k2.json").read_text())
    deep = json.loads((tmp_path / "k3.json").read_text())
    assert len(flat) == len(deep) == len(t_ms)
    assert flat[2] == [[0, 0]] * 17 and deep[2] == [[0, 0, 0]] * 17
    coco, coco_world = to_coco17(landmarks), to_coco17(world)
    for i in (0, 1, 3, 4, 5):
        expected = coco[i, :, :2] * [WIDTH, HEIGHT]
        assert np.allclose(flat[i], expected, atol=0.006)
        assert np.allclose(deep[i], coco_world[i, :, :3], atol=0.00006)


def test_feedback_in_the_clients_words() -> None:
    assert [clock(ms) for ms in (0, 999.9, 61_900, 599_999, 754_000, -5)] == [
        "0:00", "0:00", "1:01", "9:59", "12:34", "0:00",
    ]  # fmt: skip
    items = [
        {"time_ms": 1500.0, "message": "On the beat.", "severity": "info"},
        {"time_ms": 62_000.0, "message": "Knees bent.", "severity": "warning"},
        {"time_ms": 90_250.0, "message": "No dancer.", "severity": "critical"},
    ]
    assert client_feedback(items) == [
        {"timestamp": "0:01", "type": "positive", "feedback": "On the beat.", "time_ms": 1500.0},
        {"timestamp": "1:02", "type": "negative", "feedback": "Knees bent.", "time_ms": 62000.0},
        {"timestamp": "1:30", "type": "negative", "feedback": "No dancer.", "time_ms": 90250.0},
    ]


def test_analysis_json_made_again_from_result_json_is_the_same_file(tmp_path: Path) -> None:
    t_ms, landmarks, world = _arrays()
    feedback = [{"time_ms": 41.0, "message": "Fine.", "severity": "info"}]
    write_client_analysis(
        tmp_path / "first.json", t_ms, landmarks, width=WIDTH, height=HEIGHT, fps=25.0,
        feedback=feedback,
    )  # fmt: skip
    header = {"video": {"width": WIDTH, "height": HEIGHT, "fps": 25.0}, "feedback": feedback}
    write_result(tmp_path / "result.json", header, t_ms, landmarks, world, landmarks)
    result = json.loads((tmp_path / "result.json").read_text())
    write_client_analysis_from_result(tmp_path / "again.json", result)
    first = (tmp_path / "first.json").read_bytes()
    assert (tmp_path / "again.json").read_bytes() == first

    doc = json.loads(first)
    assert doc["video"] == {"width": WIDTH, "height": HEIGHT, "fps": 25.0}
    assert doc["pose_data"][2] == {"timestamp": 0.083, "keypoints": []}
    names = [k["name"] for k in doc["pose_data"][0]["keypoints"]]
    assert names == list(COCO_17.joints)
    xs = [k["x"] for pose in doc["pose_data"] for k in pose["keypoints"]]
    assert max(xs) > 1.0 and max(xs) <= WIDTH  # pixels


def test_a_joint_missing_beside_a_found_dancer_is_a_number_not_null(tmp_path: Path) -> None:
    """The Flutter client casts every x, y and confidence to a number: a joint the model
    did not place (NaN) in a frame with a dancer is 0, 0 with confidence 0 (not drawn)."""
    t_ms, landmarks, _ = _arrays()
    left_wrist = COCO_17.joints.index("left_wrist")
    landmarks[4, :, :] = np.where(
        np.isin(np.arange(33), [15])[:, None], np.nan, landmarks[4]
    )  # BlazePose's left wrist (15) is COCO's left wrist
    write_client_analysis(
        tmp_path / "analysis.json", t_ms, landmarks, width=WIDTH, height=HEIGHT, fps=25.0,
        feedback=[],
    )  # fmt: skip
    frame = json.loads((tmp_path / "analysis.json").read_text())["pose_data"][4]
    assert len(frame["keypoints"]) == 17
    for point in frame["keypoints"]:
        assert all(isinstance(point[k], (int, float)) for k in ("x", "y", "confidence"))
    wrist = frame["keypoints"][left_wrist]
    assert (wrist["name"], wrist["x"], wrist["y"], wrist["confidence"]) == (
        "left_wrist", 0.0, 0.0, 0.0,
    )  # fmt: skip
