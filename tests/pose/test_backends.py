import sys

import numpy as np
import pytest

from dance_analysis.pose import create_estimator
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


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown pose backend"):
        create_estimator("openpose")


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
