"""The one axis convention of the 3D exports (markers.trc, skeleton.bvh).

MediaPipe's world landmarks are metres with the origin between the hips, ``x`` to the
picture's right, ``y`` down and ``z`` away from the camera (a right-handed frame, as a
camera sees). OpenSim, Blender's BVH import and most motion tools want ``Y`` up. Turning
the frame half a turn about ``x`` keeps it right-handed: ``(x, y, z) → (x, −y, −z)``,
so ``X`` is the picture's right (the dancer's left when they face the camera), ``Y`` is
up and ``Z`` points at the camera (the way a dancer facing the camera looks).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
#: Multiply MediaPipe world ``(x, y, z)`` by this to get the exports' Y-up frame.
Y_UP = np.array([1.0, -1.0, -1.0])


def y_up(world: FloatArray) -> FloatArray:
    """``(..., 3+)`` MediaPipe world points as ``(..., 3)`` in the Y-up frame (metres)."""
    return np.asarray(world, dtype=np.float64)[..., :3] * Y_UP
