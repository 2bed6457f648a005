"""read_frames(): upright RGB pictures with the container's timestamps, streamed."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import av
import numpy as np
import pytest

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video import Frame, VideoLimits, probe, read_frames
from tests.media import (
    SQUATS,
    ffmpeg,
    make_clip,
    mean_abs_diff,
    retimed_copy,
    rotated_copy,
    set_avi_frame_count,
)


def container_times_ms(path: Path) -> list[float]:
    """The video packets' own timestamps in decode order, read with plain PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        return [float(p.pts * stream.time_base * 1000) for p in container.demux(stream) if p.size]


def test_real_footage_frames() -> None:
    frames = list(read_frames(probe(SQUATS)))

    assert [f.index for f in frames] == list(range(65))
    # 5 fps, and the container's timestamps exactly (the file has no B-frames).
    assert [f.t_ms for f in frames] == container_times_ms(SQUATS)
    assert [f.t_ms for f in frames] == [200.0 * i for i in range(65)]
    image = frames[30].image
    assert (image.shape, image.dtype) == ((1280, 720, 3), np.uint8)
    assert image.flags.c_contiguous


def test_timestamps_are_relative_to_the_first_frame(small_clip: Path, tmp_path: Path) -> None:
    # MPEG-TS starts its clock at 1.4 s; results must start at 0.
    ts = tmp_path / "clip.ts"
    ffmpeg("-i", small_clip, "-c", "copy", "-f", "mpegts", ts)
    info = probe(ts)
    assert info.start_pts > 0

    times = [f.t_ms for f in read_frames(info)]

    assert times[0] == 0.0
    assert times == pytest.approx([200.0 * i for i in range(10)], abs=0.02)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_phone_clips_come_out_upright(  # §11
    rotation: int, small_clip: Path, tmp_path: Path
) -> None:
    upright = [f.image for f in read_frames(probe(small_clip))]
    clip = rotated_copy(small_clip, tmp_path / f"rot{rotation}.mp4", rotation)

    info = probe(clip)
    frames = list(read_frames(info))

    assert info.rotation == rotation
    assert (info.width, info.height) == (90, 160)  # as displayed: portrait again
    sideways = rotation in (90, 270)
    assert (info.coded_width, info.coded_height) == ((160, 90) if sideways else (90, 160))
    assert len(frames) == len(upright)
    errors = [mean_abs_diff(f.image, u) for f, u in zip(frames, upright, strict=True)]
    assert max(errors) < 4, errors
    # Control: turning the other way (the sign error this test is about) is far off.
    wrong = np.rot90(frames[5].image, 2)
    assert wrong.shape != upright[5].shape or mean_abs_diff(wrong, upright[5]) > 15


def test_a_cut_that_starts_mid_gop(tmp_path: Path) -> None:
    # A stream-copied cut (editors and `ffmpeg -ss -c copy` make these): the packets
    # from the keyframe before the cut are kept but marked "discard" by an edit list.
    long_gops = make_clip(tmp_path / "source.mp4", seconds=4.0, extra=["-g", "10"])
    cut = tmp_path / "cut.mp4"
    ffmpeg("-ss", "1.1", "-i", long_gops, "-c", "copy", cut)
    with av.open(str(cut)) as container:
        shown = [p.pts for p in container.demux(video=0) if p.size and not p.is_discard]
        assert len(shown) < container.streams.video[0].frames  # there is a pre-roll

    info = probe(cut)
    frames = list(read_frames(info))

    assert len(frames) == info.frame_count == len(shown)
    assert [f.t_ms for f in frames] == [200.0 * i for i in range(len(shown))]


def test_missing_frame_count_in_header(tmp_path: Path) -> None:  # §12
    clip = make_clip(tmp_path / "clip.mkv", seconds=3.0)
    info = probe(clip)
    assert info.header_frame_count is None

    frames = list(read_frames(info))

    assert len(frames) == info.frame_count == 15


def test_wrong_frame_count_in_header(tmp_path: Path) -> None:  # §12
    clip = make_clip(tmp_path / "clip.avi", seconds=3.0, bframes=0)
    set_avi_frame_count(clip, 4)
    info = probe(clip)
    assert info.header_frame_count == 4  # the lie is read...

    frames = list(read_frames(info))

    assert len(frames) == info.frame_count == 15  # ...and not believed


