"""A clip cut into segments and tracked in lock-step gives the people one pass gives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dance_analysis.clip_poses import ClipJob, ClipPoses, track_clip, track_clips
from dance_analysis.errors import CanceledError
from dance_analysis.pose.blazepose.litert_net import LitertNetworks
from dance_analysis.video.probe import VideoInfo, probe
from tests.media import SQUATS, ffmpeg


@pytest.fixture(scope="module")
def networks() -> Iterator[LitertNetworks]:
    yield LitertNetworks(num_threads=1)


@pytest.fixture(scope="module")
def duet(tmp_path_factory: pytest.TempPathFactory) -> VideoInfo:
    """Two dancers: the squats beside their mirror image, 720x640, a keyframe every 16."""
    out = tmp_path_factory.mktemp("clip-poses") / "duet.mp4"
    ffmpeg("-i", SQUATS, "-an",
           "-filter_complex", "[0:v]split[a][b];[b]hflip[m];[a][m]hstack,scale=720:640",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "16",
           "-keyint_min", "16", "-sc_threshold", "0", out)  # fmt: skip
    return probe(out)


@pytest.fixture(scope="module")
def one_pass(duet: VideoInfo, networks: LitertNetworks) -> ClipPoses:
    return track_clip(ClipJob(duet, segments=1), networks)


def sides(poses: ClipPoses) -> dict[int, set[str]]:
    """Each id's side of the frame on every frame it is seen."""
    seen: dict[int, set[str]] = {}
    for frame in poses.people:
        for person in frame:
            centre = (person.box[0] + person.box[2]) / 2
            seen.setdefault(person.id, set()).add("left" if centre < 0.5 else "right")
    return seen


def test_one_pass_tracks_both_dancers_on_every_frame(one_pass: ClipPoses, duet: VideoInfo) -> None:
    assert one_pass.segments == 1
    assert len(one_pass.t_ms) == len(one_pass.people) == duet.frame_count
    assert all(sorted(p.id for p in frame) == [1, 2] for frame in one_pass.people)
    assert all(len(s) == 1 for s in sides(one_pass).values())


def test_segments_give_the_frames_times_and_ids_of_one_pass(
    one_pass: ClipPoses, duet: VideoInfo, networks: LitertNetworks
) -> None:
    cut = track_clip(ClipJob(duet, segments=3, min_segment_frames=10), networks)

    assert cut.segments == 3
    assert cut.t_ms == one_pass.t_ms
    assert all(sorted(p.id for p in frame) == [1, 2] for frame in cut.people)
    # Joined at the cuts: each id keeps its side, the same side as in one pass.
    assert sides(cut) == sides(one_pass)
    # Each segment starts its tracking afresh (detector, no smoothing history), so the
    # joints differ a little near the cuts and not at all elsewhere.
    errors = [
        np.abs(a.pose.landmarks[:, :2] - b.pose.landmarks[:, :2]).mean() * 720
        for fa, fb in zip(cut.people, one_pass.people, strict=True)
        for a, b in zip(fa, fb, strict=True)
    ]
    assert float(np.mean(errors)) < 3.0
    assert float(np.median(errors)) < 1.0


def test_two_clips_in_one_lock_step_are_each_tracked_as_alone(
    one_pass: ClipPoses, duet: VideoInfo, networks: LitertNetworks
) -> None:
    solo = probe(SQUATS)
    together = track_clips(
        [ClipJob(duet, segments=1), ClipJob(solo, segments=2, min_segment_frames=20)], networks
    )
    alone = track_clip(ClipJob(solo, segments=2, min_segment_frames=20), networks)

    for both, single in [(together[0], one_pass), (together[1], alone)]:
        assert both.t_ms == single.t_ms
        for fa, fb in zip(both.people, single.people, strict=True):
            assert [p.id for p in fa] == [p.id for p in fb]
            for a, b in zip(fa, fb, strict=True):
                np.testing.assert_array_equal(a.pose.landmarks, b.pose.landmarks)


def test_cancel_stops_tracking_and_its_decoders(duet: VideoInfo, networks: LitertNetworks) -> None:
    asked: list[int] = []

    def cancel_after_five() -> bool:
        asked.append(1)
        return len(asked) > 5

    with pytest.raises(CanceledError):
        track_clip(
            ClipJob(duet, segments=3, min_segment_frames=10),
            networks,
            should_cancel=cancel_after_five,
        )
    assert not [t for t in threading.enumerate() if t.name == "segment-decoder"]


def test_a_decoder_failure_reaches_the_caller_and_leaves_no_decoder(
    tmp_path: Path, duet: VideoInfo, networks: LitertNetworks
) -> None:
    gone = tmp_path / "gone.mp4"
    gone.write_bytes(duet.path.read_bytes())
    info = probe(gone)
    gone.unlink()  # the file disappears between the probe and the decoding thread

    with pytest.raises(FileNotFoundError):
        track_clip(ClipJob(info, segments=1), networks)

    assert not [t for t in threading.enumerate() if t.name == "segment-decoder"]
