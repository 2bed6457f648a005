"""Each export parsed back by a reader written from its format's description
(tests/exports/readers.py, Kinovea's element names checked with xml.etree), on the mock
pipeline's analysis and on the real model's landmarks of the squats clip."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dance_analysis.exports import Motion, write_exports
from dance_analysis.exports.kva import write_kva
from dance_analysis.pipeline import AnalysisOutcome
from dance_analysis.skeleton import BLAZEPOSE_33
from tests.conftest import REPO
from tests.exports.conftest import MARKS
from tests.exports.readers import (
    forward_kinematics,
    read_bvh,
    read_mot,
    read_trc,
    rtf_text,
    storage_table,
)

EXPORTS = {"trc": "markers.trc", "mot": "angles.mot", "kva": "kinovea.kva", "bvh": "skeleton.bvh"}


def _world(result: dict[str, Any]) -> np.ndarray:
    """result.json's world landmarks, (frames, 33, 3), NaN without a dancer."""
    missing = [[math.nan] * 4] * 33
    world = [f["world_landmarks"] or missing for f in result["frames"]]
    return np.array(world, dtype=float)[:, :, :3]


# --- analyze writes them ---------------------------------------------------------------


def test_analyze_writes_the_four_exports_and_lists_them(
    mock_analysis: tuple[AnalysisOutcome, Path], mock_result: dict[str, Any]
) -> None:
    import jsonschema

    outcome, out = mock_analysis
    for name, file_name in EXPORTS.items():
        assert mock_result["artifacts"][name] == file_name
        assert outcome.artifacts[name] == out / file_name
        assert (out / file_name).stat().st_size > 0
    assert not list(out.glob(".partial-*"))
    schema = json.loads((REPO / "docs" / "result.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(mock_result)


# --- markers.trc ------------------------------------------------------------------------


def test_trc_frames_rate_markers_and_axes_match_the_result(
    mock_analysis: tuple[AnalysisOutcome, Path], mock_result: dict[str, Any]
) -> None:
    trc = read_trc(mock_analysis[1] / "markers.trc")
    frames = mock_result["frames"]
    assert int(trc.header["NumFrames"]) == len(frames) == len(trc.frames)
    assert trc.frames == list(range(1, len(frames) + 1))
    fps = mock_result["video"]["fps"]
    assert float(trc.header["DataRate"]) == pytest.approx(fps, abs=1e-3)
    assert float(trc.header["CameraRate"]) == float(trc.header["OrigDataRate"])
    assert trc.header["Units"] == "m"
    assert trc.markers == mock_result["skeleton"]["joints"]
    assert trc.times == pytest.approx([f["t_ms"] / 1000 for f in frames], abs=1e-6)
    # Y up and Z towards the camera: MediaPipe's (x, y, z) is (x, -y, -z).
    world = _world(mock_result)
    assert trc.points == pytest.approx(world * [1, -1, -1], abs=1e-4)
    head_above_feet = trc.points[:, 0, 1] > trc.points[:, 31, 1]
    assert head_above_feet.all()


def test_trc_and_mot_write_nan_where_there_is_no_dancer(
    real_motion: Motion, tmp_path: Path
) -> None:
    world = real_motion.world.copy()
    world[10:13] = np.nan
    angles = {"left_knee": np.where(np.arange(65) % 7 == 0, np.nan, 90.0)}
    motion = Motion(real_motion.t_ms, real_motion.landmarks, world, angles, real_motion.header)
    written = write_exports(motion, tmp_path, names=("trc", "mot"))
    trc = read_trc(written["trc"])
    assert np.isnan(trc.points[10:13]).all() and np.isfinite(trc.points[13]).all()
    assert trc.points.shape == (65, 33, 3)
    assert "NaN" in written["trc"].read_text()
    mot = read_mot(written["mot"])
    assert np.isnan(mot.table[::7, 1]).all() and mot.table[1, 1] == 90.0
    # OpenSim's Storage as well: its legacy reader (version 1) reads no number after
    # the first NaN.
    assert np.array_equal(storage_table(written["mot"]), mot.table, equal_nan=True)


# --- angles.mot -------------------------------------------------------------------------


def test_mot_header_columns_and_values_match_the_result(
    mock_analysis: tuple[AnalysisOutcome, Path], mock_result: dict[str, Any]
) -> None:
    mot = read_mot(mock_analysis[1] / "angles.mot")
    series = mock_result["angles"]["series"]
    frames = mock_result["frames"]
    assert mot.name == "angles"
    assert mot.settings == {"version": "2", "nRows": str(len(frames)),
                            "nColumns": str(len(series) + 1), "inDegrees": "yes"}  # fmt: skip
    assert mot.columns == ["time", *series]
    assert mot.table.shape == (len(frames), len(series) + 1)
    assert mot.table[:, 0] == pytest.approx([f["t_ms"] / 1000 for f in frames], abs=1e-6)
    assert np.all(np.diff(mot.table[:, 0]) > 0)  # OpenSim wants time strictly increasing
    expected = np.array([[math.nan if v is None else v for v in series[n]] for n in series]).T
    assert np.allclose(mot.table[:, 1:], expected, atol=1e-3, equal_nan=True)
    assert 0 < np.nanmax(mot.table[:, 1:]) <= 180  # degrees, not radians


# --- kinovea.kva ------------------------------------------------------------------------


def _kinovea_clock(video: dict[str, Any]) -> tuple[int, Fraction]:
    """Kinovea counts in the stream's time base from its first timestamp."""
    return max(int(video["start_pts"]), 0), 1 / Fraction(video["time_base"])


def test_kva_is_what_kinoveas_reader_expects(
    mock_analysis: tuple[AnalysisOutcome, Path], mock_result: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "kinovea.kva"
    write_kva(Motion.from_result(mock_result), path, MARKS)
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.parse(path).getroot()
    assert root.tag == "KinoveaVideoAnalysis"
    children = [child.tag for child in root]
    # Kinovea reads FormatVersion first, then the size and timing before any keyframe.
    assert children[0] == "FormatVersion" and root.findtext("FormatVersion") == "2.0"
    for tag in ("ImageSize", "AverageTimeStampsPerFrame", "FirstTimeStamp"):
        assert children.index(tag) < children.index("Keyframes")
    assert set(children) <= {
        "FormatVersion", "Producer", "OriginalFilename", "ByteLength", "ImageSize",
        "AverageTimeStampsPerFrame", "FirstTimeStamp", "SelectionStart", "TimeOrigin",
        "Keyframes", "Tracks",
    }  # fmt: skip
    video = mock_result["video"]
    assert root.findtext("OriginalFilename") == Path(video["name"]).stem
    assert root.findtext("ByteLength") == str(video["size_bytes"])
    assert root.findtext("ImageSize") == f"{video['width']};{video['height']}"
    first, ticks_per_s = _kinovea_clock(video)
    per_frame = int(root.findtext("AverageTimeStampsPerFrame") or "")  # an integer
    assert per_frame == round(float(ticks_per_s) / video["fps"])
    assert int(root.findtext("FirstTimeStamp") or "") == first
    frame_ticks = [
        first + round(Fraction(f["t_ms"]) / 1000 * ticks_per_s) for f in mock_result["frames"]
    ]

    # A keyframe per feedback item (items on one frame share it), with its message.
    keyframes = root.findall("Keyframes/Keyframe")
    positions = [int(k.findtext("Position") or "") for k in keyframes]
    assert positions == sorted(positions) and set(positions) <= set(frame_ticks)
    comments = "\n".join(rtf_text(k.findtext("Comment") or "") for k in keyframes)
    feedback = mock_result["feedback"]
    assert feedback, "the mock analysis gives feedback"
    for item in feedback:
        assert item["message"] in comments
    for keyframe in keyframes:
        assert keyframe.findtext("Title")
        assert len((keyframe.findtext("Color") or "").split(";")) == 3
        assert len(keyframe.get("id") or "") == 36  # a GUID

    # The coach's marks, in pixels, on the keyframe of their frame.
    width, height = video["width"], video["height"]
    drawings = {d.tag: d for k in keyframes for d in k.findall("Drawings/*")}
    assert set(drawings) == {"Angle", "Line", "Label"}

    def pixels(text: str | None) -> tuple[float, float]:
        x, y = (text or "").split(";")
        return float(x), float(y)

    angle = drawings["Angle"]
    assert pixels(angle.findtext("PointO")) == pytest.approx((0.5 * width, 0.5 * height), abs=0.01)
    assert pixels(angle.findtext("PointA")) == pytest.approx((0.4 * width, 0.3 * height), abs=0.01)
    assert pixels(angle.findtext("PointB")) == pytest.approx((0.6 * width, 0.3 * height), abs=0.01)
    assert angle.find("DrawingStyle/Color[@Key='line color']/Value") is not None
    line = drawings["Line"]
    assert pixels(line.findtext("End")) == pytest.approx((0.9 * width, 0.9 * height), abs=0.01)
    label = drawings["Label"]
    assert label.findtext("Text") == "Knees <soft> & over toes"
    assert pixels(label.findtext("Position")) == pytest.approx(
        (0.2 * width, 0.2 * height), abs=0.01
    )
    mark_frame = next(k for k in keyframes if k.find("Drawings/Label") is not None)
    assert int(mark_frame.findtext("Position") or "") == frame_ticks[5]  # 1000 ms at 5 fps

    # The skeleton: a track per main joint, a point "x;y;t" in every frame with the dancer.
    tracks = root.findall("Tracks/Track")
    assert {t.get("name") for t in tracks} >= {"left_wrist", "right_ankle", "nose"}
    landmarks = {f["index"]: f["landmarks"] for f in mock_result["frames"] if f["landmarks"]}
    joint = mock_result["skeleton"]["joints"].index("left_wrist")
    wrist = next(t for t in tracks if t.get("name") == "left_wrist")
    points = [p.text or "" for p in wrist.findall("TrackPointList/TrackPoint")]
    assert wrist.find("TrackPointList").get("Count") == str(len(points)) == str(len(landmarks))
    for text, (index, marks) in zip(points, sorted(landmarks.items()), strict=True):
        x, y, t = text.split(";")
        assert int(t) == frame_ticks[index]
        assert float(x) == pytest.approx(marks[joint][0] * width, abs=0.01)
        assert float(y) == pytest.approx(marks[joint][1] * height, abs=0.01)
    assert int(wrist.findtext("TimePosition") or "") == frame_ticks[min(landmarks)]


def test_kva_comments_are_rich_text_kinovea_loads(real_motion: Motion, tmp_path: Path) -> None:
    """Kinovea loads a keyframe's comment into a RichTextBox's Rtf, which refuses text
    that does not start "{\\rtf": the messages go as RTF and come back whole."""
    messages = ["Arms {wider} \\ softer: élan, 90°", "Hold 2 counts 🙂\tthen release"]
    feedback = [
        {"time_ms": 400.0, "message": message, "severity": "info", "topic": "movement"}
        for message in messages
    ]
    header = {**real_motion.header, "feedback": feedback}
    motion = Motion(real_motion.t_ms, real_motion.landmarks, real_motion.world, {}, header)
    path = tmp_path / "kinovea.kva"
    write_kva(motion, path, [])
    comment = ET.parse(path).getroot().findtext("Keyframes/Keyframe/Comment") or ""
    assert comment.startswith("{\\rtf") and comment.isascii()
    assert rtf_text(comment) == "\n".join(messages)


def test_kva_of_analyze_has_the_feedback_and_tracks(
    mock_analysis: tuple[AnalysisOutcome, Path], mock_result: dict[str, Any]
) -> None:
    root = ET.parse(mock_analysis[1] / "kinovea.kva").getroot()
    assert len(root.findall("Keyframes/Keyframe")) >= 1
    assert root.findall("Keyframes/Keyframe/Drawings") == []  # no marks yet
    assert len(root.findall("Tracks/Track")) == 13


# --- skeleton.bvh -----------------------------------------------------------------------

# Where each BVH joint (or end site) sits, and the point its bone starts from.
SIDES = ("Left", "left"), ("Right", "right")
AT = {"Hips": ("mid_hip", None), "Chest": ("mid_shoulder", "mid_hip"),
      "Head": ("mid_ear", "mid_shoulder"), "Head_end": ("nose", "mid_ear")}  # fmt: skip
for upper, side in SIDES:
    AT |= {
        f"{upper}UpLeg": (f"{side}_hip", "mid_hip"),
        f"{upper}Leg": (f"{side}_knee", f"{side}_hip"),
        f"{upper}Foot": (f"{side}_ankle", f"{side}_knee"),
        f"{upper}Foot_end": (f"{side}_foot_index", f"{side}_ankle"),
        f"{upper}Arm": (f"{side}_shoulder", "mid_shoulder"),
        f"{upper}ForeArm": (f"{side}_elbow", f"{side}_shoulder"),
        f"{upper}Hand": (f"{side}_wrist", f"{side}_elbow"),
        f"{upper}Hand_end": (f"{side}_hand", f"{side}_wrist"),
    }


def _observed(world_m: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Our joint positions, Y up, in cm, by name (pairs' midpoints for the mid points)."""
    at = {name: world_m[:, i] * [100, -100, -100] for i, name in enumerate(names)}
    for a in ("hip", "shoulder", "ear"):
        at[f"mid_{a}"] = 0.5 * (at[f"left_{a}"] + at[f"right_{a}"])
    for side in ("left", "right"):
        at[f"{side}_hand"] = 0.5 * (at[f"{side}_index"] + at[f"{side}_pinky"])
    return at


def fk_errors(bvh_path: Path, world_m: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Per joint, per frame: how far (cm) the BVH's forward kinematics puts each joint
    from our landmarks (both taken from the hips: the root is lifted to the floor)."""
    bvh = read_bvh(bvh_path)
    fk = forward_kinematics(bvh)
    seen = _observed(world_m, names)
    root = fk[:, bvh.index("Hips")]
    lift = root - seen["mid_hip"]
    # result.json holds the landmarks to 0.1 mm; the BVH was made from the arrays.
    assert np.allclose(lift[:, [0, 2]], 0, atol=0.02) and np.ptp(lift[:, 1]) < 0.02
    assert lift[0, 1] > 50  # the hips well above the floor
    return {
        joint: np.linalg.norm(
            (fk[:, bvh.index(joint)] - root) - (seen[point] - seen["mid_hip"]), axis=1
        )
        for joint, (point, _) in AT.items()
    }


def _check_bvh(bvh_path: Path, world_m: np.ndarray, names: list[str], fps: float) -> np.ndarray:
    bvh = read_bvh(bvh_path)
    assert len(bvh.motion) == len(world_m)
    assert bvh.frame_time == pytest.approx(1 / fps, abs=1e-6)
    assert bvh.joints[0].channels == ["Xposition", "Yposition", "Zposition",
                                      "Zrotation", "Xrotation", "Yrotation"]  # fmt: skip
    assert all(j.channels == ["Zrotation", "Xrotation", "Yrotation"]
               for j in bvh.joints[1:] if not j.end_site)  # fmt: skip
    fk = forward_kinematics(bvh)
    seen = _observed(world_m, names)
    # Positions from the hips (the root is lifted to the floor).
    root = fk[:, bvh.index("Hips")] - seen["mid_hip"]
    by_point = {point: fk[:, bvh.index(joint)] - root for joint, (point, _) in AT.items()}
    # Each bone points from where the skeleton put its start at our landmark, its
    # length the same in every frame.
    for joint, (point, start) in AT.items():
        if start is None:
            continue
        bone = by_point[point] - by_point[start]
        length = np.linalg.norm(bone, axis=1)
        assert np.ptp(length) < 1e-2, joint
        aim = seen[point] - by_point[start]
        aim_unit = aim / np.linalg.norm(aim, axis=1, keepdims=True)
        assert np.abs(bone - aim_unit * length[:, None]).max() < 0.05, joint
    errors = np.concatenate(list(fk_errors(bvh_path, world_m, names).values()))
    # The figures the closing notes quote (`pytest -s -n 0 tests/exports -k kinematics`).
    print(
        f"\nBVH forward kinematics against our joints, cm: median {np.median(errors):.2f}, "
        f"p90 {np.percentile(errors, 90):.2f}, p95 {np.percentile(errors, 95):.2f}, "
        f"max {errors.max():.2f}; within 2 cm: {np.mean(errors <= 2.0):.1%}"
    )
    return errors


def test_bvh_forward_kinematics_reproduce_the_mock_joints(
    mock_analysis: tuple[AnalysisOutcome, Path], mock_result: dict[str, Any]
) -> None:
    world = _world(mock_result)
    errors = _check_bvh(
        mock_analysis[1] / "skeleton.bvh", world, mock_result["skeleton"]["joints"],
        mock_result["video"]["fps"],
    )  # fmt: skip
    # The mock's legs change length as it squats (a rigid skeleton cannot follow):
    # the arms, trunk and head are rigid and exact.
    assert np.median(errors) < 2.0 and errors.max() < 8.0


def test_bvh_forward_kinematics_reproduce_real_landmarks(
    real_motion: Motion, tmp_path: Path
) -> None:
    path = write_exports(real_motion, tmp_path, names=("bvh",))["bvh"]
    names = list(BLAZEPOSE_33.joints)
    errors = _check_bvh(path, real_motion.world[:, :, :3], names, real_motion.fps)
    # MediaPipe's bones stretch from frame to frame (the upper arm 21 to 31 cm here);
    # a rigid skeleton meets most joints within 2 cm.
    assert np.median(errors) < 2.0 and np.percentile(errors, 90) < 4.0


def test_bvh_holds_the_last_pose_without_a_dancer(real_motion: Motion, tmp_path: Path) -> None:
    world = real_motion.world.copy()
    world[:3] = np.nan
    world[20:25] = np.nan
    motion = Motion(real_motion.t_ms, real_motion.landmarks, world, {}, real_motion.header)
    bvh = read_bvh(write_exports(motion, tmp_path, names=("bvh",))["bvh"])
    assert all(np.array_equal(bvh.motion[i], bvh.motion[3]) for i in range(3))  # the first pose
    assert all(np.array_equal(bvh.motion[i], bvh.motion[19]) for i in range(20, 25))
    assert not np.array_equal(bvh.motion[19], bvh.motion[25])

    nobody = Motion(real_motion.t_ms, np.full_like(world, np.nan), np.full_like(world, np.nan),
                    {"trunk": np.full(65, np.nan)}, real_motion.header)  # fmt: skip
    written = write_exports(nobody, tmp_path, names=("trc", "mot", "kva", "bvh"))
    assert np.isnan(read_trc(written["trc"]).points).all()
    assert np.isnan(read_mot(written["mot"]).table[:, 1]).all()
    assert ET.parse(written["kva"]).getroot().find("Tracks") is None
    rest = read_bvh(written["bvh"])
    assert len(rest.motion) == 65 and not rest.motion.any()  # the rest pose throughout
    assert np.linalg.norm(rest.joints[rest.index("LeftLeg")].offset) > 10  # cm
