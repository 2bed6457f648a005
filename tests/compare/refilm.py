"""A real clip "filmed again": another camera's video of the same dance, made at test
time from the shared squats clip, for comparing a student with a teacher on *pictures*
that the real pose model has to read again (not landmarks moved in numpy).

What changes, each on its own or together (:class:`Refilm`):

- **the camera's distance**: the dancer at ``scale`` of their size (against the
  picture's height), the rest of the picture padded with the wall's colour;
- **its place**: the dancer moved sideways and up or down (``shift``, a fraction of
  the new picture);
- **its roll**: the picture turned by ``tilt_deg`` (a phone held askew);
- **a mirrored student**: the picture flipped left to right;
- **the picture's shape**: any ``size`` (e.g. landscape 1280x720 around a portrait
  dancer);
- **the clock**: frames shown at ``fps`` and played at ``speed`` (a student dancing
  1.2x faster, filmed at 6 fps, sees every source frame once); a frame rate lower than
  the source's at the same speed drops frames. No frame is ever shown twice;
- **a later start**: ``lead_s`` of empty, dimly noisy picture before the dance (no
  two alike), rounded to whole frames.

:func:`refilm` returns the truth the comparison should find with the clip:
``tempo_ratio`` (the student's tempo over the teacher's) and ``time_offset_ms`` (the
student's clock at the teacher's time 0), in the sense of ``comparison`` in
result.json.

    from tests.compare.refilm import Refilm, refilm
    spec = Refilm(scale=0.7, shift=(0.2, 0.0), tilt_deg=5.0, mirrored=True)
    student = refilm(squats_clip, tmp_path / "student.mp4", spec)  # .path, .time_offset_ms
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Refilm:
    """How the new camera differs from the source's. The defaults change nothing."""

    scale: float = 1.0  # the dancer's height in the new picture / in the source picture
    shift: tuple[float, float] = (0.0, 0.0)  # the dancer's move, fractions of width, height
    tilt_deg: float = 0.0  # the picture turned anticlockwise (before any mirroring)
    mirrored: bool = False
    size: tuple[int, int] | None = None  # (width, height); None: the source's
    fps: float | None = None  # the new clip's frame rate; None: the source's
    speed: float = 1.0  # the dance played this much faster (the student's tempo ratio)
    lead_s: float = 0.0  # seconds of empty picture before the dance
    crf: int = 18
    seed: int = field(default=9, compare=False)


@dataclass(frozen=True)
class Refilmed:
    """The clip written, and what the comparison with its source should find."""

    path: Path
    tempo_ratio: float  # the student's tempo over the source's
    time_offset_ms: float  # the new clip's time of the source's first frame
    frame_ms: float  # one frame of the new clip
    frames: int


def source_frame_for(spec: Refilm, source_fps: float, source_frames: int) -> list[int]:
    """For each frame of the new clip (after the lead), the source frame it shows: the
    one nearest the source time the new clock reaches (``speed`` x its own time)."""
    fps = spec.fps or source_fps
    picks: list[int] = []
    j = 0
    while True:
        k = round(j / fps * spec.speed * source_fps)
        if k >= source_frames:
            break
        picks.append(k)
        j += 1
    if len(set(picks)) != len(picks):
        raise ValueError(f"{spec}: a source frame would be shown twice (fps too high)")
    return picks


def placement(spec: Refilm, source_size: tuple[int, int]) -> npt.NDArray[np.float64]:
    """(2, 3) the affine map from the source picture, already resized by
    :func:`zoom`, to the new picture's pixels: turned about its centre, moved."""
    width, height = spec.size or source_size
    turn = cv2.getRotationMatrix2D((0.0, 0.0), spec.tilt_deg, 1.0)
    centre_src = np.array(source_size, dtype=float) * zoom(spec, source_size) / 2
    centre_out = np.array([width * (0.5 + spec.shift[0]), height * (0.5 + spec.shift[1])])
    matrix = np.asarray(turn, dtype=float)
    matrix[:, 2] = centre_out - matrix[:, :2] @ centre_src
    return matrix


def zoom(spec: Refilm, source_size: tuple[int, int]) -> float:
    """The source picture's scale in the new one."""
    height = (spec.size or source_size)[1]
    return spec.scale * height / source_size[1]


