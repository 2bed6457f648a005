"""Writers for the files an analysis produces: result.json, the CSVs and coco17.json.

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
from collections.abc import Iterator, Mapping
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
    # A comparison's videos (dance_analysis/compare_videos.py).
    "ghost": "ghost.mp4",
    "practice": "practice.mp4",
}
_CHUNK_FRAMES = 512

FloatArray = npt.NDArray[np.float64]


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


def write_coco17(
    path: Path, t_ms: FloatArray, landmarks: FloatArray, *, width: int, height: int
) -> None:
    """The original backend's mobile format: ``{pose_data: [{timestamp, keypoints}]}``.

    ``timestamp`` is in seconds; ``x`` and ``y`` are normalised 0–1 to the displayed
    frame (``width``/``height`` say its size); ``confidence`` is the visibility.
    Frames without a person have an empty keypoint list.
    """
    coco = to_coco17(landmarks)
    names = COCO_17.joints
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '{"format": "coco17", "coordinates": "normalized", '
            f'"width": {int(width)}, "height": {int(height)}, '
            f'"joints": {json.dumps(list(names))}, "pose_data": ['
        )
        for start in range(0, len(t_ms), _CHUNK_FRAMES):
            chunk = json_ready(coco[start : start + _CHUNK_FRAMES], 5)
            for offset, points in enumerate(chunk):
                index = start + offset
                keypoints = (
                    []
                    if points[0][0] is None
                    else [
                        {"name": name, "x": p[0], "y": p[1], "confidence": p[3]}
                        for name, p in zip(names, points, strict=True)
                    ]
                )
                record = {"timestamp": round(float(t_ms[index]) / 1000, 6), "keypoints": keypoints}
                out.write(",\n" if index else "\n")
                out.write(json.dumps(record, separators=(",", ":")))
        out.write("\n]}\n")
