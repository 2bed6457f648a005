"""OpenSim's motion file, ``angles.mot``: the joint angles over time, in degrees.

The Storage layout OpenSim (``Storage``, ``MOTFileAdapter``) and its GUI's plotter read,
tab-separated, one row per analysed frame::

    angles
    version=2
    nRows=65
    nColumns=12
    inDegrees=yes
    endheader
    time  left_elbow  right_elbow  …  trunk
    0.000000  172.104  …

``nColumns`` counts ``time``. The columns are result.json's ``angles.series`` (our
three-point angles: 180° for a straight limb; ``trunk`` the lean from vertical), not the
coordinates of an OpenSim model: they plot and compare, they do not drive a model. An
angle that could not be measured in a frame is ``NaN``.

**Why version 2.** OpenSim's ``Storage`` (what its GUI, plotter and tools open a .mot
with) reads a file of ``version`` 1 or less with its legacy code, which takes each
number with C++ stream extraction (``Storage.cpp``: ``(*fp) >> y[i]``): ``NaN`` fails
there and the stream stays failed, so no later number is read (OpenSim 4.6 gives
stale numbers for the rest of the file and may drop rows). From version 2 it hands the file
to ``STOFileAdapter``, whose ``std::stod`` reads ``NaN``; ``inDegrees`` is still taken
from the header. ``nRows`` and ``nColumns`` stay for readers that want them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dance_analysis.exports import Motion
from dance_analysis.exports.trc import tab_rows

_DECIMALS = 3


def write_mot(motion: Motion, path: Path) -> None:
    """``angles.mot`` from ``motion``'s angle series."""
    names = list(motion.angles)
    frames = len(motion.t_ms)
    header = [
        path.stem,
        "version=2",
        f"nRows={frames}",
        f"nColumns={len(names) + 1}",
        "inDegrees=yes",
        "endheader",
        "\t".join(["time", *names]),
    ]
    table = np.column_stack([motion.t_ms / 1000.0, *(motion.angles[name] for name in names)])
    formats = ["%.6f", *[f"%.{_DECIMALS}f"] * len(names)]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(header) + "\n")
        out.write(tab_rows(np.round(table, 6) + 0.0, formats))
