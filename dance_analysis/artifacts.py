"""Writers for the files an analysis produces: result.json, the CSVs, coco17.json,
people.json (everyone in the frame, for picking a dancer), and the original backend's
files (keypoints_2d.json, keypoints_3d.json, analysis.json).

:data:`ARTIFACT_NAMES` is the one table of artifact names and their file names, for
every job (a comparison's ghost.mp4 and practice.mp4 too): downloads by file name
and the files a job publishes both read it.

Per-frame data is written in chunks, never built as one giant string, so writing a
20-minute clip's result needs no more memory than a 20-second one's. NaN never
reaches a file: JSON gets ``null``, CSV an empty cell.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from dance_analysis.skeleton import BLAZEPOSE_33, COCO_17, to_coco17

SCHEMA_VERSION = "1.0"
ARTIFACT_NAMES = {
    "result": "result.json",
    "overlay": "overlay.mp4",
    "landmarks_csv": "landmarks.csv",
    "angles_csv": "angles.csv",
    "coco17": "coco17.json",
    # Every person found, frame by frame (ids, boxes, 2D landmarks): the desktop player
    # draws the others from it and lets the user pick another dancer.
    "people": "people.json",
    # A comparison's videos (dance_analysis/compare_videos.py).
    "ghost": "ghost.mp4",
    "practice": "practice.mp4",
    # The original backend's files: per-frame COCO-17 keypoints in pixels and in metres,
    # and the shape its Flutter client parses (pixels, "m:ss" feedback).
    "keypoints_2d": "keypoints_2d.json",
    "keypoints_3d": "keypoints_3d.json",
    "analysis": "analysis.json",
    # Where an analysis goes next (issue 12): OpenSim markers and angles, Kinovea's
    # annotations, a BVH skeleton for Blender, the student's report; the coach's marks.
    "trc": "markers.trc",
    "mot": "angles.mot",
    "kva": "kinovea.kva",
    "bvh": "skeleton.bvh",
    "report": "report.html",
    "marks": "marks.json",
}
# Other names for an artifact: the original backend's ``visualization`` is our overlay.
# A job's downloads list both names; either opens the same file.
ARTIFACT_ALIASES = {"visualization": "overlay"}
# The Flutter client knows two kinds of feedback: info items (observations and praise)
# are "positive", warnings and critical items (something to fix) are "negative".
CLIENT_FEEDBACK_TYPES = {"info": "positive", "warning": "negative", "critical": "negative"}
_CHUNK_FRAMES = 512

FloatArray = npt.NDArray[np.float64]
#: One person in one frame for people.json: id, normalised box (x0, y0, x1, y1), score,
#: landmarks (33, 4) normalised ``[x, y, z, visibility]``.
PersonRow = tuple[int, Sequence[float], float, FloatArray]


def json_ready(values: FloatArray, decimals: int) -> Any:
    """Nested lists of rounded floats, with ``None`` where a value is NaN."""
    rounded = np.round(values, decimals)
    missing = np.isnan(rounded)
    if not missing.any():
        return rounded.tolist()
    as_objects = rounded.astype(object)
    as_objects[missing] = None
    return as_objects.tolist()


def _frame_records(
    t_ms: FloatArray, landmarks: FloatArray, world: FloatArray, clean: FloatArray
) -> Iterator[dict[str, Any]]:
    found = ~np.isnan(landmarks[:, :, 0]).all(axis=1)
    has_clean = ~np.isnan(clean[:, :, 0]).all(axis=1)
    for start in range(0, len(t_ms), _CHUNK_FRAMES):
        stop = min(start + _CHUNK_FRAMES, len(t_ms))
        raw_chunk = json_ready(landmarks[start:stop], 5)
        world_chunk = json_ready(world[start:stop], 4)
        clean_chunk = json_ready(clean[start:stop], 5)
        for offset, index in enumerate(range(start, stop)):
            yield {
                "index": index,
                "t_ms": round(float(t_ms[index]), 3),
                "person": bool(found[index]),
                "landmarks": raw_chunk[offset] if found[index] else None,
                "world_landmarks": world_chunk[offset] if found[index] else None,
                "clean_landmarks": clean_chunk[offset] if has_clean[index] else None,
            }


def write_result(
    path: Path,
    header: Mapping[str, Any],
    t_ms: FloatArray,
    landmarks: FloatArray,
    world: FloatArray,
    clean: FloatArray,
) -> None:
    """``header`` plus a ``frames`` list, streamed frame by frame.

    Arrays: ``t_ms`` (N,), ``landmarks``/``world``/``clean`` (N, 33, 4), NaN rows
    for frames without a person.
    """
    head = json.dumps(dict(header), allow_nan=False, ensure_ascii=False)
    with path.open("w", encoding="utf-8") as out:
        out.write(head[:-1])  # reopen the object to append "frames"
        out.write(', "frames": [')
        for i, record in enumerate(_frame_records(t_ms, landmarks, world, clean)):
            out.write(",\n" if i else "\n")
            out.write(json.dumps(record, allow_nan=False, separators=(",", ":")))
        out.write("\n]}\n")


def write_people(
    path: Path,
    head: Mapping[str, Any],
    t_ms: FloatArray,
    frames: Iterable[Sequence[PersonRow]],
    *,
    width: int,
    height: int,
) -> None:
    """people.json: ``head`` (``dancer_id``, ``people_seen``, ``people``) plus every
    person's 2D landmarks in each frame, streamed.

    ``{format: "people", coordinates: "normalized", width, height, joints, bones,
    dancer_id, people_seen, people: [{id, first_ms, last_ms, frames, chosen}],
    frames: [{index, t_ms, people: [{id, box: [x0, y0, x1, y1], score,
    landmarks: [[x, y, visibility] × 33]}]}]}``: x and y normalised 0–1 to the displayed
    frame, in BlazePose-33 order (``joints``); a frame without anyone has ``people: []``.
    """
    top = {
        "format": "people",
        "coordinates": "normalized",
        "width": int(width),
        "height": int(height),
        "joints": list(BLAZEPOSE_33.joints),
        "bones": [list(bone) for bone in BLAZEPOSE_33.bones],
        **head,
    }

    def records() -> Iterator[dict[str, Any]]:
        for index, (t, people) in enumerate(zip(t_ms, frames, strict=True)):
            yield {
                "index": index,
                "t_ms": round(float(t), 3),
                "people": [
                    {
                        "id": int(person_id),
                        "box": [round(float(v), 5) for v in box],
                        "score": round(float(score), 4),
                        "landmarks": json_ready(landmarks[:, (0, 1, 3)], 5),
                    }
                    for person_id, box, score, landmarks in people
                ],
            }

    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(top, allow_nan=False, ensure_ascii=False)[:-1])
        out.write(', "frames": [')
        _write_records(out, records())
        out.write("]}\n")


def _write_rows(out: TextIO, header: list[str], rows: Iterator[list[Any]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def _csv_cells(block: FloatArray, decimals: int) -> list[list[Any]]:
    return [["" if v is None else v for v in row] for row in json_ready(block, decimals)]


def write_landmarks_csv(
    path: Path, t_ms: FloatArray, landmarks: FloatArray, world: FloatArray, clean: FloatArray
) -> None:
    """Long format: one row per frame and joint (tidy for pandas and spreadsheets)."""
    joints = BLAZEPOSE_33.joints
    header = [
        "frame", "t_ms", "joint", "x", "y", "z", "visibility",
        "clean_x", "clean_y", "clean_z", "world_x", "world_y", "world_z",
    ]  # fmt: skip

    def rows() -> Iterator[list[Any]]:
        for start in range(0, len(t_ms), _CHUNK_FRAMES):
            stop = min(start + _CHUNK_FRAMES, len(t_ms))
            block = np.concatenate(
                [landmarks[start:stop], clean[start:stop, :, :3], world[start:stop, :, :3]], axis=2
            )
            cells = _csv_cells(block, 5)
            for offset, index in enumerate(range(start, stop)):
                t = round(float(t_ms[index]), 3)
                for j, name in enumerate(joints):
                    yield [index, t, name, *cells[offset][j]]

    with path.open("w", encoding="utf-8", newline="") as out:
        _write_rows(out, header, rows())


def write_angles_csv(path: Path, t_ms: FloatArray, angles: Mapping[str, FloatArray]) -> None:
    """Wide format: one row per frame, one column per angle, in degrees."""
    names = list(angles)
    table = np.column_stack([t_ms, *(angles[n] for n in names)]) if names else t_ms[:, None]

    def rows() -> Iterator[list[Any]]:
        for start in range(0, len(t_ms), _CHUNK_FRAMES):
            cells = _csv_cells(table[start : start + _CHUNK_FRAMES], 3)
            for offset, row in enumerate(cells):
                yield [start + offset, *row]

    with path.open("w", encoding="utf-8", newline="") as out:
        _write_rows(out, ["frame", "t_ms", *(f"{n}_deg" for n in names)], rows())


def _scaled_coco17(landmarks: FloatArray, scale: tuple[float, float], decimals: int) -> FloatArray:
    """COCO-17 ``(N, 17, 4)`` with x and y times ``scale``, rounded to ``decimals``
    (z and visibility to at least 4).

    Scaled from the landmarks as result.json holds them (5 decimals), so a file made
    again from result.json (after the "1" moved) is the same to the last digit.
    """
    coco = np.round(to_coco17(landmarks), 5)
    coco[..., 0] *= scale[0]
    coco[..., 1] *= scale[1]
    coco[..., :2] = np.round(coco[..., :2], decimals)
    coco[..., 2:] = np.round(coco[..., 2:], max(decimals, 4))  # z, visibility
    return coco


def _pose_records(
    t_ms: FloatArray, landmarks: FloatArray, *, scale: tuple[float, float], decimals: int
) -> Iterator[dict[str, Any]]:
    """``{timestamp, keypoints: [{name, x, y, confidence}]}`` per frame, COCO-17.

    ``x`` and ``y`` are the normalised landmarks times ``scale``; ``timestamp`` is in
    seconds; a frame without a person has an empty keypoint list.
    """
    coco = _scaled_coco17(landmarks, scale, decimals)
    names = COCO_17.joints
    for start in range(0, len(t_ms), _CHUNK_FRAMES):
        chunk = json_ready(coco[start : start + _CHUNK_FRAMES], max(decimals, 4))
        for offset, points in enumerate(chunk):
            index = start + offset
            keypoints = (
                []
                if points[0][0] is None
                else [_keypoint(name, p) for name, p in zip(names, points, strict=True)]
            )
            yield {"timestamp": round(float(t_ms[index]) / 1000, 6), "keypoints": keypoints}


def _keypoint(name: str, point: Sequence[float | None]) -> dict[str, Any]:
    """One joint; a joint not found in a frame that has a dancer is at 0, 0 with no
    confidence (clients parse numbers, never null, and draw only confident joints)."""
    x, y, confidence = point[0], point[1], point[3]
    if x is None or y is None:
        return {"name": name, "x": 0.0, "y": 0.0, "confidence": 0.0}
    return {"name": name, "x": x, "y": y, "confidence": 0.0 if confidence is None else confidence}


def _write_records(out: TextIO, records: Iterable[Any]) -> None:
    """The items of a JSON list, one a line (the caller writes the brackets)."""
    for i, record in enumerate(records):
        out.write(",\n" if i else "\n")
        out.write(json.dumps(record, allow_nan=False, separators=(",", ":")))
    out.write("\n")


def write_coco17(
    path: Path, t_ms: FloatArray, landmarks: FloatArray, *, width: int, height: int
) -> None:
    """The original backend's mobile format: ``{pose_data: [{timestamp, keypoints}]}``.

    ``timestamp`` is in seconds; ``x`` and ``y`` are normalised 0–1 to the displayed
    frame (``width``/``height`` say its size); ``confidence`` is the visibility.
    Frames without a person have an empty keypoint list.
    """
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '{"format": "coco17", "coordinates": "normalized", '
            f'"width": {int(width)}, "height": {int(height)}, '
            f'"joints": {json.dumps(list(COCO_17.joints))}, "pose_data": ['
        )
        _write_records(out, _pose_records(t_ms, landmarks, scale=(1.0, 1.0), decimals=5))
        out.write("]}\n")


def _frames_or_zeros(values: FloatArray, decimals: int) -> Iterator[Any]:
    """One nested list per frame, rounded; zeros where there is no value (no person)."""
    for start in range(0, len(values), _CHUNK_FRAMES):
        block = np.nan_to_num(values[start : start + _CHUNK_FRAMES], nan=0.0)
        yield from (np.round(block, decimals) + 0.0).tolist()  # + 0.0: no "-0.0"


def write_keypoints_2d(path: Path, landmarks: FloatArray, *, width: int, height: int) -> None:
    """The original backend's ``keypoints_2d``: a list with one entry per frame, each
    the 17 COCO-17 joints' ``[x, y]`` in pixels of the displayed frame; ``[0, 0]`` for
    every joint of a frame without a person."""
    points = _scaled_coco17(landmarks, (float(width), float(height)), 2)[..., :2]
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        _write_records(out, _frames_or_zeros(points, 2))
        out.write("]\n")


def write_keypoints_3d(path: Path, world: FloatArray) -> None:
    """The original backend's ``keypoints_3d``: one entry per frame, the 17 COCO-17
    joints' world ``[x, y, z]`` in metres (origin between the hips, y down); zeros for
    a frame without a person."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        _write_records(out, _frames_or_zeros(to_coco17(world)[..., :3], 4))
        out.write("]\n")


