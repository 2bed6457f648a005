"""Segments decode exactly the pictures the sequential reader gives, each from a keyframe."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from dance_analysis.video.probe import probe
from dance_analysis.video.reader import read_frames
from dance_analysis.video.segments import plan_segments, read_segment
from tests.media import SQUATS, ffmpeg, make_clip


@pytest.fixture(scope="module")
def gop_clip(media_dir: Path) -> Path:
    """6 s at 10 fps with B-frames and a keyframe every 8 pictures (closed GOPs), stored
    turned and flagged to be shown turned 90°."""
    stored = media_dir / "gop8.stored.mp4"
    ffmpeg("-ss", "0", "-t", "6", "-i", SQUATS, "-an",
           "-vf", "scale=90:160,fps=10,transpose=cclock",
           "-c:v", "libx264", "-preset", "veryfast", "-g", "8", "-keyint_min", "8",
           "-sc_threshold", "0", "-bf", "2", stored)  # fmt: skip
    rotated = media_dir / "gop8.mp4"
    ffmpeg("-display_rotation", "-90", "-i", stored, "-c", "copy", rotated)
    assert probe(rotated).rotation == 90
    return rotated


@pytest.fixture(scope="module")
def open_gop_clip(media_dir: Path) -> Path:
    """Open GOPs: B-frames before a keyframe refer to the GOP before it."""
    return make_clip(
        media_dir / "open-gop.mp4",
        start_s=0.0,
        seconds=6.0,
        fps=10,
        extra=["-g", "8", "-sc_threshold", "0", "-bf", "3", "-x264-params", "open-gop=1"],
    )


@pytest.mark.parametrize("clip_name", ["gop_clip", "open_gop_clip", "small_clip"])
@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_segments_together_are_the_sequential_read(
    clip_name: str, count: int, request: pytest.FixtureRequest
) -> None:
    info = probe(request.getfixturevalue(clip_name))
    sequential = list(read_frames(info))
    segments = plan_segments(info, count)

    assert 1 <= len(segments) <= count
    assert segments[0].start == 0 and segments[-1].stop == len(sequential)
    assert all(a.stop == b.start for a, b in itertools.pairwise(segments))
    pieces = [frame for segment in segments for frame in read_segment(info, segment)]
    assert [f.index for f in pieces] == [f.index for f in sequential]
    assert [f.pts for f in pieces] == [f.pts for f in sequential]
    assert [f.t_ms for f in pieces] == [f.t_ms for f in sequential]
    for ours, theirs in zip(pieces, sequential, strict=True):
        assert ours.image.shape == theirs.image.shape
        assert np.array_equal(ours.image, theirs.image)


def test_a_clip_cuts_at_its_keyframes(gop_clip: Path) -> None:
    info = probe(gop_clip)
    segments = plan_segments(info, 3)
    assert len(segments) == 3
    # 60 pictures, a keyframe every 8: the cuts land on multiples of 8 near 20 and 40.
    assert [s.start for s in segments] == [0, 24, 40] or [s.start for s in segments] == [
        0, 16, 40,
    ]  # fmt: skip
    assert all(s.start % 8 == 0 for s in segments)


def test_no_segment_is_shorter_than_asked(gop_clip: Path) -> None:
    info = probe(gop_clip)
    segments = plan_segments(info, 16, min_frames=20)
    assert len(segments) <= 3
    assert all(len(s) >= 20 for s in segments)
