"""Open an analysis's markers.trc and angles.mot with OpenSim's own readers.

OpenSim's Python package (``opensim`` on PyPI, Apache-2.0) needs numpy 2 and has no
wheel for Python 3.10, while MediaPipe needs numpy 1, so it cannot live in our
environment; run this in a virtual environment of its own::

    python3.11 -m venv /tmp/opensim && /tmp/opensim/bin/pip install opensim
    /tmp/opensim/bin/python scripts/opensim_check.py OUT_DIR

It imports nothing of ours: result.json is read as plain JSON. It prints what OpenSim
read and exits 1 if the frame counts, rates, marker names or angle columns disagree
with result.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: Path) -> int:
    import opensim

    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    frames = len(result["frames"])
    fps = float(result["video"]["fps"])
    problems = []

    markers = opensim.TimeSeriesTableVec3(str(folder / "markers.trc"))
    rate = float(markers.getTableMetaDataString("DataRate"))
    units = markers.getTableMetaDataString("Units")
    labels = list(markers.getColumnLabels())
    print(f"markers.trc: {markers.getNumRows()} frames, {len(labels)} markers, "
          f"DataRate {rate:g}, Units {units}")  # fmt: skip
    if markers.getNumRows() != frames or abs(rate - fps) > 1e-6 or units != "m":
        problems.append("markers.trc: frames, rate or units differ from result.json")
    if labels != list(result["skeleton"]["joints"]):
        problems.append("markers.trc: marker names differ from result.json's skeleton")

    angles = opensim.TimeSeriesTable(str(folder / "angles.mot"))
    columns = list(angles.getColumnLabels())
    in_degrees = angles.getTableMetaDataString("inDegrees")
    storage = opensim.Storage(str(folder / "angles.mot"))
    print(f"angles.mot: {angles.getNumRows()} rows, columns {', '.join(columns)}; "
          f"inDegrees={in_degrees}; Storage reads {storage.getSize()} rows, "
          f"in degrees: {storage.isInDegrees()}")  # fmt: skip
    if angles.getNumRows() != frames or in_degrees != "yes" or not storage.isInDegrees():
        problems.append("angles.mot: rows or inDegrees differ from result.json")
    if set(columns) != set(result["angles"]["series"]):
        problems.append("angles.mot: columns differ from result.json's angle series")
    # Storage's values, not only its row count: its legacy reader (a version-1 .mot)
    # reads no number after a NaN.
    series = result["angles"]["series"]
    for row in range(storage.getSize()):
        data = storage.getStateVector(row).getData()
        got = [data.get(i) for i in range(data.getSize())]
        want = [series[name][row] for name in columns]
        if any(not _same(a, b) for a, b in zip(got, want, strict=True)):
            problems.append(f"angles.mot: Storage reads row {row} as {got}, not {want}")
            break

    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _same(read: float, expected: float | None) -> bool:
    """A value OpenSim read against result.json's (None: not measured, read as NaN)."""
    if expected is None:
        return read != read
    return abs(read - expected) <= 1e-3


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
