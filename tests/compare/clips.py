"""Pairs of performances with known answers, made at test time from the shared squats
clip's reference landmarks (BlazePose full: world landmarks in metres and image points
in pixels, 65 frames at 5 fps), or from the mock backend's synthetic dancer.

Every builder returns a ``result.json``-shaped dict, so that the comparison is always
fed through ``Performance.from_result`` as it will be in the product.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.compare.features import TREE, extended_points
from dance_analysis.compare.mirror import POINT_SWAP
from dance_analysis.digests import sha256_of_file
from dance_analysis.pose.mock import MockPose
from dance_analysis.skeleton import BLAZEPOSE_33
from tests.conftest import shared_file

FloatArray = npt.NDArray[np.float64]
J = {name: i for i, name in enumerate(BLAZEPOSE_33.joints)}
FRAME_MS = 200.0  # the squats clip is 5 fps
WIDTH, HEIGHT = 720, 1280


def result_from(
    t_ms: Sequence[float] | FloatArray,
    world: FloatArray,
    image: FloatArray | None = None,
    *,
    music: dict[str, Any] | None = None,
    name: str = "pose_squats.mp4",
    sha256: str = "0" * 64,
) -> dict[str, Any]:
    """A minimal result.json: frames with landmarks (x, y normalised), world landmarks."""
    n = len(world)
    if image is None:
        image = 0.5 + world[:, :, :2] * 0.3
    frames = []
    for i in range(n):
        frames.append(
            {
                "index": i,
                "t_ms": float(t_ms[i]),
                "person": True,
                "landmarks": [[*p, 0.0, 0.99] for p in image[i].tolist()],
                "world_landmarks": [[*p, 0.99] for p in world[i].tolist()],
                "clean_landmarks": None,
            }
        )
    return {
        "video": {"name": name, "sha256": sha256, "width": WIDTH, "height": HEIGHT},
        "options": {"visibility_min": 0.5},
        "music": music or {"present": False, "reason": "no_audio"},
        "frames": frames,
    }


def arrays(result: dict[str, Any]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(t_ms (n,), world (n, 33, 3), image (n, 33, 2)) of a result made by result_from."""
    frames = result["frames"]
    t = np.array([f["t_ms"] for f in frames], dtype=float)
    world = np.array([f["world_landmarks"] for f in frames], dtype=float)[:, :, :3]
    image = np.array([f["landmarks"] for f in frames], dtype=float)[:, :, :2]
    return t, world, image


def squats() -> dict[str, Any]:
    """The squats clip as an analysis would give it (reference landmarks)."""
    world = np.array(json.loads(shared_file("pose_squats_3d.full.json").read_text()))
    pixels = np.array(json.loads(shared_file("pose_squats.full.json").read_text()))[:, :, :2]
    t = np.arange(len(world)) * FRAME_MS
    return result_from(
        t,
        world,
        pixels / (WIDTH, HEIGHT),
        sha256=sha256_of_file(shared_file("pose_squats.mp4")),
    )


def mock_dancer(duration_ms: float, fps: float = 30.0) -> dict[str, Any]:
    """The mock backend's synthetic dancer (squat, arm swings, sway), as a result."""
    pose = MockPose()
    blank = np.zeros((1280, 720, 3), dtype=np.uint8)
    t = np.arange(0.0, duration_ms, 1000.0 / fps)
    world, image = [], []
    for ms in t:
        observation = pose.estimate(blank, float(ms))
        assert observation is not None
        world.append(observation.world[:, :3])
        image.append(observation.landmarks[:, :2])
    return result_from(t, np.array(world), np.array(image), name="mock.mp4")


def mirrored(result: dict[str, Any], frames: slice = slice(None)) -> dict[str, Any]:
    """The mirror image (as if the video were flipped): left and right swapped, world x
    negated, image x -> 1 - x; only ``frames`` when given."""
    t, world, image = arrays(result)
    world[frames] = world[frames][:, POINT_SWAP[:33]] * (-1.0, 1.0, 1.0)
    image[frames] = image[frames][:, POINT_SWAP[:33]]
    image[frames, :, 0] = 1.0 - image[frames, :, 0]
    return result_from(t, world, image, name="mirrored.mp4")


def delayed(result: dict[str, Any], delay_ms: float) -> dict[str, Any]:
    """The dancer starts ``delay_ms`` later: the clip opens with them standing in their
    first pose (frames at the clip's own frame period), then the same dance."""
    t, world, image = arrays(result)
    period = float(np.median(np.diff(t)))
    before = np.arange(0.0, delay_ms, period)
    return result_from(
        np.concatenate([before, t + delay_ms]),
        np.concatenate([np.repeat(world[:1], len(before), axis=0), world]),
        np.concatenate([np.repeat(image[:1], len(before), axis=0), image]),
        name="delayed.mp4",
    )


def retimed(result: dict[str, Any], speed: float) -> dict[str, Any]:
    """The same dance at ``speed`` times the tempo (0.8: slower), filmed at the same
    frame rate: each new frame shows the pose at ``speed * t``, linearly interpolated."""
    t = arrays(result)[0]
    period = float(np.median(np.diff(t)))
    new_t = np.arange(0.0, t[-1] / speed + 1e-6, period)
    return warped(result, new_t, new_t * speed)


