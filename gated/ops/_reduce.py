"""Reductions, sorting and scans with Keras's names, axis/keepdims arguments and dtypes.

``axis`` is None (every axis), an int or a tuple; ``axis=()`` leaves ``x`` as it is, as in Keras. Sums and
products of small integers and booleans give int32; means, variances and quantiles of integers give float32.
"""

from __future__ import annotations

import builtins
from typing import Any

import torch

from ._convert import Tensor, convert_to_tensor, tensors
from ._dtypes import promote, standardize_dtype, to_torch

_SUM_TO_INT32 = ("bool", "uint8", "int8", "int16")


def _dims(axis: Any) -> tuple[int, ...] | None:
    if axis is None:
        return None
    return tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else (int(axis),)


def _input(x: Any) -> Tensor:
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, Tensor) for v in x):
        return torch.stack(tensors(*x))
    return convert_to_tensor(x)


def _empty_axes(axis: Any) -> bool:
    return isinstance(axis, (list, tuple)) and len(axis) == 0


def _float_dtype(x: Tensor) -> torch.dtype:
    """Keras's result dtype of a mean-like reduction: float32 for integers and booleans, else the input's."""
    if x.is_floating_point() or x.is_complex():
        return x.dtype
    return to_torch(promote(x.dtype, "float32"))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The sum over ``axis`` (booleans and 8/16-bit integers sum to int32)."""
    x = _input(x)
    if _empty_axes(axis):
        return x
    name = standardize_dtype(x.dtype)
    dtype = torch.int32 if name in _SUM_TO_INT32 else x.dtype
    return torch.sum(x, dim=_dims(axis), keepdim=keepdims).to(dtype)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """The product over ``axis`` (booleans and 8/16-bit integers multiply to int32)."""
    x = convert_to_tensor(x)
    if dtype is None:
        name = promote(x.dtype)
        dtype = "int32" if name in _SUM_TO_INT32 else name
    target = to_torch(dtype)
    if axis is None:
        out = torch.prod(x, dtype=target)
        return out.reshape((1,) * x.ndim) if keepdims else out
    for a in sorted((a % builtins.max(x.ndim, 1) for a in _dims(axis)), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=target)
    return x.to(target)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis`` (integers and booleans give float32)."""
    x = _input(x)
    if _empty_axes(axis):
        return x
    return torch.mean(x.to(_float_dtype(x)), dim=_dims(axis), keepdim=keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The population variance (``ddof=0``) over ``axis``."""
    x = convert_to_tensor(x)
    dtype = _float_dtype(x)
    if _empty_axes(axis):
        return torch.zeros_like(x, dtype=dtype)
    return torch.var(x.to(dtype), dim=_dims(axis), keepdim=keepdims, correction=0)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The population standard deviation (``ddof=0``) over ``axis``."""
    x = convert_to_tensor(x)
    return torch.std(x.to(_float_dtype(x)), dim=_dims(axis), keepdim=keepdims, correction=0)


def average(x: Any, axis: Any = None, weights: Any = None) -> Tensor:
    """The mean over ``axis``, weighted by ``weights`` (1-D along ``axis``, or of the shape of ``x``)."""
    x = convert_to_tensor(x)
    if weights is None:
        dtype = to_torch(promote(x.dtype, float))
        return x.to(dtype) if _empty_axes(axis) else torch.mean(x.to(dtype), dim=_dims(axis))
    x, w = tensors(x, weights)
    dtype = to_torch(promote(x.dtype, float, w.dtype))
    x, w = x.to(dtype), w.to(dtype)
    if axis is None:
        if w.shape != x.shape:
            raise ValueError(f"average without an axis needs weights of the shape of x {tuple(x.shape)}; received "
                             f"weights of shape {tuple(w.shape)}.")
        return torch.sum(x * w) / torch.sum(w)
    a = int(axis) % x.ndim
    if w.ndim == 1:
        if w.shape[0] != x.shape[a]:
            raise ValueError(f"average: 1-D weights must have the length of axis {a} of x ({x.shape[a]}); "
                             f"received {w.shape[0]}.")
        w = w.reshape([-1 if d == a else 1 for d in range(x.ndim)])
    return torch.sum(x * w, dim=a) / torch.sum(w.expand_as(x), dim=a)


def _extreme(name: str, reduce: Any, pick: Any) -> Any:
    def op(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:
        x = convert_to_tensor(x)
        if x.numel() == 0:
            if initial is None:
                raise ValueError(f"Cannot compute the {name} of an empty tensor (shape {tuple(x.shape)}); pass "
                                 "initial= to give the result for empty input.")
            shape = (1,) * x.ndim if keepdims else ()
            return torch.full(shape, initial, dtype=x.dtype)
        if _empty_axes(axis):
            out = x
        else:
            out = reduce(x, dim=_dims(axis), keepdim=keepdims) if axis is not None else \
                reduce(x).reshape((1,) * x.ndim if keepdims else ())
        if initial is not None:
            out = pick(out, torch.tensor(initial, dtype=out.dtype, device=out.device))
        return out

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The {name}imum over ``axis`` (``initial`` joins the comparison)."
    return op


max = _extreme("max", torch.amax, torch.maximum)
min = _extreme("min", torch.amin, torch.minimum)


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The maximum over ``axis``."""
    return max(x, axis=axis, keepdims=keepdims)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The minimum over ``axis``."""
    return min(x, axis=axis, keepdims=keepdims)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``max - min`` over ``axis``."""
    x = convert_to_tensor(x)
    if _empty_axes(axis):
        return torch.zeros_like(x)
    return amax(x, axis, keepdims) - amin(x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Whether every element over ``axis`` is true (nonzero)."""
    x = convert_to_tensor(x)
    if _empty_axes(axis):
        return x.bool()
    return torch.all(x, dim=_dims(axis), keepdim=keepdims) if axis is not None else \
        torch.all(x).reshape((1,) * x.ndim if keepdims else ())


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Whether any element over ``axis`` is true (nonzero)."""
    x = convert_to_tensor(x)
    if _empty_axes(axis):
        return x.bool()
    return torch.any(x, dim=_dims(axis), keepdim=keepdims) if axis is not None else \
        torch.any(x).reshape((1,) * x.ndim if keepdims else ())


def count_nonzero(x: Any, axis: Any = None) -> Tensor:
    """The number of nonzero elements over ``axis`` (int32)."""
    x = convert_to_tensor(x)
    if _empty_axes(axis):
        return (x != 0).int()
    return torch.count_nonzero(x, dim=_dims(axis)).int()


def _arg(name: str, fn: Any) -> Any:
    def op(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
        x = convert_to_tensor(x)
        if x.dtype == torch.bool:
            x = x.to(torch.uint8)
        if axis is None:
            out = fn(x.reshape(-1))
            return (out.reshape((1,) * x.ndim) if keepdims else out).int()
        return fn(x, dim=axis, keepdim=keepdims).int()

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The index of the {name[3:]}imum along ``axis`` (of the flattened ``x`` when None), as int32."
    return op


argmax = _arg("argmax", torch.argmax)
argmin = _arg("argmin", torch.argmin)


def sort(x: Any, axis: int | None = -1) -> Tensor:
    """``x`` sorted ascending along ``axis`` (the flattened ``x`` when None)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.dtype == torch.bool:
        return torch.sort(x.to(torch.uint8), dim=axis, stable=True).values.bool()
    return torch.sort(x, dim=axis, stable=True).values


def argsort(x: Any, axis: int | None = -1) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (stable), as int32."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.argsort(x, dim=axis, stable=True).int()


def argpartition(x: Any, kth: int, axis: int | None = -1) -> Tensor:
    """Indices that put the ``kth`` smallest element in place along ``axis``, smaller ones before and larger
    ones after (a stable argsort is one such partition)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    length = x.shape[axis]
    if not -length <= kth < length:
        raise ValueError(f"argpartition: kth={kth} is out of range for an axis of length {length}.")
    return argsort(x, axis)


def _scan_dtype(x: Tensor, dtype: Any) -> torch.dtype:
    name = promote(dtype if dtype is not None else x.dtype)
    return to_torch("int32" if name == "bool" else name)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The running sum along ``axis`` (of the flattened ``x`` when None)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumsum(x, dim=axis, dtype=_scan_dtype(x, dtype))


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The running product along ``axis`` (of the flattened ``x`` when None)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumprod(x, dim=axis, dtype=_scan_dtype(x, dtype))


def diff(a: Any, n: int = 1, axis: int = -1) -> Tensor:
    """The ``n``-th discrete difference along ``axis``."""
    return torch.diff(convert_to_tensor(a), n=n, dim=axis)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum along the ``offset`` diagonal of the plane ``(axis1, axis2)``."""
    x = convert_to_tensor(x)
    name = standardize_dtype(x.dtype)
    dtype = torch.int32 if name in _SUM_TO_INT32 else x.dtype
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=dtype)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    x = convert_to_tensor(x)
    x = x.to(_float_dtype(x))
    dims = _dims(axis) if axis is not None else tuple(range(x.ndim))
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


# ------------------------------------------------------------------------------------------------ quantiles
def _quantile(x: Any, q: Any, axis: Any, method: str, keepdims: bool, ignore_nan: bool) -> Tensor:
    x = convert_to_tensor(x)
    result = to_torch(promote(x.dtype, float))
    compute = to_torch(promote(x.dtype, "float32"))
    x = x.to(compute)
    q = q.to(compute) if isinstance(q, Tensor) else convert_to_tensor(q, compute, device=x.device)
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"quantile takes method 'linear', 'lower', 'higher', 'midpoint' or 'nearest'; received "
                         f"method={method!r}.")
    if axis is None:
        axes = list(range(x.ndim))
    else:
        axes = sorted(a % x.ndim for a in _dims(axis))
    others = [d for d in range(x.ndim) if d not in axes]
    flat = x.permute(others + axes).reshape([x.shape[d] for d in others] + [-1])
    fn = torch.nanquantile if ignore_nan else torch.quantile
    out = fn(flat, q, dim=-1, interpolation=method)  # (Q?, others...)
    if keepdims:
        lead = 1 if q.ndim else 0
        for a in axes:
            out = out.unsqueeze(a + lead)
    return out.to(result)


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """The ``q``-th quantiles (``q`` in [0, 1]) over ``axis``; a 1-D ``q`` adds a leading axis."""
    return _quantile(x, q, axis, method, keepdims, ignore_nan=False)


