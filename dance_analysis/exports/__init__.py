"""Where an analysis goes next (issue 12): files other tools open, and the student's report.

- ``markers.trc`` (``trc``) and ``angles.mot`` (``mot``): OpenSim's marker and motion
  files (:mod:`.trc`, :mod:`.mot`);
- ``kinovea.kva`` (``kva``): Kinovea 2.x annotations: feedback keyframes, the coach's
  marks, the skeleton (:mod:`.kva`);
- ``skeleton.bvh`` (``bvh``): a joint hierarchy with rotations solved from the positions,
  for Blender or any motion tool (:mod:`.bvh`);
- ``report.html`` (``report``): one self-contained page the student keeps (:mod:`.report`).

Every writer reads one :class:`Motion`: the analysed dancer's arrays and result.json's
header. ``analyze`` builds it from the arrays in hand; saving marks builds it again from
the finished result.json (:meth:`Motion.from_result`), so the KVA and the report follow
the coach's marks without running the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.marks import Mark

FloatArray = npt.NDArray[np.float64]

#: The exports, in the order ``analyze`` writes them (artifact names, as downloads).
EXPORT_ARTIFACTS = ("trc", "mot", "kva", "bvh", "report")
#: The exports that carry the coach's marks: written again when the marks change.
MARKED_ARTIFACTS = ("kva", "report")


@dataclass(frozen=True, eq=False)
class Motion:
    """One analysed dancer, as every export reads it.

    ``t_ms`` (n,) frame times on the clip's clock. ``landmarks`` (n, 33, 4) normalised
    ``[x, y, z, visibility]`` on the upright picture; ``world`` (n, 33, 4) metres, origin
    between the hips, y down (MediaPipe's world frame); NaN where no dancer was found.
    ``angles``: degrees per frame by name (result.json's ``angles.series``). ``header``:
    result.json without ``frames`` (video, music, timing, feedback, metrics, comparison …).
    """

    t_ms: FloatArray
    landmarks: FloatArray
    world: FloatArray
    angles: Mapping[str, FloatArray]
    header: Mapping[str, Any]

    @property
    def width(self) -> int:
        return int(self.header["video"]["width"])

    @property
    def height(self) -> int:
        return int(self.header["video"]["height"])

    @property
    def fps(self) -> float:
        """The clip's frame rate as probed (the exports' data rate)."""
        video = self.header["video"]
        return float(video.get("fps") or video.get("avg_fps") or 30.0)

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> Motion:
        """A Motion from a parsed result.json (its ``frames`` with their landmarks)."""
        frames = result.get("frames") or []
        count = len(frames)
        t_ms = np.array([float(frame["t_ms"]) for frame in frames], dtype=np.float64)
        landmarks = np.full((count, 33, 4), np.nan)
        world = np.full((count, 33, 4), np.nan)
        for index, frame in enumerate(frames):
            if frame.get("landmarks") is not None:
                landmarks[index] = np.array(frame["landmarks"], dtype=np.float64)
            if frame.get("world_landmarks") is not None:
                world[index] = np.array(frame["world_landmarks"], dtype=np.float64)
        series = (result.get("angles") or {}).get("series") or {}
        angles = {
            name: np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            for name, values in series.items()
        }
        header = {key: value for key, value in result.items() if key != "frames"}
        return cls(t_ms=t_ms, landmarks=landmarks, world=world, angles=angles, header=header)


Writer = Callable[[Motion, Path, Sequence[Mark], Path | None], None]


def _writers() -> dict[str, Writer]:
    from dance_analysis.exports import bvh, kva, mot, report, trc

    return {
        "trc": lambda motion, path, marks, video: trc.write_trc(motion, path),
        "mot": lambda motion, path, marks, video: mot.write_mot(motion, path),
        "kva": lambda motion, path, marks, video: kva.write_kva(motion, path, marks),
        "bvh": lambda motion, path, marks, video: bvh.write_bvh(motion, path),
        "report": lambda motion, path, marks, video: report.write_report(
            motion, path, marks=marks, video=video
        ),
    }


def write_exports(
    motion: Motion,
    folder: Path,
    *,
    marks: Sequence[Mark] = (),
    video: Path | None = None,
    names: Sequence[str] = EXPORT_ARTIFACTS,
) -> dict[str, Path]:
    """Write the exports ``names`` into ``folder`` (file names from ``ARTIFACT_NAMES``).

    ``video``: a picture source for the report's key frames (the overlay, or the clip);
    None writes the report without pictures.
    """
    from dance_analysis.artifacts import ARTIFACT_NAMES

    writers = _writers()
    written = {}
    for name in names:
        path = folder / ARTIFACT_NAMES[name]
        writers[name](motion, path, marks, video)
        written[name] = path
    return written
