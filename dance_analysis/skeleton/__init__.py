"""Joint sets (skeletons) and mappers between them.

The native skeleton is MediaPipe BlazePose's 33 landmarks; every other joint set is
derived from it by a mapper, so results always keep the native data.
"""

from dance_analysis.skeleton.joints import (
    BLAZEPOSE_33,
    COCO_17,
    SIDE_COLOURS,
    SKELETONS,
    Skeleton,
    bone_side,
    side_of,
    to_coco17,
)

__all__ = [
    "BLAZEPOSE_33", "COCO_17", "SIDE_COLOURS", "SKELETONS", "Skeleton", "bone_side", "side_of",
    "to_coco17",
]  # fmt: skip
