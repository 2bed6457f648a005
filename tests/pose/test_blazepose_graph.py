"""Our own BlazePose graph: its parts, its parity with MediaPipe's solution on real
footage, and the tracking of two people at once."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest

from dance_analysis.pose import create_estimator
from dance_analysis.pose.base import PersonPose
from dance_analysis.pose.blazepose import detection as det
from dance_analysis.pose.blazepose import landmarks as lm
from dance_analysis.pose.blazepose.estimator import BlazePoseGraph
from dance_analysis.pose.blazepose.litert_net import LitertNetworks
from dance_analysis.pose.blazepose.networks import PoseNetworks
from dance_analysis.pose.blazepose.roi import Rect, crop, crop_matrix, roi_from_points
from dance_analysis.pose.blazepose.smoothing import LANDMARKS, OneEuro, OneEuroParams, PoseSmoother
from dance_analysis.pose.blazepose.tracker import MultiPoseTracker, run_lockstep, run_step
from tests.conftest import shared_file

Frames = list[npt.NDArray[np.uint8]]
FRAME_MS = 200.0  # the squats clip is 5 fps


@pytest.fixture(scope="module")
def squats() -> Frames:
    import cv2

    capture = cv2.VideoCapture(str(shared_file("pose_squats.mp4")))
    frames: Frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8))
    capture.release()
    assert len(frames) == 65 and frames[0].shape == (1280, 720, 3)
    return frames


@pytest.fixture(scope="module")
def networks() -> Iterator[LitertNetworks]:
    yield LitertNetworks(num_threads=1)


def pair(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The frame beside its own mirror image, moved 40 px down: two dancers."""
    twin = np.roll(frame[:, ::-1], 40, axis=0)
    return np.ascontiguousarray(np.concatenate([frame, twin], axis=1))


# --- parts ---------------------------------------------------------------------------


def test_anchors_cover_the_three_grids_in_order() -> None:
    anchors = det.anchors()
    assert anchors.shape == (2254, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(anchors[1], anchors[0])  # two per stride-8 cell
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14], rtol=1e-6)
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7], rtol=1e-6)
    np.testing.assert_allclose(anchors[-6], anchors[-1])  # six per stride-32 cell


def test_nms_keeps_two_people_and_merges_overlapping_boxes() -> None:
    keypoints = np.zeros(8, np.float32)
    coords = np.array(
        [
            [0.10, 0.10, 0.30, 0.30, *keypoints],
            [0.12, 0.10, 0.32, 0.30, *keypoints],  # the same person, weaker
            [0.60, 0.60, 0.80, 0.80, *keypoints],  # someone else
        ],
        np.float32,
    )
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    kept = det.weighted_nms(scores, coords)
    assert [round(score, 3) for score, _ in kept] == [0.9, 0.8]
    np.testing.assert_allclose(kept[0][1][0], (0.10 * 0.9 + 0.12 * 0.6) / 1.5, rtol=1e-5)
    np.testing.assert_allclose(kept[0][1][2], (0.30 * 0.9 + 0.32 * 0.6) / 1.5, rtol=1e-5)
    np.testing.assert_allclose(kept[1][1][:4], coords[2, :4])


def test_region_turns_with_the_body_and_is_square_in_pixels() -> None:
    width, height, reach = 1000, 600, 100.0
    centre = np.array([0.5, 0.5])
    for lean in (0.0, 30.0, -45.0, 120.0):
        a = math.radians(lean)  # clockwise on screen from straight up
        scale = centre + np.array([math.sin(a) * reach / width, -math.cos(a) * reach / height])
        rect = roi_from_points(centre, scale, width, height)
        assert rect.rotation == pytest.approx(a, abs=1e-9)
        assert rect.w * width == pytest.approx(2 * reach * 1.25)
        assert rect.h * height == pytest.approx(2 * reach * 1.25)


def test_a_point_goes_into_the_crop_and_back() -> None:
    image = np.zeros((720, 1280, 3), np.uint8)
    spot = (700, 300)  # x, y in pixels
    image[spot[1] - 1 : spot[1] + 2, spot[0] - 1 : spot[0] + 2] = 255
    rect = Rect(x=0.55, y=0.45, w=400 / 1280, h=400 / 720, rotation=0.6, width=1280, height=720)
    tensor = crop(image, rect)
    assert tensor.shape == (256, 256, 3) and tensor.dtype == np.float32
    expected = crop_matrix(rect) @ np.array([spot[0] + 0.5, spot[1] + 0.5, 1.0])
    row, col = np.unravel_index(tensor[..., 0].argmax(), tensor.shape[:2])
    assert abs(col + 0.5 - expected[0]) < 1.5 and abs(row + 0.5 - expected[1]) < 1.5
    # And back: the crop's coordinates project onto the spot in the frame.
    in_crop = np.array([[expected[0] / 256, expected[1] / 256, 0.0, 1.0, 1.0]])
    back = lm.project(in_crop, rect)[0, :2] * (1280, 720)
    np.testing.assert_allclose(back, [spot[0] + 0.5, spot[1] + 0.5], atol=1e-6)