def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """The ``q``-th percentiles (``q`` in [0, 100]) over ``axis``."""
    return _quantile(x, convert_to_tensor(q, "float64") / 100.0, axis, method, keepdims, ignore_nan=False)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The median over ``axis`` (the mean of the two middle values for an even count)."""
    return _quantile(x, 0.5, axis, "linear", keepdims, ignore_nan=False)


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """``quantile`` ignoring NaN."""
    return _quantile(x, q, axis, method, keepdims, ignore_nan=True)


def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """``percentile`` ignoring NaN."""
    return _quantile(x, convert_to_tensor(q, "float64") / 100.0, axis, method, keepdims, ignore_nan=True)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``median`` ignoring NaN."""
    if _empty_axes(axis):
        return convert_to_tensor(x)
    return _quantile(x, 0.5, axis, "linear", keepdims, ignore_nan=True)


# ------------------------------------------------------------------------------------------------ NaN-ignoring
def _nan_filled(x: Tensor, value: float) -> Tensor:
    return torch.where(torch.isnan(x), torch.tensor(value, dtype=x.dtype, device=x.device), x)


def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``sum`` treating NaN as 0."""
    x = convert_to_tensor(x)
    return sum(_nan_filled(x, 0.0) if x.is_floating_point() else x, axis, keepdims)


def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``prod`` treating NaN as 1."""
    x = convert_to_tensor(x)
    if _empty_axes(axis):
        return torch.nan_to_num(x, nan=1)
    return prod(_nan_filled(x, 1.0) if x.is_floating_point() else x, axis, keepdims)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``mean`` over the elements that are not NaN."""
    x = convert_to_tensor(x)
    if _empty_axes(axis):
        return x
    x = x.to(to_torch(promote(x.dtype, float)))
    return torch.nanmean(x, dim=_dims(axis), keepdim=keepdims)


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``var`` over the elements that are not NaN."""
    x = convert_to_tensor(x)
    x = x.to(to_torch(promote(x.dtype, float)))
    if _empty_axes(axis):
        return torch.where(torch.isnan(x), x, torch.zeros_like(x))
    valid = ~torch.isnan(x)
    centered = torch.where(valid, x - torch.nanmean(x, dim=_dims(axis), keepdim=True), torch.zeros_like(x))
    count = valid.sum(dim=_dims(axis), keepdim=keepdims)
    return centered.square().sum(dim=_dims(axis), keepdim=keepdims) / count


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``std`` over the elements that are not NaN."""
    return torch.sqrt(nanvar(x, axis, keepdims))


def _nan_extreme(name: str, fill: float, fn: Any) -> Any:
    def op(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        x = convert_to_tensor(x)
        if not x.is_floating_point():
            return fn(x, axis=axis, keepdims=keepdims)
        if _empty_axes(axis):
            return x
        out = fn(_nan_filled(x, fill), axis=axis, keepdims=keepdims)
        everywhere = all(torch.isnan(x), axis=axis, keepdims=keepdims)
        return torch.where(everywhere, torch.tensor(float("nan"), dtype=x.dtype, device=x.device), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name[3:]}`` ignoring NaN (NaN where every element is NaN)."
    return op


nanmax = _nan_extreme("nanmax", float("-inf"), amax)
nanmin = _nan_extreme("nanmin", float("inf"), amin)


def _nan_arg(name: str, fill: float, fn: Any) -> Any:
    def op(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
        x = convert_to_tensor(x)
        if not x.is_floating_point():
            return fn(x, axis=axis, keepdims=keepdims)
        out = fn(_nan_filled(x, fill), axis=axis, keepdims=keepdims)
        everywhere = all(torch.isnan(x), axis=axis, keepdims=keepdims)
        return torch.where(everywhere, torch.tensor(-1, dtype=torch.int32, device=x.device), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name[3:]}`` ignoring NaN (-1 where every element is NaN)."
    return op


nanargmax = _nan_arg("nanargmax", float("-inf"), argmax)
nanargmin = _nan_arg("nanargmin", float("inf"), argmin)


def nancumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """``cumsum`` treating NaN as 0."""
    return cumsum(torch.nan_to_num(convert_to_tensor(x), nan=0.0), axis, dtype)


def nancumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """``cumprod`` treating NaN as 1."""
    return cumprod(torch.nan_to_num(convert_to_tensor(x), nan=1.0), axis, dtype)
