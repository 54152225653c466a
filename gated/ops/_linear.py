"""Products and counting with Keras's names and dtypes: matmul, dot, tensordot, einsum, outer, cross, ...

Products of integers are computed in floating point and cast back (int8 @ int8 gives int32, as in Keras);
booleans multiply as floatx and come back as booleans.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ._convert import Tensor, convert_to_tensor, tensors
from ._dtypes import promote, standardize_dtype, to_torch


def _compute(result: str) -> torch.dtype:
    """The dtype a product of ``result`` dtype is computed in: float64 for integers (exact up to 2**53)."""
    dtype = to_torch(result)
    if dtype == torch.bool:
        return to_torch(None)
    if not (dtype.is_floating_point or dtype.is_complex):
        return torch.float64
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _product(x1: Any, x2: Any, fn: Callable[[Tensor, Tensor], Tensor], result: str | None = None) -> Tensor:
    x1, x2 = tensors(x1, x2)
    if result is None:
        result = promote(x1.dtype, x2.dtype)
    compute = _compute(result)
    if x1.dtype == torch.float64 or x2.dtype == torch.float64:
        compute = torch.float64 if not compute.is_complex else compute
    out = fn(x1.to(compute), x2.to(compute))
    target = to_torch(result)
    if not (target.is_floating_point or target.is_complex) and target != torch.bool:
        out = torch.round(out)
    return out.to(target)


def _check_matmul(x1: Tensor, x2: Tensor) -> None:
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError(f"matmul takes tensors of rank >= 1; received shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}. Use ops.multiply for scalars.")
    inner_1 = x1.shape[-1]
    inner_2 = x2.shape[-2] if x2.ndim > 1 else x2.shape[0]
    if inner_1 != inner_2:
        raise ValueError(f"matmul: the last axis of x1 {tuple(x1.shape)} ({inner_1}) must equal the "
                         f"{'second-to-last' if x2.ndim > 1 else 'only'} axis of x2 {tuple(x2.shape)} ({inner_2}).")


def matmul(x1: Any, x2: Any) -> Tensor:
    """The matrix product of the last two axes, broadcast over the leading ones (numpy's ``matmul``)."""
    x1, x2 = tensors(x1, x2)
    _check_matmul(x1, x2)
    both_int8 = x1.dtype == torch.int8 and x2.dtype == torch.int8
    return _product(x1, x2, torch.matmul, "int32" if both_int8 else None)


def dot(x1: Any, x2: Any) -> Tensor:
    """numpy's ``dot``: the product over the last axis of ``x1`` and the second-to-last of ``x2``."""
    x1, x2 = tensors(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return _product(x1, x2, torch.multiply)
    if x2.ndim > 2:
        return _product(x1, x2, lambda a, b: torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2])))
    _check_matmul(x1, x2)
    return _product(x1, x2, torch.matmul)


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """The sum of products over ``axes`` (an int: the last n of ``x1`` and first n of ``x2``; or two lists)."""
    if isinstance(axes, (list, tuple)):
        first, second = axes
        axes = ([first] if isinstance(first, int) else list(first), [second] if isinstance(second, int)
                else list(second))
    return _product(x1, x2, lambda a, b: torch.tensordot(a, b, dims=axes))


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Tensor:
    """Einstein summation over ``operands`` as ``subscripts`` says (int8 operands give int32)."""
    if kwargs:
        raise TypeError(f"einsum takes no keyword arguments besides the operands; received {sorted(kwargs)}.")
    operands = tensors(*operands)
    names = {standardize_dtype(o.dtype) for o in operands}
    if names == {"int8"}:
        return torch.round(torch.einsum(subscripts, *[o.double() for o in operands])).int()
    result = promote(*[o.dtype for o in operands]) if len(operands) > 1 else standardize_dtype(
        operands[0].dtype)
    if any(not (o.is_floating_point() or o.is_complex()) for o in operands):
        out = torch.einsum(subscripts, *[o.to(_compute(result)) for o in operands])
        target = to_torch(result)
        return (torch.round(out) if not target.is_floating_point and target != torch.bool else out).to(target)
    common = to_torch(result) if len({o.dtype for o in operands}) > 1 else operands[0].dtype
    return torch.einsum(subscripts, *[o.to(common) for o in operands])


def outer(x1: Any, x2: Any) -> Tensor:
    """The outer product of the flattened inputs."""
    x1, x2 = tensors(x1, x2)
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


def inner(x1: Any, x2: Any) -> Tensor:
    """The sum of products over the last axes."""
    return _product(x1, x2, torch.inner)


