"""Our torch build of MediaPipe's two BlazePose networks against Google's own runtime.

LiteRT runs the very ``.tflite`` files the torch modules are built from, so it is an
independent reference: any mistake in parsing (the detector's sparse weights), padding,
channel order or resizing shows up as a difference far above float rounding. Inputs are
real frames of the squats clip, prepared as the graph prepares them.

Tolerances are five to ten times the largest difference measured on all 65 frames
(torch 2.13 CPU fp32 against ai-edge-litert 2.0.3 XNNPACK, 1 thread): landmarks x, y
4e-4 px (of 256), z 1.3e-3, visibility/presence logits 1.1e-4, flag 1.2e-7, heatmap
3.5e-4, world 2.9e-5 m; detector boxes 1.6e-3 px (of 224), score logits 9.2e-4.
A batch of 8 differs from single calls by at most 7.6e-5.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from dance_analysis.errors import MediaError, Reason
from dance_analysis.pose.blazepose.litert_net import LitertNetworks
from dance_analysis.pose.blazepose.networks import (
    DETECTOR_SIZE,
    LANDMARK_SIZE,
    FloatArray,
    LandmarkOutputs,
    PoseNetworks,
    model_files,
)
from dance_analysis.pose.blazepose.tflite_model import read_model
from dance_analysis.pose.blazepose.torch_net import TorchNetworks
from dance_analysis.video import probe, read_frames

FRAMES = (0, 13, 26, 39, 52, 64)  # standing, squatting and between


@pytest.fixture(scope="module")
def torch_nets() -> TorchNetworks:
    return TorchNetworks("cpu")


@pytest.fixture(scope="module")
def litert_nets() -> LitertNetworks:
    return LitertNetworks(num_threads=1)


@pytest.fixture(scope="module")
def frames(squats_clip: Path) -> list[np.ndarray]:
    wanted = set(FRAMES)
    return [f.image for f in read_frames(probe(squats_clip)) if f.index in wanted]


@pytest.fixture(scope="module")
def crops(frames: list[np.ndarray], squats_reference: Path) -> FloatArray:
    """256x256 squares around the dancer (the reference joints, 25 % margin), in [0, 1]."""
    joints = json.loads(squats_reference.read_text())
    out = []
    for index, image in zip(FRAMES, frames, strict=True):
        xy = np.asarray(joints[index], dtype=np.float64)[:, :2]
        centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
        side = 1.25 * float(np.max(xy.max(axis=0) - xy.min(axis=0)))
        scale = LANDMARK_SIZE / side
        shift = LANDMARK_SIZE / 2 - scale * centre
        matrix = np.array([[scale, 0, shift[0]], [0, scale, shift[1]]])
        crop = cv2.warpAffine(image, matrix, (LANDMARK_SIZE, LANDMARK_SIZE))
        out.append(crop.astype(np.float32) / 255.0)
    return np.stack(out)


@pytest.fixture(scope="module")
def letterboxed(frames: list[np.ndarray]) -> FloatArray:
    """Whole frames letterboxed to 224x224, in [-1, 1] (the detector's input)."""
    out = []
    for image in frames:
        height, width, _ = image.shape
        side = max(height, width)
        square = np.zeros((side, side, 3), np.uint8)
        top, left = (side - height) // 2, (side - width) // 2
        square[top : top + height, left : left + width] = image
        small = cv2.resize(square, (DETECTOR_SIZE, DETECTOR_SIZE), interpolation=cv2.INTER_AREA)
        out.append(small.astype(np.float32) / 127.5 - 1.0)
    return np.stack(out)


def test_landmark_network_matches_litert(
    torch_nets: TorchNetworks, litert_nets: LitertNetworks, crops: FloatArray
) -> None:
    runtimes: tuple[PoseNetworks, PoseNetworks] = (torch_nets, litert_nets)  # mypy checks
    assert [(r.backend, r.device) for r in runtimes] == [("torch", "cpu"), ("litert", "cpu")]
    ours = torch_nets.landmarks(crops)
    reference = litert_nets.landmarks(crops)
    n = len(crops)
    assert ours.landmarks.shape == (n, 195) and ours.heatmap.shape == (n, 64, 64, 39)
    assert ours.flag.shape == (n, 1) and ours.world.shape == (n, 117)
    assert reference.flag.min() > 0.9  # the crops do hold a person: a meaningful check
    joints, expected = ours.landmarks.reshape(n, 39, 5), reference.landmarks.reshape(n, 39, 5)
    np.testing.assert_allclose(joints[..., :2], expected[..., :2], rtol=0, atol=5e-3)
    np.testing.assert_allclose(joints[..., 2], expected[..., 2], rtol=0, atol=1e-2)
    np.testing.assert_allclose(joints[..., 3:], expected[..., 3:], rtol=0, atol=1e-3)
    np.testing.assert_allclose(ours.flag, reference.flag, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.heatmap, reference.heatmap, rtol=0, atol=3e-3)
    np.testing.assert_allclose(ours.world, reference.world, rtol=0, atol=2e-4)


def test_detector_matches_litert(
    torch_nets: TorchNetworks, litert_nets: LitertNetworks, letterboxed: FloatArray
) -> None:
    ours = torch_nets.detect(letterboxed)
    reference = litert_nets.detect(letterboxed)
    n = len(letterboxed)
    assert ours.boxes.shape == (n, 2254, 12) and ours.scores.shape == (n, 2254, 1)
    assert (reference.scores.max(axis=1) > 0).all()  # a detection in every frame
    np.testing.assert_allclose(ours.boxes, reference.boxes, rtol=0, atol=1.5e-2)
    np.testing.assert_allclose(ours.scores, reference.scores, rtol=0, atol=6e-3)


def test_a_batch_equals_single_calls(
    torch_nets: TorchNetworks, litert_nets: LitertNetworks, crops: FloatArray
) -> None:
    for nets in (torch_nets, litert_nets):
        batch = nets.landmarks(crops)
        singles = [nets.landmarks(crops[i : i + 1]) for i in range(len(crops))]
        for field, batched in zip(LandmarkOutputs._fields, batch, strict=True):
            stacked = np.concatenate([getattr(single, field) for single in singles])
            # A batch sums in another order than one crop does (more so with another thread
            # count): float32 rounding, a few millionths of the field's scale. Landmarks are
            # crop pixels (up to ~260), so theirs is ~1e-3 px; the 0–1 fields keep 2e-4.
            scale = float(np.nanmax(np.abs(stacked)))
            atol = max(2e-4, 4e-6 * scale)
            np.testing.assert_allclose(batched, stacked, rtol=0, atol=atol, err_msg=field)


def test_detector_batch_equals_single_calls(
    torch_nets: TorchNetworks, letterboxed: FloatArray
) -> None:
    batch = torch_nets.detect(letterboxed)
    singles = [torch_nets.detect(letterboxed[i : i + 1]) for i in range(len(letterboxed))]
    np.testing.assert_allclose(
        batch.boxes, np.concatenate([s.boxes for s in singles]), rtol=0, atol=1e-3
    )
    np.testing.assert_allclose(
        batch.scores, np.concatenate([s.scores for s in singles]), rtol=0, atol=1e-3
    )


def test_every_densify_is_folded_into_dense_weights() -> None:
    description = read_model(model_files().detector)
    assert description.folded == {"DENSIFY": 38, "DEQUANTIZE": 144}
    kinds = {op.kind for op in description.operators}
    assert not kinds & {"DENSIFY", "DEQUANTIZE"}
    convolutions = [op for op in description.operators if op.kind.endswith("CONV_2D")]
    weights = [description.tensors[op.inputs[1]] for op in convolutions]
    for weight in weights:
        assert weight.data is not None and weight.data.dtype == np.float32
        assert weight.data.shape == weight.shape
    # Every sparse kernel comes back whole, with zeros where the CSR indices left gaps.
    sparse = [weight for weight in weights if weight.sparse]
    assert len(sparse) == 38
    for weight in sparse:
        assert weight.data is not None
        assert 0 < np.count_nonzero(weight.data) < weight.data.size


@pytest.fixture
def broken_models(tmp_path: Path) -> Iterator[list[Path]]:
    real = model_files().detector.read_bytes()
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(real[: len(real) // 3])
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    yield [truncated, garbage, empty, tmp_path / "missing.tflite"]


def test_an_unreadable_model_fails_clearly(broken_models: list[Path]) -> None:
    for path in broken_models:
        with pytest.raises(MediaError) as caught:
            read_model(path)
        assert caught.value.reason is Reason.MODEL_UNAVAILABLE
        assert path.name in caught.value.message


def test_an_operator_we_do_not_run_is_named(tmp_path: Path) -> None:
    path = tmp_path / "softmax.tflite"
    path.write_bytes(_one_operator_model(builtin_code=25))  # SOFTMAX
    with pytest.raises(MediaError) as caught:
        read_model(path)
    assert caught.value.reason is Reason.MODEL_UNAVAILABLE
    assert "SOFTMAX" in caught.value.message


def _one_operator_model(builtin_code: int) -> bytes:
    """A valid .tflite: one float tensor in, one operator, one tensor out."""
    import flatbuffers
    import tflite

    builder = flatbuffers.Builder(1024)
    names = [builder.CreateString(n) for n in ("x", "y")]
    tensors = []
    for name in names:
        tflite.TensorStartShapeVector(builder, 2)
        for dim in (4, 1):
            builder.PrependInt32(dim)
        shape = builder.EndVector()
        tflite.TensorStart(builder)
        tflite.TensorAddShape(builder, shape)
        tflite.TensorAddName(builder, name)
        tflite.TensorAddBuffer(builder, 0)
        tensors.append(tflite.TensorEnd(builder))

    def int_vector(values: list[int]) -> int:
        builder.StartVector(4, len(values), 4)
        for value in reversed(values):
            builder.PrependInt32(value)
        return builder.EndVector()

    def table_vector(items: list[int]) -> int:
        builder.StartVector(4, len(items), 4)
        for item in reversed(items):
            builder.PrependUOffsetTRelative(item)
        return builder.EndVector()

    op_inputs, op_outputs = int_vector([0]), int_vector([1])
    tflite.OperatorStart(builder)
    tflite.OperatorAddOpcodeIndex(builder, 0)
    tflite.OperatorAddInputs(builder, op_inputs)
    tflite.OperatorAddOutputs(builder, op_outputs)
    operator = tflite.OperatorEnd(builder)
    tensor_vector, operator_vector = table_vector(tensors), table_vector([operator])
    graph_inputs, graph_outputs = int_vector([0]), int_vector([1])
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensor_vector)
    tflite.SubGraphAddOperators(builder, operator_vector)
    tflite.SubGraphAddInputs(builder, graph_inputs)
    tflite.SubGraphAddOutputs(builder, graph_outputs)
    graph = tflite.SubGraphEnd(builder)
    tflite.OperatorCodeStart(builder)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, builtin_code)
    tflite.OperatorCodeAddBuiltinCode(builder, builtin_code)
    code = tflite.OperatorCodeEnd(builder)
    tflite.BufferStart(builder)
    empty_buffer = tflite.BufferEnd(builder)
    codes, graphs, buffers = (
        table_vector([code]),
        table_vector([graph]),
        table_vector([empty_buffer]),
    )
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, 3)
    tflite.ModelAddOperatorCodes(builder, codes)
    tflite.ModelAddSubgraphs(builder, graphs)
    tflite.ModelAddBuffers(builder, buffers)
    builder.Finish(tflite.ModelEnd(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_float16_is_refused_on_the_cpu() -> None:
    with pytest.raises(ValueError, match="float16"):
        TorchNetworks("cpu", half=True)


def test_the_segmentation_head_is_not_built(torch_nets: TorchNetworks) -> None:
    from torch import nn

    description = read_model(model_files().landmark)
    mask = description.tensor("Identity_2").index
    only_mask = set(description.operators_for([mask])) - set(
        description.operators_for([i for i in description.outputs if i != mask])
    )
    assert len(only_mask) >= 10  # the 256x256 decoder: convolutions, resizes, adds
    convolutions = [op for op in description.operators if op.kind.endswith("CONV_2D")]
    built = [m for m in torch_nets.landmark.modules() if isinstance(m, nn.Conv2d)]
    assert len(built) == len(convolutions) - sum(op.kind.endswith("CONV_2D") for op in only_mask)
