"""Clip builders for tests: small, fast derivatives of the real footage, made at run time.

Every builder runs the ffmpeg binary that ships in the ``imageio-ffmpeg`` wheel and
writes into a folder the caller owns (normally pytest's ``tmp_path``). Nothing here
is committed media: the only inputs are the files in ``../shared/data``.

Defaults keep things tiny for a 2-core machine: two seconds of
``pose_squats.mp4`` (5 fps, so 10 frames) scaled to 90x160, ``ultrafast`` x264.

    from tests.media import make_clip, rotated_copy, with_tone
    clip = make_clip(tmp_path / "clip.mp4")
"""

from __future__ import annotations

import ctypes
import os
import struct
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SHARED_DATA = Path(
    os.environ.get("DANCE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SQUATS = SHARED_DATA / "pose_squats.mp4"  # 720x1280 portrait, 5 fps, 65 frames, no audio
PHOTO = SHARED_DATA / "pose.jpg"

#: The tiny default size: pose_squats.mp4 scaled by 1/8 (portrait, like the source).
SMALL = (90, 160)


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg(*args: str | Path) -> None:
    """Run ffmpeg quietly; raise with its error output if it fails."""
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    command += [str(a) for a in args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")


def has_encoder(name: str) -> bool:
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    )
    return any(line.split()[1:2] == [name] for line in done.stdout.splitlines())


def make_clip(
    out: Path,
    *,
    src: Path = SQUATS,
    start_s: float = 4.0,
    seconds: float = 2.0,
    size: tuple[int, int] | None = SMALL,
    fps: float | None = None,
    tone_hz: float | None = None,
    audio_codec: str = "aac",
    bframes: int | None = None,
    crf: int = 18,
    preset: str = "veryfast",
    extra: Sequence[str] = (),
) -> Path:
    """Cut, scale and re-encode ``src`` to H.264; the container follows ``out``'s suffix.

    ``size`` is (width, height) or None to keep the source's. ``tone_hz`` muxes in a
    sine tone (``audio_codec``, 44.1 kHz) as long as the video. ``bframes=0`` gives
    a stream whose decode order is its presentation order.
    """
    args: list[str | Path] = ["-ss", str(start_s), "-t", str(seconds), "-i", src]
    if tone_hz is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=44100"]
        args += ["-map", "0:v:0", "-map", "1:a:0", "-c:a", audio_codec, "-shortest"]
    else:
        args += ["-an"]
    filters = []
    if size is not None:
        filters.append(f"scale={size[0]}:{size[1]}")
    if fps is not None:
        filters.append(f"fps={fps}")
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
    if bframes is not None:
        args += ["-bf", str(bframes)]
    ffmpeg(*args, *extra, out)
    return out


def black_clip(out: Path, *, width: int, height: int, frames: int = 1, fps: int = 1) -> Path:
    """A black H.264 clip of any declared size (one 8K frame takes a fraction of a second)."""
    ffmpeg(
        "-f", "lavfi", "-i", f"color=black:size={width}x{height}:rate={fps}",
        "-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", out,
    )  # fmt: skip
    return out


def rotated_copy(src: Path, out: Path, rotation_cw: int) -> Path:
    """Store ``src``'s picture turned, tagged so that a correct player shows it upright.

    ``rotation_cw`` is what :attr:`VideoInfo.rotation` should then say: the clockwise
    turn a player applies. The picture is stored turned the other way (as a phone
    held sideways stores it), and the display matrix carries the correction.
    """
    turn_back = {90: "transpose=cclock", 180: "hflip,vflip", 270: "transpose=clock"}
    stored = out.with_name(f"{out.stem}.stored{out.suffix}")
    ffmpeg("-i", src, "-vf", turn_back[rotation_cw], "-c:v", "libx264", "-preset", "ultrafast",
           "-crf", "12", "-an", stored)  # fmt: skip
    # -display_rotation is counter-clockwise.
    ffmpeg("-display_rotation", str(-rotation_cw), "-i", stored, "-c", "copy", out)
    stored.unlink()
    return out


def with_tone(src: Path, out: Path, *, hz: float = 440.0, audio_codec: str = "aac") -> Path:
    """``src``'s video (copied) with a sine tone as long as the video."""
    ffmpeg(
        "-i", src, "-f", "lavfi", "-i", f"sine=frequency={hz}:sample_rate=44100",
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", audio_codec, "-shortest", out,
    )  # fmt: skip
    return out


def retimed_copy(
    src: Path, out: Path, *, pts_s: str, dts_s: str, duration_s: str | None = None
) -> Path:
    """Copy ``src``'s video packets with new timestamps, given as ffmpeg expressions in
    seconds of the packet number ``N`` (the ``setts`` bitstream filter). Packet
    durations stay the source's unless ``duration_s`` is given.

    Matroska stores what it is given, including duplicate or decreasing times.
    """
    setts = f"setts=pts='({pts_s})/TB':dts='({dts_s})/TB'"
    if duration_s is not None:
        setts += f":duration='({duration_s})/TB'"
    ffmpeg("-i", src, "-map", "0:v:0", "-c", "copy", "-bsf:v", setts, out)
    return out


def audio_only(out: Path, *, hz: float = 440.0, seconds: float = 1.0, codec: str = "aac") -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency={hz}:duration={seconds}", "-c:a", codec, out)
    return out


def audio_with_cover_art(out: Path, *, seconds: float = 1.0) -> Path:
    """An MP3 song with an album picture (``pose.jpg``), as music players write them."""
    ffmpeg(
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-i", PHOTO,
        "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "copy",
        "-disposition:v:0", "attached_pic", "-id3v2_version", "3", out,
    )  # fmt: skip
    return out


def set_avi_frame_count(path: Path, count: int) -> None:
    """Make an AVI's headers claim ``count`` frames (avih and the video strh)."""
    data = bytearray(path.read_bytes())
    avih = data.index(b"avih") + 8  # fields start after the chunk id and size
    struct.pack_into("<I", data, avih + 16, count)  # dwTotalFrames
    strh = data.index(b"strh") + 8
    assert data[strh : strh + 4] == b"vids", "the first stream is not the video"
    struct.pack_into("<I", data, strh + 32, count)  # dwLength, in dwScale/dwRate units
    path.write_bytes(bytes(data))


def top_level_boxes(path: Path) -> list[str]:
    """The ISO-BMFF boxes at the top of an MP4, in file order (``ftyp``, ``moov``, …)."""
    names = []
    with path.open("rb") as f:
        while header := f.read(8):
            size, name = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            elif size == 0:
                names.append(name.decode("latin-1"))
                break
            names.append(name.decode("latin-1"))
            f.seek(size - 8, os.SEEK_CUR)
    return names


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 images, in grey levels (0-255)."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


_IN_ACCESS, _IN_OPEN = 0x001, 0x020


@contextmanager
def watch_opens(path: Path) -> Iterator[list[str]]:
    """Record every open or read of ``path`` (by any code, C included) while inside.

    Uses Linux inotify: Python audit hooks would miss FFmpeg opening a file natively.
    The list is filled when the block exits.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1 failed")
    events: list[str] = []
    try:
        if libc.inotify_add_watch(fd, os.fsencode(path), _IN_ACCESS | _IN_OPEN) < 0:
            raise OSError(ctypes.get_errno(), f"cannot watch {path}")
        yield events
        try:
            buffer = os.read(fd, 65536)
        except BlockingIOError:
            buffer = b""
        offset = 0
        while offset < len(buffer):
            _wd, mask, _cookie, name_len = struct.unpack_from("iIII", buffer, offset)
            if mask & _IN_OPEN:
                events.append("open")
            if mask & _IN_ACCESS:
                events.append("read")
            offset += 16 + name_len
    finally:
        os.close(fd)
