"""Segments tracked apart are joined into one set of ids for the whole clip."""

from __future__ import annotations

import numpy as np

from dance_analysis.pose.base import PersonPose, PoseObservation
from dance_analysis.pose.stitch import stitch_segments


def person(local_id: int, x: float, width: float = 0.2) -> PersonPose:
    """A person standing at horizontal position ``x`` (normalised), joints in a column."""
    landmarks = np.zeros((33, 4))
    landmarks[:, 0] = x + width / 2
    landmarks[:, 1] = np.linspace(0.2, 0.9, 33)
    landmarks[:, 3] = 1.0
    pose = PoseObservation(landmarks=landmarks, world=np.zeros((33, 4)))
    return PersonPose(id=local_id, pose=pose, box=(x, 0.2, x + width, 0.9), score=0.9)


def ids_at(frames: list[list[PersonPose]], x: float) -> set[int]:
    return {p.id for frame in frames for p in frame if abs(p.box[0] - x) < 0.05}


def test_each_person_keeps_one_id_across_cuts_whatever_the_segment_called_them() -> None:
    first = [[person(1, 0.1), person(2, 0.6)] for _ in range(10)]
    # The second segment's tracker met the right-hand dancer first.
    second = [[person(1, 0.61), person(2, 0.11)] for _ in range(10)]
    third = [[person(2, 0.12), person(1, 0.62)] for _ in range(10)]

    joined = stitch_segments([first, second, third])

    assert len(joined) == 30
    assert ids_at(joined, 0.1) == {1}
    assert ids_at(joined, 0.6) == {2}
    assert all([p.id for p in frame] == [1, 2] for frame in joined)


def test_a_newcomer_in_a_later_segment_gets_the_next_id() -> None:
    first = [[person(1, 0.1)] for _ in range(10)]
    second = [[person(1, 0.7), person(2, 0.1)] for _ in range(10)]

    joined = stitch_segments([first, second])

    assert ids_at(joined, 0.1) == {1}
    assert ids_at(joined, 0.7) == {2}


def test_a_person_missed_at_the_cut_is_still_joined_within_the_window() -> None:
    first = [[person(1, 0.1), person(2, 0.6)] for _ in range(8)] + [[person(1, 0.1)]] * 2
    second = [[person(1, 0.1)]] * 2 + [[person(1, 0.1), person(2, 0.6)] for _ in range(8)]

    joined = stitch_segments([first, second], window=5)
    assert ids_at(joined, 0.6) == {2}

    apart = stitch_segments([first, second], window=1)
    assert ids_at(apart, 0.6) == {2, 3}  # beyond the window: a new id, never a wrong one


def test_people_far_from_anyone_at_the_cut_are_not_joined() -> None:
    first = [[person(1, 0.05)] for _ in range(5)]
    second = [[person(1, 0.75)] for _ in range(5)]

    joined = stitch_segments([first, second])

    assert ids_at(joined, 0.05) == {1}
    assert ids_at(joined, 0.75) == {2}