def clock(ms: float) -> str:
    """``m:ss`` of a time in ms, rounded down to the second (61_900 → "1:01")."""
    seconds = int(max(float(ms), 0.0) // 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def client_feedback(feedback: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """result.json's feedback items as the Flutter client reads them:
    ``{timestamp: "m:ss", type: "positive"|"negative", feedback, time_ms}``."""
    return [
        {
            "timestamp": clock(item["time_ms"]),
            "type": CLIENT_FEEDBACK_TYPES.get(str(item.get("severity")), "negative"),
            "feedback": str(item["message"]),
            "time_ms": round(float(item["time_ms"]), 3),
        }
        for item in feedback
    ]


def write_client_analysis(
    path: Path,
    t_ms: FloatArray,
    landmarks: FloatArray,
    *,
    width: int,
    height: int,
    fps: float,
    feedback: Sequence[Mapping[str, Any]],
) -> None:
    """analysis.json, the shape the original backend's Flutter client parses:
    ``{video: {width, height, fps}, feedback_items: [...], pose_data: [...]}``, with
    keypoints in **pixels** of the displayed frame (its painter scales by the video's
    size), ``timestamp`` in seconds, ``confidence`` the visibility.
    """
    head = {
        "format": "client-analysis",
        "video": {"width": int(width), "height": int(height), "fps": round(float(fps), 3)},
        "feedback_items": client_feedback(feedback),
    }
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(head, allow_nan=False, ensure_ascii=False)[:-1])
        out.write(', "pose_data": [')
        scale = (float(width), float(height))
        _write_records(out, _pose_records(t_ms, landmarks, scale=scale, decimals=2))
        out.write("]}\n")


def write_client_analysis_from_result(path: Path, result: Mapping[str, Any]) -> None:
    """analysis.json again from a result.json already read (after the "1" moved, the
    feedback changed): its frames' landmarks, nothing decoded, no model."""
    frames = result["frames"]
    t_ms = np.array([float(frame["t_ms"]) for frame in frames], dtype=np.float64)
    landmarks = np.full((len(frames), len(BLAZEPOSE_33.joints), 4), np.nan)
    for i, frame in enumerate(frames):
        if frame.get("landmarks") is not None:
            landmarks[i] = np.array(frame["landmarks"], dtype=np.float64)  # None → nan
    video = result["video"]
    write_client_analysis(
        path, t_ms, landmarks, width=video["width"], height=video["height"],
        fps=video["fps"], feedback=result.get("feedback") or [],
    )  # fmt: skip
