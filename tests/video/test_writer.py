"""VideoWriter and finalize_mp4: H.264 MP4 that plays everywhere, timed like the source."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from dance_analysis.errors import OutputError, Reason
from dance_analysis.video import VideoWriter, finalize_mp4, probe, read_frames
from tests.media import ffmpeg, mean_abs_diff, retimed_copy, top_level_boxes, with_tone


def copy_through_writer(source: Path, out: Path) -> Path:
    """What the pipeline does: decode, write each frame back with its pts."""
    info = probe(source)
    with VideoWriter(out, width=info.width, height=info.height, time_base=info.time_base) as w:
        for frame in read_frames(info):
            w.write(frame.image, frame.pts)
    return out


def times_ms(path: Path) -> list[float]:
    return [f.t_ms for f in read_frames(probe(path))]


def streams(path: Path) -> list[tuple[str, str, str | None]]:
    with av.open(str(path)) as container:
        return [
            (s.type, s.codec_context.name, getattr(s.codec_context, "pix_fmt", None))
            for s in container.streams
        ]


def test_overlay_round_trip_with_the_sources_audio(tone_clip: Path, tmp_path: Path) -> None:
    video_only = copy_through_writer(tone_clip, tmp_path / "video-only.mp4")
    final = tmp_path / "overlay.mp4"

    finalize_mp4(video_only, final, audio_source=tone_clip)

    assert streams(final) == [("video", "h264", "yuv420p"), ("audio", "aac", None)]
    source, output = probe(tone_clip), probe(final)
    assert output.frame_count == source.frame_count == 10
    assert output.duration_s == pytest.approx(source.duration_s, abs=0.001)
    assert _container_duration_s(final) == pytest.approx(2.0, abs=0.001)  # what players show
    assert times_ms(final) == pytest.approx(times_ms(tone_clip), abs=1.0)
    # Faststart: the index (moov) comes before the media data, unlike the writer's own
    # output, so a phone can start playing while it downloads.
    assert top_level_boxes(video_only).index("moov") > top_level_boxes(video_only).index("mdat")
    assert top_level_boxes(final).index("moov") < top_level_boxes(final).index("mdat")
    # The video was copied, not re-encoded: the same bytes for every picture.
    assert _video_payloads(final) == _video_payloads(video_only)
    # The pictures survived the round trip.
    before = [f.image for f in read_frames(source)]
    after = [f.image for f in read_frames(output)]
    assert max(mean_abs_diff(a, b) for a, b in zip(before, after, strict=True)) < 6


def _container_duration_s(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base)


def _video_payloads(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def _audio_seconds(path: Path) -> tuple[float, float]:
    """When the sound starts and how long it lasts."""
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        assert audio.time_base is not None
        first = next(p.pts for p in container.demux(audio) if p.pts is not None)
        assert audio.duration is not None
        return float(first * audio.time_base), float(audio.duration * audio.time_base)


def test_without_an_audio_source_there_is_no_audio(tone_clip: Path, tmp_path: Path) -> None:
    video_only = copy_through_writer(tone_clip, tmp_path / "video-only.mp4")
    final = tmp_path / "overlay.mp4"

    finalize_mp4(video_only, final, audio_source=None)

    assert streams(final) == [("video", "h264", "yuv420p")]
    assert top_level_boxes(final).index("moov") < top_level_boxes(final).index("mdat")


def test_a_source_without_sound_gives_a_silent_overlay(small_clip: Path, tmp_path: Path) -> None:
    video_only = copy_through_writer(small_clip, tmp_path / "video-only.mp4")
    final = tmp_path / "overlay.mp4"

    finalize_mp4(video_only, final, audio_source=small_clip)

    assert [s[0] for s in streams(final)] == ["video"]


def test_pcm_sound_is_reencoded_to_aac(small_clip: Path, tmp_path: Path) -> None:
    # Cameras write PCM in MOV; MP4 players want AAC.
    source = with_tone(small_clip, tmp_path / "camera.mov", audio_codec="pcm_s16le")
    assert probe(source).audio_codec == "pcm_s16le"
    video_only = copy_through_writer(source, tmp_path / "video-only.mp4")
    final = tmp_path / "overlay.mp4"

    finalize_mp4(video_only, final, audio_source=source)

    assert [s[:2] for s in streams(final)] == [("video", "h264"), ("audio", "aac")]
    start_s, length_s = _audio_seconds(final)
    assert start_s == pytest.approx(0.0, abs=0.05)
    assert length_s == pytest.approx(2.0, abs=0.05)


def test_sound_is_shifted_with_the_pictures(small_clip: Path, tmp_path: Path) -> None:
    # MPEG-TS clocks start at 1.4 s. The reader moves the first picture to 0; the
    # sound must move by the same amount or it plays 1.4 s late.
    source = tmp_path / "clip.ts"
    ffmpeg("-i", with_tone(small_clip, tmp_path / "tone.mp4"), "-c", "copy", "-f", "mpegts", source)
    assert probe(source).start_pts * probe(source).time_base > 1
    video_only = copy_through_writer(source, tmp_path / "video-only.mp4")
    final = tmp_path / "overlay.mp4"

    finalize_mp4(video_only, final, audio_source=source)

    start_s, length_s = _audio_seconds(final)
    assert start_s == pytest.approx(0.0, abs=0.05)
    assert length_s == pytest.approx(2.0, abs=0.05)


def test_variable_frame_rate_timing_is_kept(small_clip_no_bframes: Path, tmp_path: Path) -> None:
    source = retimed_copy(
        small_clip_no_bframes, tmp_path / "vfr.mkv",
        pts_s="N*0.2 + if(eq(mod(N,3),1), 0.07) - if(eq(mod(N,4),2), 0.05)", dts_s="N*0.2",
    )  # fmt: skip
    assert probe(source).variable_frame_rate

    out = copy_through_writer(source, tmp_path / "out.mp4")

    assert probe(out).variable_frame_rate
    assert times_ms(out) == pytest.approx(times_ms(source), abs=1.0)


def test_odd_sizes_are_cropped_to_even(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (21, 33, 3), dtype=np.uint8) for _ in range(3)]
    out = tmp_path / "odd.mp4"
    with VideoWriter(out, width=33, height=21, time_base=Fraction(1, 1000)) as writer:
        for i, image in enumerate(images):
            writer.write(image, pts=i * 40)

    info = probe(out)

    assert (info.width, info.height, info.frame_count) == (32, 20, 3)
    assert times_ms(out) == [0.0, 40.0, 80.0]


def test_pts_must_increase(tmp_path: Path) -> None:
    image = np.zeros((20, 20, 3), np.uint8)
    with VideoWriter(tmp_path / "x.mp4", width=20, height=20, time_base=Fraction(1, 25)) as w:
        w.write(image, 0)
        with pytest.raises(ValueError, match="increase"):
            w.write(image, 0)
        with pytest.raises(ValueError, match="uint8"):
            w.write(np.zeros((20, 22, 3), np.uint8), 1)


def test_close_is_idempotent(tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "x.mp4", width=16, height=16, time_base=Fraction(1, 25))
    writer.write(np.zeros((16, 16, 3), np.uint8), 0)
    writer.close()
    writer.close()
    assert probe(tmp_path / "x.mp4").frame_count == 1


def test_unwritable_output_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        VideoWriter(tmp_path / "missing" / "x.mp4", width=16, height=16, time_base=Fraction(1, 25))
    assert caught.value.reason is Reason.OUTPUT_NOT_WRITABLE
