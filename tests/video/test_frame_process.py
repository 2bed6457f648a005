"""The child process that decodes into shared memory and draws + encodes the overlay."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import av
import numpy as np
import pytest

from dance_analysis.errors import MediaError, OutputError, Reason
from dance_analysis.video import VideoLimits, probe, read_frames
from dance_analysis.video.frame_process import FrameProcess, OverlaySpec


def _shared_segments() -> set[str]:
    return {name for name in os.listdir("/dev/shm") if name.startswith("psm_")}


def test_frames_match_the_in_process_reader_and_memory_is_released(small_clip: Path) -> None:
    info = probe(small_clip)
    expected = [(f.index, f.pts, f.t_ms, f.image.copy()) for f in read_frames(info)]
    before = _shared_segments()
    with FrameProcess(info, VideoLimits(), None) as frames:
        got = []
        for frame in frames.frames():
            got.append((frame.index, frame.pts, frame.t_ms, frame.image.copy()))
            frames.done(frame, None, None)
        frames.finish()
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    for (_, _, _, ours), (_, _, _, theirs) in zip(got, expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert _shared_segments() == before


def test_overlay_has_every_frame_with_its_timestamp(small_clip: Path, tmp_path: Path) -> None:
    from dance_analysis.pose.mock import MockPose

    info = probe(small_clip)
    out = tmp_path / "overlay.mp4"
    pose = MockPose()
    with FrameProcess(info, VideoLimits(), OverlaySpec(out)) as frames:
        pts = []
        for frame in frames.frames():
            seen = pose.estimate(frame.image, frame.t_ms)
            assert seen is not None
            frames.done(frame, seen.landmarks, seen.world)
            pts.append(frame.pts)
        frames.finish()
    with av.open(str(out)) as container:
        decoded = [f.pts for f in container.decode(video=0)]
    assert len(decoded) == len(pts) == info.frame_count
    assert decoded == pts


def test_a_crashing_decoder_only_ends_the_child(small_clip: Path) -> None:
    info = probe(small_clip)
    with FrameProcess(info, VideoLimits(), None) as frames:
        iterator = frames.frames()
        first = next(iterator)
        # A real crash: the child dies as a segfaulting decoder would.
        os.kill(frames._process.pid, signal.SIGKILL)
        frames.done(first, None, None)
        with pytest.raises(MediaError) as caught:
            for frame in iterator:
                frames.done(frame, None, None)
            frames.finish()
    assert caught.value.reason is Reason.DECODER_CRASHED
    assert "crashed" in caught.value.message


def test_errors_in_the_child_keep_their_reason(small_clip: Path, tmp_path: Path) -> None:
    info = probe(small_clip)
    missing_folder = tmp_path / "no" / "such" / "folder" / "overlay.mp4"
    with (
        FrameProcess(info, VideoLimits(), OverlaySpec(missing_folder)) as frames,
        pytest.raises(OutputError) as caught,
    ):
        for frame in frames.frames():
            frames.done(frame, None, None)
    assert caught.value.reason is Reason.OUTPUT_NOT_WRITABLE