def test_duplicate_and_out_of_order_timestamps(  # §10
    small_clip_no_bframes: Path, tmp_path: Path
) -> None:
    # Decode order = presentation order (no B-frames), with the timestamps a broken
    # phone or remuxer writes: packet 2 jitters, 5 and 6 share a time, 8 goes back.
    clip = retimed_copy(
        small_clip_no_bframes, tmp_path / "vfr.mkv",
        pts_s="0.3 + N*0.2 + if(eq(N,2),0.07) + if(eq(N,5),0.1) - if(eq(N,6),0.1)"
              " + if(eq(N,7),0.15) - if(eq(N,8),0.15)",
        dts_s="N*0.2",
    )  # fmt: skip
    container_ms = container_times_ms(clip)
    assert container_ms[5] == container_ms[6] and container_ms[8] < container_ms[7]
    info = probe(clip)
    assert info.variable_frame_rate

    frames = list(read_frames(info))

    times = np.array([f.t_ms for f in frames])
    assert len(frames) == len(container_ms) == info.frame_count
    assert np.all(np.diff(times) > 0)
    relative = np.array(container_ms) - container_ms[0]
    one_frame_ms = 1000 / info.fps
    assert np.max(np.abs(times - relative)) < one_frame_ms
    assert [f.pts for f in frames][:2] == [0, 200]  # Matroska counts in ms


def _corrupt_packets(src: Path, out: Path, which: range) -> None:
    """Overwrite the NAL length prefix of the given packets: undecodable, same size."""
    with av.open(str(src)) as container:
        places = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(src.read_bytes())
    for i in which:
        pos, _size = places[i]
        data[pos : pos + 4] = b"\xff\xff\xff\xff"
    out.write_bytes(bytes(data))


def test_a_few_damaged_frames_are_skipped(tmp_path: Path) -> None:  # §5
    clip = make_clip(tmp_path / "clip.mp4", seconds=4.0, bframes=0)  # 20 frames
    damaged = tmp_path / "damaged.mp4"
    _corrupt_packets(clip, damaged, range(10, 13))

    frames = list(read_frames(probe(damaged)))

    assert len(frames) == 17
    assert all(np.diff([f.t_ms for f in frames]) > 0)


def test_too_many_damaged_frames_is_corrupt_stream(tmp_path: Path) -> None:  # §5
    clip = make_clip(tmp_path / "clip.mp4", seconds=4.0, bframes=0)  # 20 frames
    damaged = tmp_path / "damaged.mp4"
    _corrupt_packets(clip, damaged, range(2, 8))  # 30 % > 20 %
    info = probe(damaged)

    yielded = 0
    with pytest.raises(MediaError) as caught:
        for _ in read_frames(info):
            yielded += 1
    assert caught.value.reason is Reason.CORRUPT_STREAM
    assert yielded < 5, "gives up as soon as the share is exceeded, not at the end"

    assert len(list(read_frames(info, VideoLimits(max_decode_errors=0.4)))) == 14


def test_pictures_lost_without_a_decoder_error_count_too(tmp_path: Path) -> None:  # §5
    # Two GOPs of 10. With the first keyframe damaged, the decoder reports one error
    # and then silently drops the 9 pictures that depend on it.
    clip = make_clip(tmp_path / "clip.mp4", seconds=4.0, bframes=0, extra=["-g", "10"])
    damaged = tmp_path / "damaged.mp4"
    _corrupt_packets(clip, damaged, range(0, 1))
    info = probe(damaged)

    with pytest.raises(MediaError) as caught:
        list(read_frames(info))
    assert caught.value.reason is Reason.CORRUPT_STREAM

    assert len(list(read_frames(info, VideoLimits(max_decode_errors=0.6)))) == 10


def _open_fds_to(path: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    count = 0
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):  # fds close while we look
            count += os.readlink(fd) == str(path)
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_closing_the_generator_early_closes_the_file(small_clip: Path) -> None:
    frames = read_frames(probe(small_clip))
    first = next(frames)
    assert isinstance(first, Frame) and _open_fds_to(small_clip) == 1

    frames.close()

    assert _open_fds_to(small_clip) == 0


def _resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_frames_are_streamed_not_collected() -> None:
    # 65 frames of 720x1280 RGB are 180 MB; a streaming reader holds a few at a time.
    # (Resident memory, not tracemalloc: the pictures live in FFmpeg's buffers.)
    info = probe(SQUATS)
    baseline = _resident_bytes()
    growth = count = 0
    for _ in read_frames(info):
        count += 1
        growth = max(growth, _resident_bytes() - baseline)

    assert count == 65
    one_frame = 720 * 1280 * 3
    assert growth < 12 * one_frame, f"grew {growth / 1e6:.0f} MB"