def warped(result: dict[str, Any], new_t: FloatArray, source: FloatArray) -> dict[str, Any]:
    """Frames at ``new_t`` showing the poses at ``source`` times, linearly interpolated."""
    t, world, image = arrays(result)
    source = np.clip(source, t[0], t[-1])

    def warp(points: FloatArray) -> FloatArray:
        flat = points.reshape(len(points), -1)
        out = np.stack([np.interp(source, t, column) for column in flat.T], axis=1)
        return out.reshape((len(new_t), *points.shape[1:]))

    return result_from(new_t, warp(world), warp(image), name="retimed.mp4")


def with_points(
    result: dict[str, Any], world: FloatArray, image: FloatArray | None = None
) -> dict[str, Any]:
    t, _, old_image = arrays(result)
    return result_from(t, world, old_image if image is None else image, name="changed.mp4")


def rotate_about(
    points: FloatArray, pivot: FloatArray, axis: FloatArray, degrees: float
) -> FloatArray:
    """Rodrigues: rotate (n, k, 3) points about per-frame ``pivot`` (n, 3) and unit
    ``axis`` (n, 3) by ``degrees``."""
    theta = np.radians(degrees)
    v = points - pivot[:, None]
    k = axis[:, None]
    rotated = (
        v * np.cos(theta)
        + np.cross(k, v) * np.sin(theta)
        + k * np.sum(k * v, axis=-1, keepdims=True) * (1 - np.cos(theta))
    )
    out: FloatArray = rotated + pivot[:, None]
    return out


LEFT_ARM = [J[n] for n in ("left_elbow", "left_wrist", "left_pinky", "left_index", "left_thumb")]


def left_arm_raised(result: dict[str, Any], degrees: float) -> dict[str, Any]:
    """The left arm alone, as a rigid piece, raised by ``degrees`` about the left shoulder
    in the vertical plane through shoulder and wrist (y is down in world landmarks)."""
    _t, world, image = arrays(result)
    shoulder = world[:, J["left_shoulder"]]
    arm = world[:, J["left_wrist"]] - shoulder
    up = np.array([0.0, -1.0, 0.0])
    axis = np.cross(arm, up)
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    world = world.copy()
    world[:, LEFT_ARM] = rotate_about(world[:, LEFT_ARM], shoulder, axis, degrees)
    return with_points(result, world, image)


def reproportioned(result: dict[str, Any], factors: dict[str, float]) -> dict[str, Any]:
    """Another body doing the same dance: each bone of the skeleton tree lengthened by
    the factor of the first name fragment it matches (e.g. ``{"elbow": 1.2}`` makes
    upper arms 20 % longer), the rest scaled by ``factors.get("", 1)``."""
    _t, world, image = arrays(result)
    points = extended_points(world)
    out = np.zeros_like(points)
    out[:, 33] = points[:, 33]
    names = [*BLAZEPOSE_33.joints, "mid_hip", "mid_shoulder", "mid_ear"]
    for parent, child in TREE:
        factor = next(
            (f for key, f in factors.items() if key and key in names[child]), factors.get("", 1.0)
        )
        out[:, child] = out[:, parent] + (points[:, child] - points[:, parent]) * factor
    return with_points(result, out[:, :33], image)


def turned(
    result: dict[str, Any], degrees: float, shift_m: Sequence[float] = (0, 0, 0)
) -> dict[str, Any]:
    """The dancer filmed from another side: world landmarks turned about the vertical
    and moved; the image points shrunk and moved (a camera further away, to one side)."""
    _t, world, image = arrays(result)
    theta = np.radians(degrees)
    c, s = np.cos(theta), np.sin(theta)
    rotation = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    world = world @ rotation.T + np.asarray(shift_m, dtype=float)
    image = image * 0.6 + (0.3, 0.1)
    return with_points(result, world, image)


def tilted(result: dict[str, Any], axis: str, degrees: float) -> dict[str, Any]:
    """The phone pitched (about the camera's x axis) or rolled (about its z axis):
    world landmarks are in the camera's axes, so the whole body tilts."""
    _t, world, image = arrays(result)
    theta = np.radians(degrees)
    c, s = np.cos(theta), np.sin(theta)
    if axis == "pitch":
        rotation = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    else:
        rotation = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    return with_points(result, world @ rotation.T, image)


def with_music(
    result: dict[str, Any], beat_ms: float, first_beat_ms: float, first_one: int = 0
) -> dict[str, Any]:
    """The result with a steady beat every ``beat_ms`` from ``first_beat_ms`` over the
    whole clip; counts from the beat at index ``first_one`` (the earlier ones, a
    pick-up, have none), as dance_analysis.music gives them."""
    t = [f["t_ms"] for f in result["frames"]]
    beats = np.arange(first_beat_ms, t[-1] + 1e-6, beat_ms)
    counts = [
        {"t_ms": float(b), "count": (i - first_one) % 8 + 1, "phrase": (i - first_one) // 8}
        for i, b in enumerate(beats)
        if i >= first_one
    ]
    out = dict(result)
    out["music"] = {
        "present": True,
        "tempo_bpm": 60000.0 / beat_ms,
        "beats_per_bar": 4,
        "beats_ms": beats.tolist(),
        "downbeats_ms": beats[first_one::4].tolist(),
        "counts": counts,
    }
    return out
