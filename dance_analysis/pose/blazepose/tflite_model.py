"""A ``.tflite`` file read into a plain description a runtime can build a network from.

Only what the two BlazePose networks use is understood. Constant weights come out as
float32 numpy arrays: float16 buffers are widened, ``DEQUANTIZE`` of a constant is folded
and ``DENSIFY`` (the detector stores half of its 1x1 kernels sparse) is decoded from the
tensor's sparsity parameters, so the operators left are the ones that compute. Anything
else (another operator, a quantised activation, a second subgraph) fails here, at load
time, with a sentence that names it, rather than as wrong numbers later.

No torch here: the description is shared by every runtime and by the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from dance_analysis.errors import MediaError, Reason

Padding: TypeAlias = Literal["SAME", "VALID"]
Activation: TypeAlias = Literal["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH"]

COMPUTE_OPS = frozenset(
    {
        "ADD",
        "CONCATENATION",
        "CONV_2D",
        "DEPTH_TO_SPACE",
        "DEPTHWISE_CONV_2D",
        "LOGISTIC",
        "MAX_POOL_2D",
        "PAD",
        "RESHAPE",
        "RESIZE_BILINEAR",
    }
)
"""The operators a runtime has to implement; ``DEQUANTIZE`` and ``DENSIFY`` are folded."""
FOLDED_OPS = frozenset({"DEQUANTIZE", "DENSIFY"})

_ACTIVATIONS: dict[int, Activation] = {
    0: "NONE",
    1: "RELU",
    2: "RELU_N1_TO_1",
    3: "RELU6",
    4: "TANH",
}
_PADDINGS: dict[int, Padding] = {0: "SAME", 1: "VALID"}
# TensorType codes (schema.fbs) of the types these models hold.
_FLOAT32, _FLOAT16, _INT32, _UINT8, _INT64, _INT8 = 0, 1, 2, 3, 4, 9
_NUMPY_TYPES: dict[int, type[np.generic]] = {
    _FLOAT32: np.float32,
    _FLOAT16: np.float16,
    _INT32: np.int32,
    _UINT8: np.uint8,
    _INT64: np.int64,
    _INT8: np.int8,
}


@dataclass(frozen=True)
class Conv2D:
    padding: Padding
    stride: tuple[int, int]  # (h, w)
    dilation: tuple[int, int]  # (h, w)
    activation: Activation


@dataclass(frozen=True)
class DepthwiseConv2D:
    padding: Padding
    stride: tuple[int, int]
    dilation: tuple[int, int]
    depth_multiplier: int
    activation: Activation


@dataclass(frozen=True)
class Pool2D:
    padding: Padding
    stride: tuple[int, int]
    filter: tuple[int, int]
    activation: Activation


@dataclass(frozen=True)
class Elementwise:
    """ADD, CONCATENATION: a fused activation (and, for a concatenation, its axis)."""

    activation: Activation
    axis: int = 0


@dataclass(frozen=True)
class DepthToSpace:
    block_size: int


@dataclass(frozen=True)
class ResizeBilinear:
    align_corners: bool
    half_pixel_centers: bool


@dataclass(frozen=True)
class NoOptions:
    pass


Options: TypeAlias = (
    Conv2D | DepthwiseConv2D | Pool2D | Elementwise | DepthToSpace | ResizeBilinear | NoOptions
)


@dataclass(frozen=True)
class TensorInfo:
    index: int
    name: str
    shape: tuple[int, ...]  # as TFLite has it: NHWC for images, batch 1
    dtype: str  # the numpy name of what the tensor holds at run time ("float32", "int32")
    data: npt.NDArray[Any] | None = field(default=None, repr=False)  # constants only
    sparse: bool = False  # stored sparse in the file (``data`` is the dense tensor)


@dataclass(frozen=True)
class Operator:
    kind: str  # the builtin name: "CONV_2D", ...
    inputs: tuple[int, ...]  # tensor indices; -1 for an omitted optional input (a bias)
    outputs: tuple[int, ...]
    options: Options


@dataclass(frozen=True)
class ModelDescription:
    path: Path
    tensors: tuple[TensorInfo, ...]
    operators: tuple[Operator, ...]  # compute operators only, in execution order
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    folded: dict[str, int]  # how many operators of each folded kind were folded

    def tensor(self, name: str) -> TensorInfo:
        for tensor in self.tensors:
            if tensor.name == name:
                return tensor
        raise KeyError(name)

    def operators_for(self, outputs: Sequence[int]) -> tuple[Operator, ...]:
        """The operators the given output tensors depend on, in execution order.

        This is how a runtime leaves out a head it does not need (the landmark network's
        256x256 segmentation mask costs about a fifth of its time).
        """
        producer = {out: op for op in self.operators for out in op.outputs}
        needed: set[int] = set()
        stack = list(outputs)
        while stack:
            index = stack.pop()
            op = producer.get(index)
            if op is None or id(op) in needed:
                continue
            needed.add(id(op))
            stack.extend(i for i in op.inputs if i >= 0)
        return tuple(op for op in self.operators if id(op) in needed)


def read_model(path: Path) -> ModelDescription:
    """Parse ``path``; :class:`MediaError` ``model_unavailable`` if it cannot be used."""
    try:
        buffer = path.read_bytes()
    except OSError as error:
        raise _unusable(path, f"it cannot be read ({error.strerror})") from error
    try:
        return _Parser(path, buffer).parse()
    except MediaError:
        raise
    except Exception as error:  # flatbuffers reports garbage as whatever it trips on
        raise _unusable(path, "it is not a TensorFlow Lite model (damaged file?)") from error


def _unusable(path: Path, why: str) -> MediaError:
    return MediaError(
        Reason.MODEL_UNAVAILABLE,
        f"The pose model {path.name} cannot be used: {why}. Reinstall the app.",
    )


class _Parser:
    def __init__(self, path: Path, buffer: bytes) -> None:
        import tflite  # generated flatbuffer bindings; only needed while loading

        self._tflite = tflite
        self.path = path
        if len(buffer) < 8 or buffer[4:8] != b"TFL3":
            raise _unusable(path, "it is not a TensorFlow Lite model (damaged file?)")
        self.buffer = buffer
        self.model = tflite.Model.GetRootAsModel(buffer, 0)
        if self.model.SubgraphsLength() != 1:
            raise _unusable(path, "it has more than one subgraph")
        self.graph = self.model.Subgraphs(0)
        self.names = tflite.utils.BUILTIN_OPCODE2NAME

    def parse(self) -> ModelDescription:
        graph = self.graph
        tensors = [self._tensor(i) for i in range(graph.TensorsLength())]
        operators: list[Operator] = []
        folded = dict.fromkeys(sorted(FOLDED_OPS), 0)
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            kind = self._kind(op)
            inputs = tuple(int(t) for t in op.InputsAsNumpy())
            outputs = tuple(int(t) for t in op.OutputsAsNumpy())
            if kind in FOLDED_OPS:
                source = tensors[inputs[0]]
                if source.data is None:
                    raise _unusable(self.path, f"{kind} of a computed tensor is not supported")
                target = tensors[outputs[0]]
                tensors[outputs[0]] = TensorInfo(
                    target.index, target.name, target.shape, "float32", source.data, source.sparse
                )
                folded[kind] += 1
            elif kind in COMPUTE_OPS:
                computed = [tensors[t] for t in inputs + outputs if t >= 0]
                odd = [t.name for t in computed if t.data is None and t.dtype != "float32"]
                if odd:
                    raise _unusable(self.path, f"{kind} computes in a quantised type ({odd[0]})")
                operators.append(Operator(kind, inputs, outputs, self._options(kind, op)))
            else:
                raise _unusable(self.path, f"it uses the operator {kind}, which we do not run")
        return ModelDescription(
            path=self.path,
            tensors=tuple(tensors),
            operators=tuple(operators),
            inputs=tuple(int(t) for t in graph.InputsAsNumpy()),
            outputs=tuple(int(t) for t in graph.OutputsAsNumpy()),
            folded=folded,
        )

    def _kind(self, op: Any) -> str:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        # Operators past 127 live in BuiltinCode; older files keep the deprecated byte.
        number = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        return str(self.names.get(number, f"custom operator {number}"))

    def _tensor(self, index: int) -> TensorInfo:
        tensor = self.graph.Tensors(index)
        name = tensor.Name().decode()
        shape = tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
        kind = int(tensor.Type())
        if kind not in _NUMPY_TYPES:
            raise _unusable(self.path, f"the tensor {name} has an unsupported type ({kind})")
        raw = self._buffer_bytes(int(tensor.Buffer()))
        if raw is None:  # computed at run time (or by a folded operator)
            return TensorInfo(index, name, shape, np.dtype(_NUMPY_TYPES[kind]).name)
        stored = np.frombuffer(raw, dtype=_NUMPY_TYPES[kind])
        sparsity = tensor.Sparsity()
        if sparsity is not None:
            values = _densify(stored, shape, _SparseLayout.read(sparsity, self._tflite))
        else:
            values = stored.reshape(shape)
        quantization = tensor.Quantization()
        if kind in (_INT8, _UINT8) and quantization is not None and quantization.ScaleLength():
            return TensorInfo(index, name, shape, "float32", _dequantize(values, quantization))
        if kind in (_FLOAT16, _FLOAT32):
            dense = values.astype(np.float32)
            return TensorInfo(index, name, shape, "float32", dense, sparsity is not None)
        return TensorInfo(index, name, shape, values.dtype.name, values.copy())

    def _buffer_bytes(self, number: int) -> bytes | None:
        buffer = self.model.Buffers(number)
        if buffer is None:
            return None
        if buffer.Offset() > 1:  # files over 2 GB keep the data after the flatbuffer
            start, size = int(buffer.Offset()), int(buffer.Size())
            return self.buffer[start : start + size]
        if buffer.DataLength() == 0:
            return None
        return bytes(buffer.DataAsNumpy())

    def _options(self, kind: str, op: Any) -> Options:
        t = self._tflite
        table = op.BuiltinOptions()

        def read(cls: Callable[[], Any]) -> Any:
            options = cls()
            if table is not None:
                options.Init(table.Bytes, table.Pos)
            return options

        if kind == "CONV_2D":
            o = read(t.Conv2DOptions)
            return Conv2D(
                self._padding(o.Padding()),
                (o.StrideH(), o.StrideW()),
                (o.DilationHFactor(), o.DilationWFactor()),
                self._activation(o.FusedActivationFunction()),
            )
        if kind == "DEPTHWISE_CONV_2D":
            o = read(t.DepthwiseConv2DOptions)
            return DepthwiseConv2D(
                self._padding(o.Padding()),
                (o.StrideH(), o.StrideW()),
                (o.DilationHFactor(), o.DilationWFactor()),
                o.DepthMultiplier(),
                self._activation(o.FusedActivationFunction()),
            )
        if kind == "MAX_POOL_2D":
            o = read(t.Pool2DOptions)
            return Pool2D(
                self._padding(o.Padding()),
                (o.StrideH(), o.StrideW()),
                (o.FilterHeight(), o.FilterWidth()),
                self._activation(o.FusedActivationFunction()),
            )
        if kind == "ADD":
            return Elementwise(self._activation(read(t.AddOptions).FusedActivationFunction()))
        if kind == "CONCATENATION":
            o = read(t.ConcatenationOptions)
            return Elementwise(self._activation(o.FusedActivationFunction()), o.Axis())
        if kind == "DEPTH_TO_SPACE":
            return DepthToSpace(read(t.DepthToSpaceOptions).BlockSize())
        if kind == "RESIZE_BILINEAR":
            o = read(t.ResizeBilinearOptions)
            return ResizeBilinear(bool(o.AlignCorners()), bool(o.HalfPixelCenters()))
        return NoOptions()

    def _padding(self, code: int) -> Padding:
        if code not in _PADDINGS:
            raise _unusable(self.path, f"it uses an unknown padding ({code})")
        return _PADDINGS[code]

    def _activation(self, code: int) -> Activation:
        if code not in _ACTIVATIONS:
            raise _unusable(self.path, f"it uses a fused activation we do not run ({code})")
        return _ACTIVATIONS[code]


@dataclass(frozen=True)
class _DimensionLevel:
    dense_size: int  # > 0 for a dense level
    segments: npt.NDArray[np.int64] | None  # CSR levels: where each parent's run starts
    indices: npt.NDArray[np.int64] | None  # CSR levels: the coordinate of each stored entry


@dataclass(frozen=True)
class _SparseLayout:
    """TFLite's SparsityParameters: the stored order of the dimensions and their format.

    ``traversal_order`` lists the dimensions outermost first; its first ``rank`` entries
    are the tensor's own dimensions (counted in blocks where blocked), the rest are the
    block dimensions, each standing for the original dimension ``block_map`` names.
    """

    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    levels: tuple[_DimensionLevel, ...]  # one per traversal_order entry, in that order

    @classmethod
    def read(cls, sparsity: Any, tflite: Any) -> _SparseLayout:
        levels = []
        for d in range(sparsity.DimMetadataLength()):
            meta = sparsity.DimMetadata(d)
            if meta.Format() == 0:  # DENSE
                levels.append(_DimensionLevel(int(meta.DenseSize()), None, None))
                continue
            segments = _index_vector(meta.ArraySegmentsType(), meta.ArraySegments(), tflite)
            indices = _index_vector(meta.ArrayIndicesType(), meta.ArrayIndices(), tflite)
            levels.append(_DimensionLevel(0, segments, indices))
        block_map = sparsity.BlockMapAsNumpy() if sparsity.BlockMapLength() else []
        return cls(
            traversal_order=tuple(int(d) for d in sparsity.TraversalOrderAsNumpy()),
            block_map=tuple(int(d) for d in block_map),
            levels=tuple(levels),
        )


def _index_vector(kind: int, table: Any, tflite: Any) -> npt.NDArray[np.int64]:
    vector_types = {1: tflite.Int32Vector, 2: tflite.Uint16Vector, 3: tflite.Uint8Vector}
    if kind not in vector_types or table is None:
        raise ValueError(f"sparse index vector of type {kind}")
    vector = vector_types[kind]()
    vector.Init(table.Bytes, table.Pos)
    return np.asarray(vector.ValuesAsNumpy(), dtype=np.int64)


def _densify(
    stored: npt.NDArray[Any], shape: tuple[int, ...], layout: _SparseLayout
) -> npt.NDArray[Any]:
    """The dense tensor a sparse one stands for (what TFLite's DENSIFY computes).

    Walks the levels outermost first, for all stored entries at once: a dense level
    multiplies every position by its size, a CSR level expands each parent position into
    its run of stored entries. At the end every stored value has one coordinate per
    traversal dimension, which maps back to the tensor's own coordinates.
    """
    rank = len(shape)
    block_sizes = {
        original: layout.levels[rank + k].dense_size for k, original in enumerate(layout.block_map)
    }
    positions = np.zeros(1, dtype=np.int64)
    coordinates: list[npt.NDArray[np.int64]] = []
    for level in layout.levels:
        if level.segments is None or level.indices is None:
            size = level.dense_size
            inner = np.arange(size, dtype=np.int64)
            coordinates = [np.repeat(c, size) for c in coordinates]
            coordinates.append(np.tile(inner, len(positions)))
            positions = (positions[:, None] * size + inner[None, :]).ravel()
        else:
            starts = level.segments[positions]
            counts = level.segments[positions + 1] - starts
            coordinates = [np.repeat(c, counts) for c in coordinates]
            run_start = np.repeat(starts - np.cumsum(counts) + counts, counts)
            entries = (run_start + np.arange(run_start.size)).astype(np.int64)
            coordinates.append(level.indices[entries])
            positions = entries
    by_dimension = dict(zip(layout.traversal_order, coordinates, strict=True))
    original = []
    for d in range(rank):
        coordinate = by_dimension[d]
        if d in block_sizes:  # a blocked dimension: block number times size plus offset
            inner_dim = rank + layout.block_map.index(d)
            coordinate = coordinate * block_sizes[d] + by_dimension[inner_dim]
        original.append(coordinate)
    dense = np.zeros(shape, dtype=stored.dtype)
    dense[tuple(original)] = stored[positions]
    return dense


def _dequantize(values: npt.NDArray[Any], quantization: Any) -> npt.NDArray[np.float32]:
    scale = np.asarray(quantization.ScaleAsNumpy(), dtype=np.float32)
    zero = np.asarray(quantization.ZeroPointAsNumpy(), dtype=np.float32)
    if scale.size > 1:  # per channel along quantized_dimension
        axis = int(quantization.QuantizedDimension())
        view = [1] * values.ndim
        view[axis] = -1
        scale, zero = scale.reshape(view), zero.reshape(view)
    return ((values.astype(np.float32) - zero) * scale).astype(np.float32)
