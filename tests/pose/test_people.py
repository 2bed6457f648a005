"""The rule that chooses the dancer, with numbers checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from dance_analysis.errors import MediaError, Reason
from dance_analysis.pose.base import PersonPose, PoseObservation
from dance_analysis.pose.people import People, Track, centrality, choose_dancer, dancer_score

SIZE = (100, 100)  # a square frame: distances in x and y weigh the same


def _person(person_id: int, box: tuple[float, float, float, float]) -> PersonPose:
    blank = np.zeros((33, 4))
    return PersonPose(person_id, PoseObservation(blank, blank), box, 0.9)


def _track(person_id: int, boxes: list[tuple[float, float, float, float]]) -> Track:
    track = Track(person_id, first_ms=0.0)
    for i, box in enumerate(boxes):
        track.add(100.0 * i, box)
    return track


def test_centrality_is_one_in_the_middle_and_half_in_a_corner() -> None:
    assert centrality((0.5, 0.5), 100, 100) == 1.0
    assert centrality((0.0, 0.0), 100, 100) == 0.5
    assert centrality((1.0, 0.5), 100, 100) == pytest.approx(1 - 0.5 / np.sqrt(2))
    # Pixels, not fractions: in a portrait frame a step along the short side is shorter.
    assert centrality((0.0, 0.5), 90, 160) > centrality((0.5, 0.0), 90, 160)


def test_score_is_frames_times_median_area_times_centrality() -> None:
    # A 0.2 × 0.5 box (area 0.1) centred, in 3 frames, with one wild box the median ignores.
    track = _track(1, [(0.4, 0.25, 0.6, 0.75)] * 2 + [(0.0, 0.0, 1.0, 1.0)])
    assert track.median_area == pytest.approx(0.1)
    assert track.median_centre == pytest.approx((0.5, 0.5))
    assert dancer_score(track, *SIZE) == pytest.approx(3 * 0.1 * 1.0)


def test_the_rule_weighs_frames_size_and_centrality() -> None:
    centred = _track(1, [(0.4, 0.3, 0.6, 0.7)] * 4)  # 4 × 0.08 × 1 = 0.32
    longer = _track(2, [(0.4, 0.3, 0.6, 0.7)] * 5)  # 5 × 0.08 × 1 = 0.40
    bigger_in_corner = _track(3, [(0.0, 0.0, 0.4, 0.4)] * 4)  # 4 × 0.16 × (1 - 0.5·0.6) = 0.448
    assert choose_dancer({1: centred, 2: longer}, SIZE) == 2
    assert choose_dancer({1: centred, 2: longer, 3: bigger_in_corner}, SIZE) == 3
    assert choose_dancer({}, SIZE) is None


def test_a_tie_goes_to_the_lower_id() -> None:
    left = _track(4, [(0.1, 0.3, 0.3, 0.7)] * 3)
    right = _track(2, [(0.7, 0.3, 0.9, 0.7)] * 3)  # the mirror image: the same score
    assert dancer_score(left, *SIZE) == pytest.approx(dancer_score(right, *SIZE))
    assert choose_dancer({4: left, 2: right}, SIZE) == 2
    assert choose_dancer({2: right, 4: left}, SIZE) == 2


def test_the_users_choice_wins_and_a_missing_id_names_those_there_are() -> None:
    tracks = {1: _track(1, [(0.4, 0.3, 0.6, 0.7)] * 9), 3: _track(3, [(0.0, 0.0, 0.1, 0.1)])}
    assert choose_dancer(tracks, SIZE, wanted_id=3) == 3
    with pytest.raises(MediaError) as caught:
        choose_dancer(tracks, SIZE, wanted_id=2)
    assert caught.value.reason is Reason.NO_SUCH_DANCER
    assert caught.value.message == (
        "There is no dancer 2 in this clip. The dancers in the clip have ids 1 and 3."
    )
    with pytest.raises(MediaError, match="Nobody was found"):
        choose_dancer({}, SIZE, wanted_id=1)


def test_people_gathers_tracks_the_most_in_a_frame_and_the_leader() -> None:
    people = People(SIZE)
    small = (0.0, 0.6, 0.1, 0.8)
    big = (0.3, 0.1, 0.7, 0.9)
    people.add(0.0, [_person(1, small)])
    assert people.leader() == 1
    people.add(40.0, [_person(1, small), _person(2, big)])
    assert people.leader() == 2  # 1 × 0.32 × 1 beats 2 × 0.02 × 0.68
    people.add(80.0, [])
    assert people.people_seen == 2
    assert people.choose() == 2
    assert people.summary(2) == [
        {"id": 1, "first_ms": 0.0, "last_ms": 40.0, "frames": 2, "chosen": False},
        {"id": 2, "first_ms": 40.0, "last_ms": 40.0, "frames": 1, "chosen": True},
    ]


def test_a_wanted_dancer_leads_from_the_first_frame_even_before_they_appear() -> None:
    people = People(SIZE, wanted_id=2)
    people.add(0.0, [_person(1, (0.3, 0.1, 0.7, 0.9))])
    assert people.leader() == 2
    with pytest.raises(MediaError):
        people.choose()
