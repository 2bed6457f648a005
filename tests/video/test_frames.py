"""FrameDecoder: picture i of the player is picture i of the analysis, in any order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video import probe, read_frames
from dance_analysis.video.frames import FrameDecoder
from tests.media import ffmpeg, make_clip, rotated_copy


def pipeline_frames(path: Path) -> tuple[list[float], list[np.ndarray]]:
    frames = list(read_frames(probe(path)))
    return [f.t_ms for f in frames], [f.image for f in frames]


def test_random_access_gives_the_pipelines_pictures_and_times(tmp_path: Path) -> None:
    # Key frames every 4 pictures, B-frames on: seeking must decode forward from one.
    clip = make_clip(tmp_path / "gops.mp4", seconds=3.0, extra=["-g", "4"])
    times, images = pipeline_frames(clip)

    with FrameDecoder(clip) as decoder:
        assert decoder.frame_count == len(images) == 15
        np.testing.assert_array_equal(decoder.t_ms, times)
        # Backwards, jumps, then one step forward (the player's "next frame" path).
        for index in (14, 0, 9, 3, 4, 5, 13, 1):
            np.testing.assert_array_equal(decoder.frame(index), images[index])
        assert decoder.decoded == 8


@pytest.mark.parametrize("rotation", [90, 270])
def test_rotated_clips_come_out_upright_as_in_the_pipeline(
    rotation: int, small_clip: Path, tmp_path: Path
) -> None:
    clip = rotated_copy(small_clip, tmp_path / f"rot{rotation}.mp4", rotation)
    _, images = pipeline_frames(clip)

    with FrameDecoder(clip) as decoder:
        picture = decoder.frame(5)

    assert picture.shape == (160, 90, 3)  # portrait, as displayed
    np.testing.assert_array_equal(picture, images[5])


def test_the_pipelines_stream_is_chosen_not_the_first(small_clip: Path, tmp_path: Path) -> None:
    # A cover picture first, the footage second and marked default: the footage is shown.
    cover = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=red:size=32x32", "-frames:v", "1", cover)
    clip = tmp_path / "with-cover.mp4"
    ffmpeg(
        "-i", small_clip, "-i", cover, "-map", "1", "-map", "0", "-c", "copy",
        "-disposition:0", "attached_pic", "-disposition:1", "default", clip,
    )  # fmt: skip
    _, images = pipeline_frames(clip)

    with FrameDecoder(clip) as decoder:
        np.testing.assert_array_equal(decoder.frame(2), images[2])
        assert decoder.frame(2).shape == (160, 90, 3)


def test_a_file_that_is_not_a_video_is_refused_before_decoding(tmp_path: Path) -> None:
    playlist = tmp_path / "clip.mp4"
    playlist.write_text("#EXTM3U\n#EXTINF:1,\n/etc/passwd\n")

    with pytest.raises(MediaError) as refused:
        FrameDecoder(playlist)

    assert refused.value.reason == Reason.NOT_A_VIDEO
