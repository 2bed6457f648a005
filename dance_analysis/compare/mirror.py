"""Mirror images: a student facing a teacher often dances the teacher's left with
their right.

Mirrored means left and right swapped and x negated. In the body frame (hips' line
on +x) that is the whole of it: swapping the labels turns the hips' line round and
negating x turns it back, so a mirrored pose is again a pose in the body frame. A
mirrored bone is another bone (the left forearm becomes the right forearm) or the
same bone reversed (the shoulders' line), with x negated.

We mirror the *teacher*, never the student: then every score and every message
names the student's own left and right.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dance_analysis.compare.features import BONES, N_POINTS
from dance_analysis.skeleton import BLAZEPOSE_33

FloatArray = npt.NDArray[np.float64]

# A segment (or the clip) counts as mirrored only when the mirror image is closer by
# both margins: ties, and the symmetric moves where either reading fits (a squat, a
# jump on both feet), stay "not mirrored".
MARGIN_DEG = 4.0  # the mean bone angle must drop by at least this much …
MARGIN_RATIO = 0.8  # … and to at most this share of the direct reading


def _swap_name(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name.replace("_left", "_tmp").replace("_right", "_left").replace("_tmp", "_right")


# Point index -> its mirror partner (the three midpoints, 33-35, are their own).
POINT_SWAP = np.array(
    [BLAZEPOSE_33.joints.index(_swap_name(name)) for name in BLAZEPOSE_33.joints]
    + list(range(len(BLAZEPOSE_33.joints), N_POINTS))
)


def _bone_swap() -> tuple[npt.NDArray[np.int64], FloatArray]:
    index = {(int(a), int(b)): k for k, (a, b) in enumerate(BONES)}
    partner, sign = [], []
    for a, b in BONES:
        mirrored = (int(POINT_SWAP[a]), int(POINT_SWAP[b]))
        if mirrored in index:
            partner.append(index[mirrored])
            sign.append(1.0)
        else:
            partner.append(index[mirrored[::-1]])
            sign.append(-1.0)
    return np.array(partner), np.array(sign)


BONE_SWAP, BONE_SIGN = _bone_swap()
_NEGATE_X = np.array([-1.0, 1.0, 1.0])


def mirror_points(points: FloatArray) -> FloatArray:
    """Body-frame points (n, 36, 3) of the mirror-image pose."""
    mirrored: FloatArray = points[:, POINT_SWAP] * _NEGATE_X
    return mirrored


def mirror_directions(unit: FloatArray) -> FloatArray:
    """Scored-bone directions (..., B, 3) of the mirror-image pose."""
    mirrored: FloatArray = unit[..., BONE_SWAP, :] * BONE_SIGN[:, None] * _NEGATE_X
    return mirrored


def mirror_confidence(confidence: FloatArray) -> FloatArray:
    """Per-bone confidence (..., B) follows its bone."""
    swapped: FloatArray = confidence[..., BONE_SWAP]
    return swapped


def is_mirrored(direct_deg: float, mirrored_deg: float) -> bool:
    """Whether the mirror reading wins by both margins (NaN: not mirrored)."""
    if not (np.isfinite(direct_deg) and np.isfinite(mirrored_deg)):
        return False
    return direct_deg - mirrored_deg >= MARGIN_DEG and mirrored_deg <= MARGIN_RATIO * direct_deg