# --- one dancer: the same as MediaPipe's solution -------------------------------------


@pytest.fixture(scope="module")
def torch_networks() -> PoseNetworks:
    """Our graph on torch on the CPU: the code a GPU runs (the same modules, the same
    batched calls), checked where no GPU is."""
    from dance_analysis.pose.blazepose.torch_net import TorchNetworks

    return TorchNetworks("cpu")


@pytest.mark.parametrize("runtime", ["litert", "torch"])
def test_one_dancer_matches_mediapipe_and_the_reference(
    squats: Frames, runtime: str, request: pytest.FixtureRequest
) -> None:
    from dance_analysis.pose.mediapipe_backend import MediaPipePose

    networks = request.getfixturevalue("networks" if runtime == "litert" else "torch_networks")
    assert networks.backend == runtime
    theirs, ours = MediaPipePose(), BlazePoseGraph(networks)
    a, b = [], []
    try:
        for i, frame in enumerate(squats):
            x, y = theirs.estimate(frame, i * FRAME_MS), ours.estimate(frame, i * FRAME_MS)
            assert x is not None and y is not None
            a.append(x)
            b.append(y)
    finally:
        theirs.close()
        ours.close()
    size = np.array([720.0, 1280.0])
    image_a = np.array([p.landmarks[:, :2] for p in a]) * size
    image_b = np.array([p.landmarks[:, :2] for p in b]) * size
    pixels = np.linalg.norm(image_a - image_b, axis=-1)
    # Measured: mean 0.68 px, p95 1.96 px; the first frames agree to 0.002 px, then tiny
    # numeric differences grow through the region feedback loop.
    assert pixels.mean() <= 2.0, (pixels.mean(), np.percentile(pixels, 95))
    assert pixels[:5].mean() <= 0.2  # the same graph, not merely a close one
    world = np.linalg.norm(
        np.array([p.world[:, :3] for p in a]) - np.array([p.world[:, :3] for p in b]), axis=-1
    )
    assert world.mean() <= 0.02  # metres; measured 0.35 cm
    np.testing.assert_allclose(
        np.array([p.landmarks[:, 3] for p in b]),
        np.array([p.landmarks[:, 3] for p in a]),
        atol=0.05,
    )
    reference = np.array(json.loads(shared_file("pose_squats.full.json").read_text()))[..., :2]
    error = np.linalg.norm(image_b - reference, axis=-1)
    assert error.mean() <= 6.0  # measured 3.9 px (MediaPipe's solution: 4.0 px)


@pytest.mark.parametrize("backend", ["litert", "torch"])
def test_our_backends_are_registered(squats: Frames, backend: str) -> None:
    estimator = create_estimator(backend)
    try:
        pose = estimator.estimate(squats[0], 0.0)
    finally:
        estimator.close()
    assert pose is not None and pose.landmarks.shape == (33, 4) and pose.world.shape == (33, 4)
    assert (estimator.info.backend, estimator.info.device) == (backend, "cpu")
    assert estimator.info.model == "blazepose_ghum_full"


# --- two dancers ----------------------------------------------------------------------


def sides(people: list[PersonPose]) -> dict[int, str]:
    """Which half of the double-width frame each person's visible joints are in."""
    out = {}
    for person in people:
        seen = person.pose.landmarks[person.pose.landmarks[:, 3] > 0.5, 0]
        assert len(seen) > 10
        if (seen < 0.5).all():
            out[person.id] = "left"
        elif (seen > 0.5).all():
            out[person.id] = "right"
        else:
            out[person.id] = "across"
    return out


def test_two_dancers_keep_their_ids_and_their_sides(
    squats: Frames, networks: LitertNetworks
) -> None:
    graph = BlazePoseGraph(networks)
    first = sides(graph.estimate_people(pair(squats[0]), 0.0))
    assert sorted(first) == [1, 2] and sorted(first.values()) == ["left", "right"]
    for i, frame in enumerate(squats[1:], start=1):
        assert sides(graph.estimate_people(pair(frame), i * FRAME_MS)) == first, i


def test_a_dancer_hidden_for_a_moment_comes_back_with_their_id(
    squats: Frames, networks: LitertNetworks
) -> None:
    hidden = range(10, 13)
    graph = BlazePoseGraph(networks)
    seen: list[dict[int, str]] = []
    for i, frame in enumerate(squats[:24]):
        both = pair(frame)
        if i in hidden:
            both[:, 720:] = 0  # the right-hand dancer leaves the picture
        seen.append(sides(graph.estimate_people(both, i * FRAME_MS)))
    right = next(pid for pid, side in seen[0].items() if side == "right")
    left = next(pid for pid, side in seen[0].items() if side == "left")
    assert all(s == {left: "left"} for s in seen[11:13])  # gone while hidden
    assert all(s == seen[0] for s in seen[14:]), seen  # back, the same id, no newcomer
    assert right not in seen[12]


