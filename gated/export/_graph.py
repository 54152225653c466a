"""A small builder for ONNX graphs: named values, constants, nodes, and the masks that travel with values.

Shape legend: B batch, T timesteps, F features, H units, D directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package: pip install onnx (or pip install 'gated[onnx]'). "
            "To run the exported file, pip install onnxruntime."
        ) from None
    return onnx


@dataclass
class Value:
    """An ONNX tensor in the graph being built, with what gated would carry alongside it.

    ``mask`` names a (B, T) bool tensor, the ONNX counterpart of ``tensor._keras_mask``.
    """

    name: str
    rank: int
    elem: int  # onnx.TensorProto data type
    mask: str | None = None


class GraphBuilder:
    def __init__(self, onnx: Any):
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._used: set[str] = set()
        self._constants: dict[Any, str] = {}
        self._mask_info: dict[str, tuple[str, str]] = {}

    @property
    def FLOAT(self) -> int:
        return self.onnx.TensorProto.FLOAT

    @property
    def INT64(self) -> int:
        return self.onnx.TensorProto.INT64

    def fresh(self, hint: str) -> str:
        base = "".join(c if c.isalnum() or c in "_/." else "_" for c in hint) or "value"
        name, i = base, 0
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._used.add(name)

    def const(self, array: Any, hint: str, key: Any = None) -> str:
        """An initializer; float arrays are stored as float32, integer arrays as int64. ``key`` shares it."""
        if key is not None and key in self._constants:
            return self._constants[key]
        array = np.asarray(array)
        array = array.astype(np.float32) if array.dtype.kind == "f" else array.astype(np.int64) \
            if array.dtype.kind in "iu" else array
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(array, order="C"), name))
        if key is not None:
            self._constants[key] = name
        return name

    def ints(self, values: list[int], hint: str = "shape") -> str:
        return self.const(np.asarray(values, dtype=np.int64), hint, key=("ints", tuple(values)))

    def scalar(self, value: float, hint: str = "scalar") -> str:
        return self.const(np.asarray(value, dtype=np.float32), hint, key=("float", float(value)))

    def op(self, op_type: str, inputs: list[str], hint: str, outputs: int = 1, **attrs: Any) -> Any:
        names = [self.fresh(f"{hint}/{op_type}" if outputs == 1 else f"{hint}/{op_type}_{i}")
                 for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, inputs, names, name=self.fresh(f"{hint}/{op_type}/node"),
                                                **attrs))
        return names[0] if outputs == 1 else names

    # ------------------------------------------------------------------ masks
    def mask_lengths(self, mask: str) -> tuple[str, str]:
        """For a (B, T) bool mask: (sequence_lens int32 (B,), ok bool (B,)).

        ``ok`` is False for a row whose mask is not a prefix of True steps (right padding), the only layout
        ONNX's ``sequence_lens`` can express; such rows get NaN outputs rather than silently wrong numbers.
        """
        if mask in self._mask_info:
            return self._mask_info[mask]
        hint = "mask"
        lens64 = self.op("ReduceSum", [self.op("Cast", [mask], hint, to=self.INT64), self.ints([1])], hint,
                         keepdims=0)  # (B,)
        steps = self.op("Gather", [self.op("Shape", [mask], hint), self.ints([1])], hint, axis=0)  # (1,)
        positions = self.op("Range", [self.const(np.asarray(0, np.int64), "zero", key="i0"),
                                      self.op("Squeeze", [steps, self.ints([0])], hint),
                                      self.const(np.asarray(1, np.int64), "one", key="i1")], hint)  # (T,)
        prefix = self.op("Less", [self.op("Unsqueeze", [positions, self.ints([0])], hint),
                                  self.op("Unsqueeze", [lens64, self.ints([1])], hint)], hint)  # (B, T)
        differs = self.op("Cast", [self.op("Xor", [prefix, mask], hint)], hint, to=self.INT64)
        bad = self.op("ReduceMax", [differs], hint, axes=[1], keepdims=0)  # (B,)
        ok = self.op("Equal", [bad, self.const(np.asarray(0, np.int64), "zero", key="i0")], hint)
        lens = self.op("Cast", [lens64], hint, to=self.onnx.TensorProto.INT32)
        self._mask_info[mask] = (lens, ok)
        return lens, ok

    def nan_unless(self, ok: str, value: str, rank: int, hint: str) -> str:
        """``value`` (B, ...) where ``ok`` (B,), NaN elsewhere."""
        condition = self.op("Unsqueeze", [ok, self.ints(list(range(1, rank)))], hint) if rank > 1 else ok
        return self.op("Where", [condition, value, self.scalar(float("nan"), "nan")], hint)

    def as_bool_mask(self, value: Value, hint: str) -> str:
        name = value.name
        if value.rank == 3:
            name = self.op("Squeeze", [name, self.ints([2])], hint)
        if value.elem != self.onnx.TensorProto.BOOL:
            name = self.op("Cast", [name], hint, to=self.onnx.TensorProto.BOOL)
        return name
