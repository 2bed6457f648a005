"""probe(): the facts it reports and every way it refuses a file (RELIABILITY §Media)."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from dance_analysis.errors import MediaError, Reason
from dance_analysis.video import VideoLimits, probe
from dance_analysis.video.container import Family, open_input
from tests.conftest import REPO
from tests.media import (
    PHOTO,
    SQUATS,
    audio_only,
    audio_with_cover_art,
    black_clip,
    ffmpeg,
    ffmpeg_exe,
    has_encoder,
    retimed_copy,
    top_level_boxes,
    watch_opens,
)

# ``dance_analysis.video.probe`` is also the name of the function the package exports.
probe_module = importlib.import_module("dance_analysis.video.probe")


def refusal(path: Path, limits: VideoLimits | None = None) -> MediaError:
    with pytest.raises(MediaError) as caught:
        probe(path, limits or VideoLimits())
    assert caught.value.message  # a sentence for a person, not an empty string
    return caught.value


# --- facts ---------------------------------------------------------------------------


def test_facts_of_the_real_footage() -> None:
    info = probe(SQUATS)

    assert info.to_dict() == {
        "path": "pose_squats.mp4",
        "size_bytes": SQUATS.stat().st_size,
        "container": "mov,mp4,m4a,3gp,3g2,mj2",
        "codec": "h264",
        "coded_width": 720,
        "coded_height": 1280,
        "width": 720,
        "height": 1280,
        "rotation": 0,
        "fps": 5.0,
        "variable_frame_rate": False,
        "frame_count": 65,
        "header_frame_count": 65,
        "duration_s": 13.0,
        "time_base": "1/10240",
        "start_pts": 0,
        "has_audio": False,
        "audio_codec": None,
    }
    assert info.time_base == Fraction(1, 10240)
    json.dumps(info.to_dict())  # JSON-able as promised


def test_audio_is_reported(tone_clip: Path) -> None:
    info = probe(tone_clip)
    assert (info.has_audio, info.audio_codec) == (True, "aac")


def test_frame_rate_and_duration_come_from_timestamps_not_the_header(
    small_clip_no_bframes: Path, tmp_path: Path
) -> None:
    # 10 packets 0.25 s apart in a file whose header says nothing about the rate.
    clip = retimed_copy(
        small_clip_no_bframes, tmp_path / "4fps.mkv",
        pts_s="N*0.25", dts_s="N*0.25", duration_s="0.25",
    )  # fmt: skip

    info = probe(clip)

    assert info.fps == pytest.approx(4.0)
    assert info.duration_s == pytest.approx(2.5, abs=0.001)  # last pts + one interval
    assert info.variable_frame_rate is False


def test_jittered_timestamps_are_variable_frame_rate(
    small_clip_no_bframes: Path, tmp_path: Path
) -> None:
    jittered = retimed_copy(
        small_clip_no_bframes, tmp_path / "vfr.mkv",
        pts_s="N*0.2 + if(eq(mod(N,3),1), 0.06, 0)", dts_s="N*0.2",
    )  # fmt: skip

    info = probe(jittered)

    assert info.variable_frame_rate is True
    assert info.frame_count == 10
    assert info.fps == pytest.approx(9 / 1.8)  # (n - 1) / (last - first)


def test_a_minute_of_video_is_probed_without_decoding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probing reads packets, not pictures: one picture is decoded, for its rotation.

    (How long that takes is a figure for ``benchmarks/probe_speed.py``, not a test.)
    """
    clip = tmp_path / "minute.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x64:rate=30", "-t", "60",
           "-c:v", "libx264", "-preset", "ultrafast", clip)  # fmt: skip
    fed: list[object] = []
    pictures: list[int] = []
    decode_one = probe_module._rotation_of_first_picture

    def counting(stream: object, packet: object) -> int | None:
        fed.append(packet)
        rotation = decode_one(stream, packet)  # type: ignore[arg-type]
        pictures.append(int(rotation is not None))
        return rotation

    monkeypatch.setattr(probe_module, "_rotation_of_first_picture", counting)

    info = probe(clip)

    assert info.frame_count == 1800
    assert sum(pictures) == 1  # the first picture, and no other
    assert len(fed) <= 4  # a decoder may need a few packets before the first picture


# --- refusals, in RELIABILITY's order -----------------------------------------------