def test_lockstep_batches_several_trackers_without_changing_them(
    squats: Frames, networks: LitertNetworks
) -> None:
    clips = [squats[:8], [pair(f) for f in squats[:8]]]
    alone = [MultiPoseTracker() for _ in clips]
    together = [MultiPoseTracker() for _ in clips]
    for i in range(8):
        t = i * FRAME_MS
        expected = [run_step(alone[k], networks, clips[k][i], t) for k in range(2)]
        got = run_lockstep(together, [clips[0][i], clips[1][i]], [t, t], networks)
        assert [len(p) for p in got] == [1, 2]
        for want, have in zip(expected, got, strict=True):
            assert [p.id for p in want] == [p.id for p in have]
            for x, y in zip(want, have, strict=True):
                np.testing.assert_allclose(x.pose.landmarks, y.pose.landmarks, atol=1e-5)


def test_a_newcomer_is_found_by_the_periodic_detection(
    squats: Frames, networks: LitertNetworks
) -> None:
    tracker = MultiPoseTracker(detect_every=4)
    ids = []
    for i, frame in enumerate(squats[:12]):
        both = pair(frame)
        if i < 5:
            both[:, 720:] = 0  # the second dancer walks in at frame 5
        ids.append([p.id for p in run_step(tracker, networks, both, i * FRAME_MS)])
    assert ids[:5] == [[1]] * 5
    # The detector runs every 4 frames (frames 0, 4, 8): the newcomer appears at 8.
    assert ids[5:8] == [[1]] * 3 and ids[8:] == [[1, 2]] * 4


def test_two_tracks_on_one_person_merge_into_the_older(
    squats: Frames, networks: LitertNetworks
) -> None:
    tracker = MultiPoseTracker()
    (first,) = run_step(tracker, networks, squats[0], 0.0)
    # A second track that has drifted onto the same dancer (as when two people's
    # regions converge): the tracker's own state, doubled by hand.
    (live,) = tracker._live
    twin = replace(
        live, id=7, rect=replace(live.rect, x=live.rect.x + 0.01), smoother=PoseSmoother()
    )
    tracker._live.append(twin)
    people = run_step(tracker, networks, squats[1], FRAME_MS)
    assert [p.id for p in people] == [first.id]
    assert [t.id for t in tracker._live] == [first.id]


def test_one_euro_follows_speed_as_mediapipe_tunes_it() -> None:
    # At 30 Hz a still landmark moves 1 % of the way (min cut-off 0.05 Hz) ...
    still = OneEuro(OneEuroParams(min_cutoff=0.05, beta=0.0))
    assert still.apply(33_333, np.array([0.0]))[0] == 0.0  # the first value passes
    alpha = 1.0 / (1.0 + 30.0 / (2 * math.pi * 0.05))
    assert still.apply(66_667, np.array([1.0]))[0] == pytest.approx(alpha, rel=1e-3)
    # ... a fast one (a person's size per frame) much more: the cut-off rises with speed.
    moving = OneEuro(LANDMARKS)
    moving.apply(33_333, np.array([0.0]), object_scale=100.0)
    speed = 0.1732 * (100.0 / 100.0 * 30.0)  # derivative low-passed at 1 Hz
    cutoff = 0.05 + 80.0 * speed
    expected = 100.0 / (1.0 + 30.0 / (2 * math.pi * cutoff))
    assert moving.apply(66_667, np.array([100.0]), object_scale=100.0)[0] == pytest.approx(
        expected, rel=1e-3
    )


def test_a_lost_person_starts_their_smoothing_afresh() -> None:
    smoother = PoseSmoother()
    landmarks = np.zeros((33, 4))
    aux = np.zeros((2, 3))
    world = np.zeros((33, 3))
    smoother.apply(33_333, landmarks, aux, world, 100.0, 720, 1280)
    moved = landmarks + np.array([0.1, 0.1, 0.0, 1.0])
    smoothed, _, _ = smoother.apply(66_667, moved, aux, world, 100.0, 720, 1280)
    assert (smoothed[:, 0] < 0.1).all() and smoothed[0, 3] == pytest.approx(0.1)
    smoother.reset()
    fresh, _, _ = smoother.apply(100_000, moved, aux, world, 100.0, 720, 1280)
    np.testing.assert_allclose(fresh, moved)


def test_heatmap_refines_points_inside_the_crop_only() -> None:
    heatmap = np.full((64, 64, 39), -30.0, np.float32)
    heatmap[10, 20, :] = 10.0  # every landmark's heatmap peaks at row 10, column 20
    points = np.zeros((39, 5))
    points[:, :2] = (19.0 / 64, 12.0 / 64)  # within the 9x9 window of the peak
    points[1, :2] = (20.0 / 64, -0.5 / 64)  # just above the crop: left alone
    points[2, :2] = (40.0 / 64, 40.0 / 64)  # far from the peak: nothing sure to go by
    refined = lm.refine(points, heatmap)
    np.testing.assert_allclose(refined[0, :2], [20.0 / 64, 10.0 / 64], atol=1e-6)
    np.testing.assert_allclose(refined[1:3, :2], points[1:3, :2])
