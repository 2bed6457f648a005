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

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dance_analysis.exports import Motion
from dance_analysis.exports.axes import y_up
from dance_analysis.skeleton import BLAZEPOSE_33

_DECIMALS = 5  # 0.01 mm
_CHUNK_FRAMES = 512


def _rate_text(fps: float) -> str:
    """A frame rate as a header number: ``30``, ``29.97``."""
    return f"{round(float(fps), 3):g}"


def _header(motion: Motion, name: str) -> list[str]:
    markers = BLAZEPOSE_33.joints
    frames = len(motion.t_ms)
    rate = _rate_text(motion.fps)
    return [
        f"PathFileType\t4\t(X/Y/Z)\t{name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
        "OrigDataStartFrame\tOrigNumFrames",
        f"{rate}\t{rate}\t{frames}\t{len(markers)}\tm\t{rate}\t0\t{frames}",
        "Frame#\tTime\t" + "\t\t\t".join(markers) + "\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(markers) + 1)),
    ]


def write_trc(motion: Motion, path: Path) -> None:
    """``markers.trc`` from ``motion``'s world landmarks (one row per analysed frame)."""
    points = y_up(motion.world)  # (n, 33, 3), NaN without a dancer
    count = len(motion.t_ms)
    formats = ["%d", "%.6f", *[f"%.{_DECIMALS}f"] * (3 * points.shape[1])]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(_header(motion, path.name)) + "\n")
        for start in range(0, count, _CHUNK_FRAMES):
            stop = min(start + _CHUNK_FRAMES, count)
            block = np.round(points[start:stop], _DECIMALS).reshape(stop - start, -1) + 0.0
            frame = np.arange(start + 1, stop + 1)
            table = np.column_stack([frame, motion.t_ms[start:stop] / 1000.0, block])
            out.write(tab_rows(table, formats))


def tab_rows(table: npt.NDArray[np.float64], formats: list[str]) -> str:
    """Rows of ``table`` tab-separated with ``formats`` (one per column), NaN as ``NaN``
    (the spelling OpenSim's and most readers' number parsers accept)."""
    text = io.StringIO()
    np.savetxt(text, table, fmt=formats, delimiter="\t")
    return text.getvalue().replace("nan", "NaN")
