"""Conversion with Keras's dtype rules: what every op does to its inputs first.

A python float becomes ``floatx()`` (float32), a python int int32 (int64 beyond 32 bits), a bool bool; a list
takes the promoted dtype of its items; numpy arrays keep their dtype (uint32 becomes int64, as in Keras); torch
tensors pass through unchanged. Arrays converted beside a tensor land on that tensor's device.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch

from ..utils import _tree
from ._dtypes import result_type, standardize_dtype, to_torch

Tensor = torch.Tensor


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (a parameter counts)."""
    return isinstance(x, Tensor)


def _python_scalar_dtype(x: Any) -> torch.dtype:
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int64 if not -(2**31) <= x < 2**31 else torch.int32
    if isinstance(x, float):
        return to_torch(None)
    return torch.complex64


def _check_numeric(array: np.ndarray, x: Any) -> None:
    if array.dtype.kind in "USOV":
        raise TypeError(f"Cannot convert {type(x).__name__} of dtype {array.dtype} to a tensor; ops take numbers: "
                        "tensors, numpy arrays, python scalars or nested lists of them.")


def convert_to_tensor(x: Any, dtype: Any = None, sparse: bool | None = None, ragged: bool | None = None,
                      device: torch.device | str | None = None) -> Tensor:
    """``x`` as a torch tensor, typed as Keras types it (``dtype`` casts)."""
    if sparse:
        raise ValueError("convert_to_tensor(sparse=True): gated runs on torch, which has no sparse Keras tensors; "
                         "pass sparse=None or False.")
    if ragged:
        raise ValueError("convert_to_tensor(ragged=True): torch has no ragged tensors; pad the rows to one length "
                         "(gated.utils.pad_sequences) and pass ragged=None or False.")
    target = None if dtype is None else to_torch(dtype)
    if isinstance(x, Tensor):
        if device is not None and x.device != torch.device(device):
            x = x.to(device)
        return x if target is None or x.dtype == target else x.to(target)
    if isinstance(x, (bool, int, float, complex)):
        return torch.tensor(x, dtype=target or _python_scalar_dtype(x), device=device)
    if isinstance(x, (list, tuple)) and any(isinstance(item, Tensor) for item in _tree.flatten_structure(x)):
        return torch.stack([convert_to_tensor(item, dtype, device=device) for item in x])
    if isinstance(x, (list, tuple)):
        leaves = _tree.flatten_structure(x)
        _check_numeric(np.asarray(x), x)
        if target is None:
            target = to_torch(result_type(*[getattr(leaf, "dtype", type(leaf)) for leaf in leaves]) if leaves
                              else None)
        return torch.tensor(np.asarray(x), dtype=target, device=device) if leaves else \
            torch.zeros(np.shape(x), dtype=target, device=device)
    array = np.asarray(x)
    _check_numeric(array, x)
    if array.dtype == np.uint32 or array.dtype == np.uint16:
        array = array.astype(np.int64 if array.dtype == np.uint32 else np.int32)
    if array.dtype == np.uint64:
        array = array.astype(np.int64)
    tensor = torch.from_numpy(np.ascontiguousarray(array)) if array.ndim else torch.tensor(array.item(),
                                                                                           dtype=to_torch(array.dtype))
    if device is not None:
        tensor = tensor.to(device)
    return tensor if target is None or tensor.dtype == target else tensor.to(target)


def _device_of(values: Iterable[Any]) -> torch.device | None:
    """The device of the first tensor with more than zero dimensions among ``values`` (else of any tensor)."""
    fallback = None
    for value in values:
        if isinstance(value, Tensor):
            if value.ndim:
                return value.device
            fallback = fallback or value.device
    return fallback


def tensors(*xs: Any) -> list[Tensor]:
    """All of ``xs`` as tensors, the converted ones on the device of the tensors among them."""
    device = _device_of(xs)
    return [convert_to_tensor(x, device=device) for x in xs]


def tensor_like(x: Any, like: Tensor) -> Tensor:
    """``x`` as a tensor on the device of ``like`` (its dtype Keras's rules give it)."""
    return convert_to_tensor(x, device=like.device)


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a numpy array (detached, on the host; bfloat16 becomes float32)."""
    if isinstance(x, Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(item) for item in x])
    return np.asarray(x)


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` in ``dtype`` (gradients flow through float-to-float casts)."""
    x = convert_to_tensor(x)
    target = to_torch(dtype)
    return x if x.dtype == target else x.to(target)


def _limits(dtype: torch.dtype) -> tuple[float, float]:
    if dtype == torch.bool:
        return 0, 1
    info = torch.finfo(dtype) if dtype.is_floating_point else torch.iinfo(dtype)
    return info.min, info.max


def _representable(limit: float, dtype: torch.dtype, towards_zero_if_beyond: float) -> Tensor:
    """``limit`` in ``dtype``, nudged towards 0 when rounding carried it past the target's range."""
    value = torch.tensor(limit, dtype=dtype)
    if abs(float(value)) > abs(towards_zero_if_beyond):
        value = torch.nextafter(value, torch.zeros((), dtype=dtype))
    return value


def saturate_cast(x: Any, dtype: Any) -> Tensor:
    """``cast`` that clips to the range of ``dtype`` first, so large values saturate instead of wrapping."""
    x = convert_to_tensor(x)
    target = to_torch(dtype)
    if x.dtype == torch.bool or x.is_complex():
        return x.to(target)
    (in_low, in_high), (out_low, out_high) = _limits(x.dtype), _limits(target)
    low = _representable(max(in_low, out_low), x.dtype, out_low).to(x.device)
    high = _representable(min(in_high, out_high), x.dtype, out_high).to(x.device)
    return torch.clamp(x, low, high).to(target)


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints."""
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def dtype(x: Any) -> str:
    """Keras's name for the dtype of ``x``: 'float32', 'int32', ..."""
    return standardize_dtype(convert_to_tensor(x).dtype)


__all__ = ["cast", "convert_to_numpy", "convert_to_tensor", "dtype", "is_tensor", "saturate_cast", "shape",
           "standardize_dtype"]
