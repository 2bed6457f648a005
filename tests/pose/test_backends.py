import sys

import numpy as np
import pytest

from dance_analysis.errors import Reason
from dance_analysis.pose import UnknownBackend, create_estimator, resolve_backend
from dance_analysis.pose.devices import KINDS, detect_device


def test_mock_is_deterministic_and_in_the_real_schema() -> None:
    image = np.zeros((1280, 720, 3), np.uint8)
    first, second = create_estimator("mock"), create_estimator("mock")
    a, b = first.estimate(image, 1234.0), second.estimate(image, 1234.0)
    assert a is not None and b is not None
    assert a.landmarks.shape == (33, 4) and a.world.shape == (33, 4)
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    assert ((a.landmarks[:, :2] > 0) & (a.landmarks[:, :2] < 1)).all()
    # It dances: a different moment is a different pose, and knees bend over a squat.
    later = first.estimate(image, 2234.0)
    assert later is not None and not np.allclose(a.landmarks, later.landmarks)
    assert first.info.backend == "mock"


def test_mock_figure_is_upright() -> None:
    pose = create_estimator("mock").estimate(np.zeros((480, 640, 3), np.uint8), 0.0)
    assert pose is not None
    nose_y, hip_y, ankle_y = pose.landmarks[[0, 23, 27], 1]
    assert nose_y < hip_y < ankle_y  # image y points down


def test_unknown_backend_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(UnknownBackend) as caught:
        create_estimator("openpose")
    assert caught.value.reason is Reason.UNKNOWN_BACKEND
    assert caught.value.message.endswith("Choose one of: auto, torch, litert, mediapipe, mock.")


def test_auto_is_resolved_in_one_place_by_device() -> None:
    # Our own graph everywhere: torch on an accelerator, LiteRT (the fastest measured) on
    # the CPU. An explicit name is kept whatever the device.
    assert resolve_backend("auto", "cuda") == "torch"
    assert resolve_backend("auto", "rocm") == "torch"
    assert resolve_backend("auto", "mps") == "torch"
    assert resolve_backend("auto", "cpu") == "litert"
    assert resolve_backend("auto") == "litert"
    assert resolve_backend("mediapipe", "cuda") == "mediapipe"
    assert resolve_backend("mock") == "mock"


def test_mock_gives_one_person_with_id_1_and_a_box_around_the_landmarks() -> None:
    image = np.zeros((1280, 720, 3), np.uint8)
    estimator = create_estimator("mock")
    (person,) = estimator.estimate_people(image, 500.0)
    pose = estimator.estimate(image, 500.0)
    assert person.id == 1 and pose is not None
    np.testing.assert_array_equal(person.pose.landmarks, pose.landmarks)
    x0, y0, x1, y1 = person.box
    assert (x0, y0) == tuple(pose.landmarks[:, :2].min(axis=0))
    assert (x1, y1) == tuple(pose.landmarks[:, :2].max(axis=0))


def test_mock_two_person_scene_keeps_its_ids() -> None:
    image = np.zeros((160, 90, 3), np.uint8)
    estimator = create_estimator("mock", mock_people=2)
    assert [p.id for p in estimator.estimate_people(image, 0.0)] == [1]
    later = estimator.estimate_people(image, 1000.0)
    assert [p.id for p in later] == [1, 2]
    small, main = (p.box for p in later)
    assert (small[3] - small[1]) < 0.6 * (main[3] - main[1])  # the back dancer is smaller
    assert abs(small[3] - main[3]) < 0.02  # on the same floor


def test_device_detection_asks_torch_and_tells_rocm_from_cuda(fresh: None) -> None:
    # ``fresh``: an analysis earlier in this process leaves its answer in the environment
    # (for the children it spawns), and this test is about asking torch itself.
    device = detect_device()
    assert device.kind in KINDS
    assert "torch" in sys.modules, "detection must really ask torch"
    import torch

    assert device.torch_version == torch.__version__
    if torch.cuda.is_available():
        assert device.kind == ("rocm" if torch.version.hip else "cuda")
    else:
        assert device.kind in ("mps", "cpu")


@pytest.mark.slow
def test_mediapipe_finds_the_person_in_the_still_photo() -> None:
    from PIL import Image

    from tests.conftest import shared_file

    image = np.asarray(Image.open(shared_file("pose.jpg")).convert("RGB"))
    estimator = create_estimator("mediapipe")
    try:
        pose = estimator.estimate(image, 0.0)
    finally:
        estimator.close()
    assert pose is not None
    assert estimator.info.device == "cpu" and estimator.info.model == "blazepose_ghum_full"
    nose_y, hip_y = pose.landmarks[0, 1], pose.landmarks[23, 1]
    assert nose_y < hip_y
    assert np.isfinite(pose.world).all()
