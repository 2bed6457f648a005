"""One clip's people, tracked in separate segments, joined into one set of ids.

When a clip is cut into segments that are tracked at once (a GPU batches them), each
segment's tracker numbers its people from 1. Joining them: a person seen at the end of
one segment and a person seen at the start of the next, in nearly the same place, are
the same person and keep the earlier id; anyone else gets the next new id, so ids still
count in order of first appearance. The segments meet between two consecutive pictures,
where a dancer has barely moved, so the overlap of their boxes decides; the distance
between their joints breaks near-ties between two people standing close together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from dance_analysis.pose.base import PersonPose

FramePeople = list[PersonPose]

#: Boxes must overlap at least this much (intersection over union) to be one person.
MIN_IOU = 0.3


def stitch_segments(
    segments: Sequence[Sequence[FramePeople]], *, window: int = 5
) -> list[FramePeople]:
    """The segments' frames in order, every person under one id for the whole clip.

    ``window``: how many frames at each side of a cut a person may be missing and still
    be joined (a dancer the tracker lost just before the cut and found just after).
    """
    joined: list[FramePeople] = []
    next_id = 1
    for segment in segments:
        mapping = _match_across_cut(joined, segment, window)
        for frame in segment:
            for person in frame:
                if person.id not in mapping:
                    mapping[person.id] = next_id
                    next_id += 1
            joined.append(sorted((replace(p, id=mapping[p.id]) for p in frame), key=_by_id))
        next_id = max([next_id, *(i + 1 for i in mapping.values())])
    return joined


def _by_id(person: PersonPose) -> int:
    return person.id


def _match_across_cut(
    before: Sequence[FramePeople], after: Sequence[FramePeople], window: int
) -> dict[int, int]:
    """Local ids of ``after`` → ids already given in ``before``, for people at the cut."""
    ending = _last_seen(before[-window:] if before else [])
    starting = _first_seen(after[:window])
    if not ending or not starting:
        return {}
    old_ids, new_ids = list(ending), list(starting)
    cost = np.ones((len(new_ids), len(old_ids)))
    for r, new in enumerate(new_ids):
        for c, old in enumerate(old_ids):
            overlap = _iou(starting[new].box, ending[old].box)
            if overlap >= MIN_IOU:
                joints = _joint_distance(starting[new], ending[old])
                cost[r, c] = (1.0 - overlap) + 0.1 * min(joints, 1.0)
    rows, cols = linear_sum_assignment(cost)
    return {new_ids[r]: old_ids[c] for r, c in zip(rows, cols, strict=True) if cost[r, c] < 1.0}


def _last_seen(frames: Sequence[FramePeople]) -> dict[int, PersonPose]:
    seen: dict[int, PersonPose] = {}
    for frame in frames:
        for person in frame:
            seen[person.id] = person  # later frames overwrite: the last sighting wins
    return seen


def _first_seen(frames: Sequence[FramePeople]) -> dict[int, PersonPose]:
    seen: dict[int, PersonPose] = {}
    for frame in frames:
        for person in frame:
            seen.setdefault(person.id, person)
    return seen


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _joint_distance(a: PersonPose, b: PersonPose) -> float:
    """Mean distance between the two poses' joints, in units of the box diagonal."""
    ax, bx = a.pose.landmarks[:, :2], b.pose.landmarks[:, :2]
    diagonal = float(np.hypot(b.box[2] - b.box[0], b.box[3] - b.box[1])) or 1.0
    return float(np.linalg.norm(ax - bx, axis=1).mean()) / diagonal