def test_missing_file() -> None:
    assert refusal(Path("/nonexistent/clip.mp4")).reason is Reason.FILE_NOT_FOUND


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:  # §1
    empty = tmp_path / "empty.mp4"
    empty.touch()
    assert refusal(empty).reason is Reason.EMPTY_FILE


def _tiny_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("jpeg", lambda: PHOTO.read_bytes()),
        ("pdf", _tiny_pdf),
        ("random", lambda: np.random.default_rng(7).bytes(64 * 1024)),
        ("text", lambda: b"just some notes about the routine\n" * 20),
    ],
)
def test_non_videos_are_refused_by_sniffing_before_any_demuxer(  # §2
    kind: str, content: Callable[[], bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / f"{kind}.mp4"
    fake.write_bytes(content())

    def no_demuxer(*args: object, **kwargs: object) -> None:
        pytest.fail("a demuxer was opened for a file that sniffing should have refused")

    monkeypatch.setattr(av, "open", no_demuxer)

    assert refusal(fake).reason is Reason.NOT_A_VIDEO


def test_jpeg_message_says_what_the_file_is(tmp_path: Path) -> None:
    fake = tmp_path / "dance.mp4"
    shutil.copy(PHOTO, fake)
    assert "JPEG photo" in refusal(fake).message


def test_mp4_cut_in_half_with_index_at_end_is_corrupt_container(  # §3
    small_clip: Path, tmp_path: Path
) -> None:
    boxes = top_level_boxes(small_clip)
    assert boxes.index("mdat") < boxes.index("moov")  # the index is at the end
    data = small_clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])

    assert refusal(cut).reason is Reason.CORRUPT_CONTAINER


