"""OpenSim's marker file, ``markers.trc``: the dancer's 33 world landmarks over time.

The layout is the Track Row Column format as OpenSim's ``TRCFileAdapter`` reads it and
Pose2Sim writes it, tab-separated::

    PathFileType  4  (X/Y/Z)  markers.trc
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame
        OrigNumFrames   (one line)
    30  30  65  33  m  30  0  65
    Frame#  Time  nose  <tab><tab>  left_eye_inner …
    <tab><tab>  X1  Y1  Z1  X2 …
    1  0.000000  x  y  z …

Markers are BlazePose-33 names in MediaPipe's order; metres in the Y-up frame of
:mod:`dance_analysis.exports.axes` (origin between the hips in every frame: MediaPipe's
world landmarks carry no travel across the floor). ``Frame#`` counts from 1, ``Time`` is
the frame's real timestamp in seconds (``t_ms``), ``DataRate`` the clip's average rate.

A marker with no value (a frame without the dancer) is written ``NaN``. OpenSim reads
``NaN`` and an empty cell alike (both become NaN, "marker missing", which inverse
kinematics skips), but only ``NaN`` keeps the row's column count with the older
OpenSim readers that collapse repeated tabs, so ``NaN`` is what we write.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dance_analysis.exports import Motion
from dance_analysis.exports.axes import y_up
from dance_analysis.skeleton import BLAZEPOSE_33

_DECIMALS = 5  # 0.01 mm
_CHUNK_FRAMES = 512


def rate_text(fps: float) -> str:
    """A frame rate as a header number: ``30``, ``29.97``."""
    return f"{round(float(fps), 3):g}"


def _header(motion: Motion, name: str) -> list[str]:
    markers = BLAZEPOSE_33.joints
    frames = len(motion.t_ms)
    rate = rate_text(motion.fps)
    return [
        f"PathFileType\t4\t(X/Y/Z)\t{name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
        "OrigDataStartFrame\tOrigNumFrames",
        f"{rate}\t{rate}\t{frames}\t{len(markers)}\tm\t{rate}\t0\t{frames}",
        "Frame#\tTime\t" + "\t\t\t".join(markers) + "\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(markers) + 1)),
    ]


def _rows(motion: Motion) -> Iterator[str]:
    points = y_up(motion.world)  # (n, 33, 3), NaN without a dancer
    for start in range(0, len(motion.t_ms), _CHUNK_FRAMES):
        block = np.round(points[start : start + _CHUNK_FRAMES], _DECIMALS) + 0.0  # no "-0.0"
        for offset, frame in enumerate(block.reshape(len(block), -1)):
            index = start + offset
            seconds = float(motion.t_ms[index]) / 1000.0
            cells = "\t".join("NaN" if np.isnan(v) else f"{v:.{_DECIMALS}f}" for v in frame)
            yield f"{index + 1}\t{seconds:.6f}\t{cells}"


def write_trc(motion: Motion, path: Path) -> None:
    """``markers.trc`` from ``motion``'s world landmarks (one row per analysed frame)."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(_header(motion, path.name)) + "\n")
        for row in _rows(motion):
            out.write(row + "\n")