def vdot(x1: Any, x2: Any) -> Tensor:
    """The dot product of the flattened inputs (the first conjugated)."""
    return _product(x1, x2, lambda a, b: torch.vdot(a.reshape(-1), b.reshape(-1)))


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Tensor:
    """The cross product of 3-vectors (2-vectors are taken with z = 0) along the last axes (or ``axis``)."""
    x1, x2 = tensors(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = torch.moveaxis(x1, axisa, -1), torch.moveaxis(x2, axisb, -1)
    if x1.shape[-1] not in (2, 3) or x2.shape[-1] not in (2, 3):
        raise ValueError(f"cross needs vectors of length 2 or 3 on the axis; received shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)} (after moving axisa/axisb last).")
    two_d = x1.shape[-1] == 2 and x2.shape[-1] == 2
    x1 = F.pad(x1, (0, 3 - x1.shape[-1]))
    x2 = F.pad(x2, (0, 3 - x2.shape[-1]))
    x1, x2 = torch.broadcast_tensors(x1, x2)
    out = _product(x1, x2, lambda a, b: torch.linalg.cross(a, b, dim=-1))
    if two_d:
        return out[..., 2]
    return torch.moveaxis(out, -1, axisc)


def correlate(x1: Any, x2: Any, mode: str = "valid") -> Tensor:
    """The cross-correlation of two 1-D sequences (mode 'valid', 'same' or 'full'), numpy's ``correlate``."""
    x1, x2 = tensors(x1, x2)
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate takes mode 'valid', 'same' or 'full'; received mode={mode!r}.")
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"correlate takes 1-D sequences; received shapes {tuple(x1.shape)} and {tuple(x2.shape)}.")
    name = promote(x1.dtype, x2.dtype)
    dtype = "float64" if name == "int64" else name if name in ("bfloat16", "float16", "float64") else "float32"
    a, v = x1.to(to_torch(dtype)), x2.to(to_torch(dtype))
    n, m = a.shape[0], v.shape[0]
    full = F.conv1d(a.reshape(1, 1, n), v.reshape(1, 1, m), padding=m - 1).reshape(-1)
    # full[j] = sum_i a[j - (m - 1) + i] * v[i]; numpy's valid/same are centred slices of it (v is not flipped).
    if mode == "full":
        return full
    length = builtins.max(n, m) - builtins.min(n, m) + 1 if mode == "valid" else builtins.max(n, m)
    start = (full.shape[0] - length) // 2
    return full[start:start + length]


def corrcoef(x: Any) -> Tensor:
    """The Pearson correlation coefficients of the rows of ``x``."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(to_torch(None))
    elif x.dtype == torch.int64:
        x = x.double()
    return torch.corrcoef(x)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """How often each non-negative integer occurs in ``x`` (1-D, or per row of a 2-D ``x``), optionally weighted."""
    if sparse:
        raise ValueError("bincount(sparse=True): torch has no sparse Keras tensors; pass sparse=False.")
    x = convert_to_tensor(x)
    if x.is_floating_point() or x.dtype == torch.bool:
        raise TypeError(f"bincount counts non-negative integers; received dtype {standardize_dtype(x.dtype)}.")
    if x.numel() and int(x.min()) < 0:
        raise ValueError(f"bincount counts non-negative integers; x holds {int(x.min())}.")
    w = None if weights is None else convert_to_tensor(weights, device=x.device)
    dtype = to_torch("int32" if w is None else promote(x.dtype, w.dtype))
    length = builtins.max(int(x.max()) + 1 if x.numel() else 0, minlength)
    if x.ndim == 2:
        rows = [torch.bincount(r, None if w is None else w[i], minlength=length) for i, r in enumerate(x)]
        return torch.stack(rows).to(dtype)
    if x.ndim != 1:
        raise ValueError(f"bincount takes a 1-D or 2-D x; received shape {tuple(x.shape)}.")
    return torch.bincount(x, w, minlength=length).to(dtype)


def histogram(x: Any, bins: int = 10, range: tuple[float, float] | None = None) -> tuple[Tensor, Tensor]:
    """Counts of ``x`` in ``bins`` equal bins over ``range`` (default min to max), and the bin edges."""
    x = convert_to_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"histogram takes a 1-D x; received shape {tuple(x.shape)}.")
    values = x.to(to_torch(promote(x.dtype, float)) if not x.is_floating_point() else x.dtype)
    low, high = (float(values.min()), float(values.max())) if range is None else map(float, range)
    out = torch.histogram(values.cpu(), bins=bins, range=(low, high))
    return out.hist.to(x.device), out.bin_edges.to(x.device)


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """The integral of ``y`` along ``axis`` by the trapezoidal rule (at points ``x``, or spacing ``dx``)."""
    y = convert_to_tensor(y)
    if not (y.is_floating_point() or y.is_complex()):
        y = y.to(to_torch(None))
    if x is not None:
        return torch.trapezoid(y, x=convert_to_tensor(x, device=y.device), dim=axis)
    return torch.trapezoid(y, dx=float(dx), dim=axis)