def refilm(source: Path, out: Path, spec: Refilm) -> Refilmed:
    """Write ``out`` (H.264 yuv420p MP4, no sound): ``source`` as ``spec``'s camera saw it."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        source_fps = float(stream.average_rate or 0) or 30.0
        pictures = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    source_size = (pictures[0].shape[1], pictures[0].shape[0])
    width, height = spec.size or source_size
    fps = spec.fps or source_fps
    matrix = placement(spec, source_size)
    picks = source_frame_for(spec, source_fps, len(pictures))
    lead = round(spec.lead_s * fps)
    rng = np.random.default_rng(spec.seed)
    wall = _wall_colour(pictures[0])

    time_base = Fraction(1, 90_000)
    with av.open(str(out), "w") as container:
        video = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = time_base
        video.codec_context.time_base = time_base
        video.options = {"crf": str(spec.crf), "preset": "veryfast"}
        shown: list[Image] = []
        for _ in range(lead):
            shown.append(_empty(width, height, rng))
        for k in picks:
            shown.append(_placed(pictures[k], spec, matrix, (width, height), wall))
        for j, image in enumerate(shown):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = round(j / fps / time_base)
            frame.time_base = time_base
            container.mux(video.encode(frame))
        container.mux(video.encode())
    # The lead is a whole number of frames: the dance starts on the new clock's frame.
    return Refilmed(out, spec.speed, lead / fps * 1000.0, 1000.0 / fps, len(shown))


def _placed(
    picture: Image,
    spec: Refilm,
    matrix: npt.NDArray[np.float64],
    size: tuple[int, int],
    wall: tuple[int, int, int],
) -> Image:
    k = zoom(spec, (picture.shape[1], picture.shape[0]))
    if k != 1.0:  # resized first: area averaging, no aliasing on a far camera
        new = (round(picture.shape[1] * k), round(picture.shape[0] * k))
        smooth = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
        picture = np.asarray(cv2.resize(picture, new, interpolation=smooth), dtype=np.uint8)
    placed = cv2.warpAffine(
        picture, matrix, size, flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=wall,
    )  # fmt: skip
    if spec.mirrored:
        placed = placed[:, ::-1]
    return np.ascontiguousarray(placed, dtype=np.uint8)


def _empty(width: int, height: int, rng: np.random.Generator) -> Image:
    """A dark, noisy picture with nobody in it (a lens cap, a dark room)."""
    noise = rng.integers(10, 30, size=(height, width, 1), dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(noise, 3, axis=2))


def _wall_colour(picture: Image) -> tuple[int, int, int]:
    """The mean colour of the picture's top rows (the wall behind the dancer)."""
    top = picture[: max(1, picture.shape[0] // 20)].reshape(-1, 3).mean(axis=0)
    r, g, b = (math.floor(v) for v in top)
    return (r, g, b)


#: The student of the slow tests: one video that changes everything at once. A camera
#: further away (0.7x) in landscape, the dancer right of centre, rolled 6 degrees, the
#: picture mirrored, the dance 1.2x faster at 6 fps, starting 1.5 s in.
COMBINED = Refilm(
    scale=0.7, shift=(0.15, 0.03), tilt_deg=6.0, mirrored=True, size=(960, 720),
    fps=6.0, speed=1.2, lead_s=1.5,
)  # fmt: skip


def ghost_offsets(
    student: Mapping[str, Any], teacher: Mapping[str, Any], comparison: Mapping[str, Any]
) -> npt.NDArray[np.float64]:
    """(n, 33) how far the teacher's ghost (:func:`ghost_points`) lies from the student's
    own image landmarks, in the student's torso lengths (image mid-hip to mid-shoulder,
    that frame); NaN where either is missing."""
    from dance_analysis.compare import ghost_points

    ghost = ghost_points(student, teacher, comparison)
    video = student["video"]
    pixels = np.array([float(video["width"]), float(video["height"])])
    own = np.full_like(ghost, np.nan)
    for i, frame in enumerate(student["frames"]):
        if frame.get("person") and frame.get("landmarks"):
            own[i] = np.asarray(frame["landmarks"], dtype=float)[:, :2]
    own_px, ghost_px = own * pixels, ghost * pixels
    torso = np.linalg.norm(
        own_px[:, [11, 12]].mean(axis=1) - own_px[:, [23, 24]].mean(axis=1), axis=-1
    )
    distance: npt.NDArray[np.float64] = np.linalg.norm(ghost_px - own_px, axis=-1) / torso[:, None]
    return distance
