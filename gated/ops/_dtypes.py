"""Keras's dtype names and its type promotion, on torch.

``standardize_dtype`` names any dtype (torch, numpy, python type or string) as Keras does; ``to_torch`` gives the
torch dtype Keras's torch backend uses for a name; ``result_type`` applies Keras's promotion lattice (the one
``keras.backend.result_type`` applies, ``jnp.result_type``'s): python ``int``/``float`` are weak types, 64-bit
results come out as 32-bit, and a mix of weak types resolves to ``floatx()``'s precision.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from ..utils._config import floatx

TORCH_DTYPES = {
    "float16": torch.float16, "float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16,
    "uint8": torch.uint8, "uint16": torch.int32, "uint32": torch.int64,  # torch has no usable uint16/uint32
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64, "bool": torch.bool,
    "complex64": torch.complex64, "complex128": torch.complex128,
}
_PYTHON = {bool: "bool", int: "int32", float: "float32", complex: "complex64", "int": "int32"}

# Each dtype and the dtypes directly above it ("int"/"float" are python's weak types).
_LATTICE = {
    "bool": ("int",), "int": ("uint8", "int8", "complex64"),
    "uint8": ("int16", "uint16"), "uint16": ("int32", "uint32"), "uint32": ("int64", "uint64"), "uint64": ("float",),
    "int8": ("int16",), "int16": ("int32",), "int32": ("int64",), "int64": ("float",),
    "float": ("bfloat16", "float16"), "bfloat16": ("float32",), "float16": ("float32",),
    "float32": ("float64", "complex64"), "float64": ("complex128",), "complex64": ("complex128",), "complex128": (),
}
_NARROW_64 = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


def _above(node: str) -> frozenset[str]:
    seen, todo = {node}, [node]
    while todo:
        for up in _LATTICE[todo.pop()]:
            if up not in seen:
                seen.add(up)
                todo.append(up)
    return frozenset(seen)


_UPPER = {node: _above(node) for node in _LATTICE}


def standardize_dtype(dtype: Any) -> str:
    """Keras's name for ``dtype``: 'float32', 'int32', 'bool', ... (``None`` is ``floatx()``)."""
    if dtype is None:
        return floatx()
    if dtype in _PYTHON:
        return _PYTHON[dtype]
    if isinstance(dtype, torch.dtype):
        return str(dtype).split(".")[-1]
    if isinstance(dtype, str) and dtype in TORCH_DTYPES:
        return dtype
    if hasattr(dtype, "dtype") and not isinstance(dtype, type):
        return standardize_dtype(dtype.dtype)
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name is None or name not in TORCH_DTYPES and name not in ("uint64", "str"):
        raise ValueError(f"{dtype!r} is not a dtype Keras knows; pass one of {', '.join(TORCH_DTYPES)} "
                         "(or a torch/numpy dtype of these).")
    return name


def to_torch(dtype: Any) -> torch.dtype:
    """The torch dtype for a Keras dtype name (or anything ``standardize_dtype`` accepts)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    name = standardize_dtype(dtype)
    if name not in TORCH_DTYPES:
        raise ValueError(f"dtype {name!r} has no torch equivalent; use one of {', '.join(TORCH_DTYPES)}.")
    return TORCH_DTYPES[name]


@lru_cache(maxsize=512)
def _least_upper_bound(nodes: frozenset[str]) -> str:
    common = frozenset.intersection(*(_UPPER[n] for n in nodes))
    lowest = (common & nodes) or {c for c in common if common <= _UPPER[c]}
    if len(lowest) != 1:
        raise ValueError(f"The dtypes {sorted(nodes)} have no implicit promotion; cast the inputs to one dtype "
                         "first with ops.cast.")
    return next(iter(lowest))


def _weak_name(name: str) -> str:
    if name == "bool":
        return name
    return "float" if "float" in name else "int" if "int" in name else name


def result_type(*dtypes: Any) -> str:
    """The dtype Keras's promotion gives for ``dtypes`` (python ``int``/``float`` weak), as a string."""
    if not dtypes:
        return floatx()
    weak = [d is int or d is float for d in dtypes]
    names = [standardize_dtype(d) for d in dtypes]
    if len(names) == 1 or (len(set(names)) == 1 and not all(weak)):
        out, out_weak = names[0], weak[0] if len(names) == 1 else False
    elif all(weak):
        out, out_weak = _least_upper_bound(frozenset(names)), True
    else:
        out = _least_upper_bound(frozenset(_weak_name(n) if w else n for n, w in zip(names, weak)))
        out_weak = out in ("int", "float")
    if out_weak and out != "bool":
        bits = floatx()[-2:]
        kind = "bool" if out == "bool" else "int" if out.startswith("int") else "uint" if out.startswith("u") \
            else "float"
        out = f"{kind}{bits}"
    return _NARROW_64.get(out, out)


def is_float(dtype: Any) -> bool:
    name = standardize_dtype(dtype)
    return "float" in name


def is_int(dtype: Any) -> bool:
    return "int" in standardize_dtype(dtype)


def promote(*dtypes: Any) -> str:
    """``result_type``, except that float64 (complex128) inputs keep their precision: Keras's torch backend
    narrows a float64 product or reduction to float32, which silently loses digits a float64 caller asked for."""
    out = result_type(*dtypes)
    names = {standardize_dtype(d) for d in dtypes if d is not int and d is not float}
    if out == "float32" and "float64" in names:
        return "float64"
    if out == "complex64" and "complex128" in names:
        return "complex128"
    return out