@pytest.mark.parametrize("where", ["mid-packet", "on a packet boundary"])
def test_mp4_cut_with_index_in_front_is_corrupt_stream(  # §4: the deterministic choice
    where: str, small_clip: Path, tmp_path: Path
) -> None:
    front = tmp_path / "front.mp4"
    ffmpeg("-i", small_clip, "-c", "copy", "-movflags", "+faststart", front)
    with av.open(str(front)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    pos, size = packets[5]
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(front.read_bytes()[: pos + size // 2 if where == "mid-packet" else pos])

    assert refusal(cut).reason is Reason.CORRUPT_STREAM


def test_audio_only_has_no_video_stream(tmp_path: Path) -> None:  # §6
    assert refusal(audio_only(tmp_path / "song.m4a")).reason is Reason.NO_VIDEO_STREAM


def test_cover_art_is_not_a_video(tmp_path: Path) -> None:  # §6
    song = audio_with_cover_art(tmp_path / "song.mp3")
    with av.open(str(song)) as container:  # the picture really is a (one-frame) video stream
        assert [s.disposition & av.stream.Disposition.attached_pic for s in container.streams.video]

    error = refusal(song)

    assert error.reason is Reason.NO_VIDEO_STREAM
    assert "sound but no picture" in error.message


# §7: text files that make FFmpeg read other files. The canary sits beside them and
# is named relatively, which even the concat demuxer's "safe" mode allows.
PLAYLISTS = {
    "hls": "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{canary}\n#EXT-X-ENDLIST\n",
    "ffconcat": "ffconcat version 1.0\nfile '{canary}'\n",
}


@pytest.fixture()
def canary(small_clip: Path, tmp_path: Path) -> Path:
    """A real video elsewhere on the machine that an attack would pull in."""
    target = tmp_path / "canary.ts"
    ffmpeg("-i", small_clip, "-c", "copy", "-f", "mpegts", target)
    return target


def attack_file(kind: str, canary: Path, suffix: str) -> Path:
    attack = canary.with_name(f"{kind}{suffix}")
    attack.write_text(PLAYLISTS[kind].format(canary=canary.name))
    return attack


@pytest.mark.parametrize(("kind", "demuxer"), [("hls", None), ("ffconcat", "concat")])
def test_the_attacks_are_real_and_the_watch_sees_them(
    kind: str, demuxer: str | None, canary: Path
) -> None:
    # Control for the tests below: plain FFmpeg follows these files to the canary.
    attack = attack_file(kind, canary, ".m3u8" if kind == "hls" else ".txt")
    with watch_opens(canary) as events, av.open(str(attack), format=demuxer) as container:
        assert container.streams.video
    assert "open" in events


@pytest.mark.parametrize("kind", sorted(PLAYLISTS))
def test_playlists_named_mp4_are_refused_and_never_open_the_canary(  # §7
    kind: str, canary: Path
) -> None:
    attack = attack_file(kind, canary, ".mp4")

    with watch_opens(canary) as events:
        error = refusal(attack)

    assert error.reason is Reason.NOT_A_VIDEO
    assert events == []


@pytest.mark.parametrize(
    ("kind", "suffix", "family"),
    [
        # The whitelist: concat opens its files itself, so io_open never sees them.
        ("ffconcat", ".mp4", Family("MP4", "mov")),
        ("hls", ".m3u8", Family("MP4", "mov")),
        # A whitelist that let HLS in: io_open refuses the segment.
        ("hls", ".m3u8", Family("HLS", "hls")),
    ],
    ids=["whitelist-concat", "whitelist-hls", "io_open-hls"],
)
def test_each_lock_behind_sniffing_also_keeps_the_canary_closed(
    kind: str, suffix: str, family: Family, canary: Path
) -> None:
    attack = attack_file(kind, canary, suffix)

    with watch_opens(canary) as events:
        try:
            with open_input(attack, family=family) as container:
                assert not container.streams.video, "the playlist's target was opened"
        except MediaError:
            pass

    assert events == []


def test_declared_8k_is_refused_before_decoding(small_clip: Path, tmp_path: Path) -> None:  # §8
    clip = black_clip(tmp_path / "8k.mp4", width=7680, height=4320)
    assert refusal(clip).reason is Reason.RESOLUTION_TOO_LARGE

    # Proof that nothing was decoded: one 8K picture is 50 MB of YUV. Peak memory is
    # measured in fresh processes: the probe after a warm-up on a small clip, and as
    # the control the decode of that one picture, importing nothing else so its
    # baseline is its own.
    probed = _peak_growth_mb(
        "from dance_analysis.errors import MediaError\n"
        "from dance_analysis.video import probe\n"
        "probe(sys.argv[2])\n"
        "before = peak_mb()\n"
        "try:\n    probe(sys.argv[1])\nexcept MediaError:\n    pass\n",
        clip,
        small_clip,
    )
    control = _peak_growth_mb(
        "before = peak_mb()\nav.open(sys.argv[1]).close()\n", clip, small_clip
    )
    assert control > 40, f"the control grew only {control:.1f} MB"
    assert probed < 10, f"probe grew peak memory by {probed:.1f} MB"


def _peak_growth_mb(body: str, *args: Path) -> float:
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child forked
    # from a large pytest process would report the parent's peak as its own.
    script = (
        "import re, sys, av\n"
        "def peak_mb():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) / 1024\n"
        + body
        + "print(peak_mb() - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return float(done.stdout.split()[-1])


def test_4k_is_within_the_default_limit(tmp_path: Path) -> None:
    info = probe(black_clip(tmp_path / "4k.mp4", width=3840, height=2160))
    assert (info.width, info.height) == (3840, 2160)


def test_too_long_from_the_header(small_clip: Path) -> None:  # §9
    error = refusal(small_clip, VideoLimits(max_duration_s=1.5))
    assert error.reason is Reason.TOO_LONG
    assert "2.0 s" in error.message


def test_too_long_without_a_header_duration(small_clip: Path, tmp_path: Path) -> None:  # §9
    # Matroska written to a pipe has no duration: the packet pass has to notice.
    streamed = tmp_path / "streamed.mkv"
    command = [ffmpeg_exe(), "-loglevel", "error", "-i", str(small_clip), "-c", "copy"]
    with streamed.open("wb") as out:
        subprocess.run([*command, "-f", "matroska", "-"], stdout=out, check=True)
    with av.open(str(streamed)) as container:
        assert container.duration is None and container.streams.video[0].duration is None
    assert probe(streamed).frame_count == 10

    assert refusal(streamed, VideoLimits(max_duration_s=1.0)).reason is Reason.TOO_LONG


def test_codec_without_a_decoder_is_named(tmp_path: Path) -> None:  # §16
    if not has_encoder("libxavs2"):
        pytest.skip("this ffmpeg cannot write AVS2")
    clip = tmp_path / "clip.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1", "-c:v", "libxavs2", clip)

    error = refusal(clip)

    assert error.reason is Reason.UNSUPPORTED_CODEC
    assert "“avs2”" in error.message
