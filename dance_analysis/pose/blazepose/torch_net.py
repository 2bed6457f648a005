"""The two BlazePose networks as torch modules, built at load time from the wheel's files.

Each network is a ``torch.fx.GraphModule`` generated from the parsed ``.tflite``: one
straight-line ``forward`` with no per-operator dispatch in Python, so a single frame on
the CPU costs little more than its convolutions. Inside, images are NCHW (channels_last
on CUDA, which the NHWC input already is after a permute); TFLite's conventions are
reproduced exactly: SAME padding that puts the odd pixel after, DEPTH_TO_SPACE's channel
order, half-pixel bilinear resizing. Heads no output needs (the landmark network's
segmentation mask) are never built.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dance_analysis.pose.blazepose.networks import (
    DETECTOR_SIZE,
    LANDMARK_SIZE,
    Detections,
    FloatArray,
    LandmarkOutputs,
    ModelFiles,
    model_files,
)
from dance_analysis.pose.blazepose.tflite_model import (
    Activation,
    Conv2D,
    DepthToSpace,
    DepthwiseConv2D,
    Elementwise,
    ModelDescription,
    Operator,
    Padding,
    Pool2D,
    ResizeBilinear,
    read_model,
)

if TYPE_CHECKING:
    import torch
    from torch import fx, nn

DETECTOR_OUTPUTS = ("Identity", "Identity_1")  # boxes, scores
LANDMARK_OUTPUTS = ("Identity", "Identity_1", "Identity_3", "Identity_4")  # no mask (_2)
GPU_DEVICES = ("cuda", "rocm", "mps")


class TorchNetworks:
    """Both networks on one torch device; ``half`` runs them in float16 (GPUs only).

    The numpy methods implement :class:`PoseNetworks`; the ``*_tensor`` methods take and
    return tensors already on the device, for a caller that batches on the GPU.
    """

    backend = "torch"

    def __init__(
        self, device: str = "cpu", half: bool = False, files: ModelFiles | None = None
    ) -> None:
        import torch

        if device not in ("cpu", *GPU_DEVICES):
            raise ValueError(f"unknown torch device {device!r}")
        if half and device == "cpu":
            raise ValueError("float16 needs a GPU device; the CPU runs float32")
        self.device = device
        self.half = half
        # ROCm builds of torch call the GPU "cuda".
        self.torch_device = torch.device("cuda" if device == "rocm" else device)
        self.dtype = torch.float16 if half else torch.float32
        self._channels_last = self.torch_device.type == "cuda"
        if self._channels_last:
            torch.backends.cudnn.benchmark = True  # fixed input sizes: tune once
        files = files or model_files()
        self.detector = self._prepare(build_module(read_model(files.detector), DETECTOR_OUTPUTS))
        self.landmark = self._prepare(build_module(read_model(files.landmark), LANDMARK_OUTPUTS))

    def _prepare(self, module: nn.Module) -> nn.Module:
        import torch

        module = module.to(self.torch_device, self.dtype).eval()
        if self._channels_last:
            # Module.to takes memory_format (documented) though its stubs do not say so.
            module = module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        return module

    def detect(self, images: FloatArray) -> Detections:
        _check(images, DETECTOR_SIZE)
        boxes, scores = self.detect_tensor(self._from_numpy(images))
        return Detections(_to_numpy(boxes), _to_numpy(scores))

    def landmarks(self, crops: FloatArray) -> LandmarkOutputs:
        _check(crops, LANDMARK_SIZE)
        outputs = self.landmarks_tensor(self._from_numpy(crops))
        return LandmarkOutputs(*(_to_numpy(t) for t in outputs))

    def detect_tensor(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 224, 224, 3) on the device → boxes (N, 2254, 12), scores (N, 2254, 1).

        Outputs are float32 whatever the network runs in: decoding wants the precision.
        """
        import torch

        with torch.inference_mode():
            boxes, scores = self.detector(images.to(self.dtype))
        return boxes.float(), scores.float()

    def landmarks_tensor(
        self, crops: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(N, 256, 256, 3) on the device → landmarks, flag, heatmap (NHWC), world; float32."""
        import torch

        with torch.inference_mode():
            landmarks, flag, heatmap, world = self.landmark(crops.to(self.dtype))
        return landmarks.float(), flag.float(), heatmap.float(), world.float()

    def _from_numpy(self, images: FloatArray) -> torch.Tensor:
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        return tensor.to(self.torch_device, non_blocking=False)


def _check(images: FloatArray, size: int) -> None:
    if images.ndim != 4 or images.shape[1:] != (size, size, 3):
        raise ValueError(f"expected (N, {size}, {size}, 3) images, got {images.shape}")


def _to_numpy(tensor: torch.Tensor) -> FloatArray:
    array: FloatArray = tensor.cpu().numpy()
    return np.ascontiguousarray(array)


def build_module(description: ModelDescription, output_names: Sequence[str]) -> fx.GraphModule:
    """The network computing ``output_names``: NHWC float input, outputs shaped as TFLite's
    (rank-4 ones NHWC), batch size free."""
    return _Builder(description, output_names).build()


class _Builder:
    """Emits one fx node (or a few) per TFLite operator, keeping rank-4 tensors NCHW."""

    def __init__(self, description: ModelDescription, output_names: Sequence[str]) -> None:
        from torch import fx, nn

        self.model = description
        self.outputs = [description.tensor(name).index for name in output_names]
        self.operators = description.operators_for(self.outputs)
        self.graph = fx.Graph()
        self.root = nn.Module()
        self.values: dict[int, fx.Node] = {}
        # Spatial padding of a PAD whose only reader is a convolution: that convolution
        # pads instead, which saves a copy of the feature map.
        self.pending_pad: dict[int, tuple[int, int, int, int]] = {}
        self.readers = Counter(i for op in self.operators for i in op.inputs)
        self.readers.update(self.outputs)
        self._count = 0

    def build(self) -> fx.GraphModule:
        from torch import fx

        (input_index,) = self.model.inputs
        nhwc = self.graph.placeholder("images")
        self.values[input_index] = self._method("permute", nhwc, 0, 3, 1, 2)
        for op in self.operators:
            self.values[op.outputs[0]] = self._emit(op)
        results = []
        for index in self.outputs:
            node = self.values[index]
            if len(self.model.tensors[index].shape) == 4:
                node = self._method("permute", node, 0, 2, 3, 1)
            results.append(node)
        self.graph.output(tuple(results))
        module = fx.GraphModule(self.root, self.graph)
        module.requires_grad_(False)
        return module

    # Emitting -----------------------------------------------------------------------

    def _emit(self, op: Operator) -> fx.Node:
        kind, options = op.kind, op.options
        if kind == "CONV_2D" and isinstance(options, Conv2D):
            return self._conv(op, options, depthwise=None)
        if kind == "DEPTHWISE_CONV_2D" and isinstance(options, DepthwiseConv2D):
            return self._conv(op, options, depthwise=options.depth_multiplier)
        if kind == "PAD":
            return self._pad(op)
        if kind == "ADD" and isinstance(options, Elementwise):
            a, b = (self._value(i) for i in op.inputs)
            return self._activate(self._call(operator.add, a, b), options.activation)
        if kind == "CONCATENATION" and isinstance(options, Elementwise):
            import torch

            rank = len(self._shape(op.outputs[0]))
            axis = _torch_axis(options.axis % rank, rank)
            parts = [self._value(i) for i in op.inputs]
            return self._activate(self._call(torch.cat, parts, axis), options.activation)
        if kind == "RESHAPE":
            return self._reshape(op)
        if kind == "DEPTH_TO_SPACE" and isinstance(options, DepthToSpace):
            return self._call(depth_to_space, self._value(op.inputs[0]), options.block_size)
        if kind == "RESIZE_BILINEAR" and isinstance(options, ResizeBilinear):
            return self._resize(op, options)
        if kind == "MAX_POOL_2D" and isinstance(options, Pool2D):
            return self._max_pool(op, options)
        if kind == "LOGISTIC":
            import torch

            return self._call(torch.sigmoid, self._value(op.inputs[0]))
        raise self._unsupported(f"{kind} with options {options}")

    def _conv(
        self, op: Operator, options: Conv2D | DepthwiseConv2D, depthwise: int | None
    ) -> fx.Node:
        import torch
        from torch import nn

        source, weight_index = op.inputs[0], op.inputs[1]
        weight = self._constant(weight_index)
        in_shape = self._shape(source)
        # TFLite keeps kernels (out, kh, kw, in) and depthwise ones (1, kh, kw, in × mult).
        if depthwise is None:
            kernel = np.transpose(weight, (0, 3, 1, 2))
            groups = 1
        else:
            kernel = np.transpose(weight, (3, 0, 1, 2))
            groups = in_shape[3]
        out_channels, _, kh, kw = kernel.shape
        top, bottom, left, right = self._padding(
            options.padding, in_shape, (kh, kw), options.stride, options.dilation
        )
        extra = self.pending_pad.pop(source, (0, 0, 0, 0))
        top, bottom, left, right = (
            a + b for a, b in zip((top, bottom, left, right), extra, strict=True)
        )
        node = self._value(source)
        if top != bottom or left != right:
            node = self._pad_node(node, (left, right, top, bottom))
            top = left = 0
        conv = nn.Conv2d(
            kernel.shape[1] * groups,
            out_channels,
            (kh, kw),
            stride=options.stride,
            padding=(top, left),
            dilation=options.dilation,
            groups=groups,
            bias=len(op.inputs) > 2 and op.inputs[2] >= 0,
        )
        conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel))
        if conv.bias is not None:
            conv.bias.data = torch.from_numpy(self._constant(op.inputs[2]).copy())
        node = self._module(f"conv{self._next()}", conv, node)
        return self._activate(node, options.activation)

    def _pad(self, op: Operator) -> fx.Node:
        pads = self._constant(op.inputs[1]).astype(int).reshape(-1, 2)
        source = op.inputs[0]
        out = op.outputs[0]
        if len(pads) == 4:
            (n0, n1), (t, b), (le, r), (c0, c1) = pads.tolist()
            reader = self._only_reader(out)
            if n0 == n1 == c0 == c1 == 0 and reader in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                self.pending_pad[out] = (t, b, le, r)
                return self._value(source)
            return self._pad_node(self._value(source), (le, r, t, b, c0, c1, n0, n1))
        flat: list[int] = []
        for before, after in reversed(pads.tolist()):
            flat += [before, after]
        return self._pad_node(self._value(source), tuple(flat))

    def _reshape(self, op: Operator) -> fx.Node:
        node = self._value(op.inputs[0])
        if len(self._shape(op.inputs[0])) == 4:  # TFLite reshapes in NHWC order
            node = self._method("permute", node, 0, 2, 3, 1)
        out_shape = self._shape(op.outputs[0])
        node = self._method("reshape", node, -1, *out_shape[1:])
        if len(out_shape) == 4:
            node = self._method("permute", node, 0, 3, 1, 2)
        return node

    def _resize(self, op: Operator, options: ResizeBilinear) -> fx.Node:
        import torch.nn.functional as F

        if options.align_corners == options.half_pixel_centers:
            # Neither flag is TF1's legacy sampling, which torch has no mode for.
            raise self._unsupported(f"RESIZE_BILINEAR with {options}")
        _, height, width, _ = self._shape(op.outputs[0])
        return self._call(
            F.interpolate,
            self._value(op.inputs[0]),
            size=(height, width),
            mode="bilinear",
            align_corners=options.align_corners,
        )

    def _max_pool(self, op: Operator, options: Pool2D) -> fx.Node:
        import torch.nn.functional as F

        node = self._value(op.inputs[0])
        top, bottom, left, right = self._padding(
            options.padding, self._shape(op.inputs[0]), options.filter, options.stride, (1, 1)
        )
        if top or bottom or left or right:
            node = self._pad_node(node, (left, right, top, bottom), value=-math.inf)
        node = self._call(F.max_pool2d, node, options.filter, options.stride)
        return self._activate(node, options.activation)

    def _activate(self, node: fx.Node, activation: Activation) -> fx.Node:
        import torch
        import torch.nn.functional as F

        if activation == "NONE":
            return node
        if activation == "RELU":
            return self._call(F.relu, node, inplace=True)
        if activation == "RELU6":
            return self._call(F.hardtanh, node, 0.0, 6.0, inplace=True)
        if activation == "RELU_N1_TO_1":
            return self._call(F.hardtanh, node, -1.0, 1.0, inplace=True)
        return self._call(torch.tanh, node)

    # Helpers ------------------------------------------------------------------------

    @staticmethod
    def _padding(
        padding: Padding,
        in_shape: tuple[int, ...],
        kernel: tuple[int, int],
        stride: tuple[int, int],
        dilation: tuple[int, int],
    ) -> tuple[int, int, int, int]:
        """(top, bottom, left, right): TF's SAME puts the odd pixel at the bottom/right."""
        if padding == "VALID":
            return 0, 0, 0, 0
        pads = []
        for size, k, s, d in zip(in_shape[1:3], kernel, stride, dilation, strict=True):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        return pads[0], pads[1], pads[2], pads[3]

    def _pad_node(self, node: fx.Node, pads: tuple[int, ...], value: float = 0.0) -> fx.Node:
        import torch.nn.functional as F

        return self._call(F.pad, node, pads, value=value)

    def _only_reader(self, index: int) -> str | None:
        if self.readers[index] != 1:
            return None
        for op in self.operators:
            if index in op.inputs:
                return op.kind
        return None

    def _value(self, index: int) -> fx.Node:
        if index in self.values:
            return self.values[index]
        import torch

        data = self._constant(index)
        tensor = torch.from_numpy(np.ascontiguousarray(data))
        if tensor.ndim == 4:
            tensor = tensor.permute(0, 3, 1, 2).contiguous()
        name = f"const{self._next()}"
        self.root.register_buffer(name, tensor)
        self.values[index] = self.graph.get_attr(name)
        return self.values[index]

    def _constant(self, index: int) -> np.ndarray[Any, Any]:
        data = self.model.tensors[index].data
        if data is None:
            raise self._unsupported(f"a computed {self.model.tensors[index].name} as a weight")
        return data

    def _shape(self, index: int) -> tuple[int, ...]:
        return self.model.tensors[index].shape

    def _next(self) -> int:
        self._count += 1
        return self._count

    def _module(self, name: str, module: nn.Module, *args: fx.Node) -> fx.Node:
        self.root.add_module(name, module)
        return self.graph.call_module(name, args)

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> fx.Node:
        return self.graph.call_function(function, args, kwargs)

    def _method(self, name: str, *args: Any) -> fx.Node:
        return self.graph.call_method(name, args)

    def _unsupported(self, what: str) -> Exception:
        from dance_analysis.errors import MediaError, Reason

        return MediaError(
            Reason.MODEL_UNAVAILABLE,
            f"The pose model {self.model.path.name} uses {what}, which we do not run.",
        )


def _torch_axis(axis: int, rank: int) -> int:
    """TFLite's NHWC axis as the NCHW axis (other ranks keep their layout)."""
    return (0, 2, 3, 1)[axis] if rank == 4 else axis


def depth_to_space(x: torch.Tensor, block: int) -> torch.Tensor:
    """TF's DEPTH_TO_SPACE on NCHW: channel (i·b + j)·C + c goes to pixel offset (i, j).

    (torch's pixel_shuffle reads channel c·b² + i·b + j instead.)
    """
    n, channels, height, width = x.shape
    depth = channels // (block * block)
    x = x.reshape(n, block, block, depth, height, width).permute(0, 3, 4, 1, 5, 2)
    return x.reshape(n, depth, height * block, width * block)
