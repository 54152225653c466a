"""Tensors made from shapes and ranges, with Keras's names and default dtypes (floatx unless said otherwise)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._convert import Tensor, convert_to_tensor
from ._dtypes import promote, to_torch


def _dtype_of(value: Any) -> Any:
    return value.dtype if hasattr(value, "dtype") else type(value)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int):
        return (shape,)
    if isinstance(shape, Tensor):
        return tuple(int(s) for s in shape.tolist())
    return tuple(int(s) for s in shape)


def zeros(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of zeros (floatx by default)."""
    return torch.zeros(_shape(shape), dtype=to_torch(dtype))


def ones(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of ones (floatx by default)."""
    return torch.ones(_shape(shape), dtype=to_torch(dtype))


def empty(shape: Any, dtype: Any = None) -> Tensor:
    """An uninitialized tensor (floatx by default)."""
    return torch.empty(_shape(shape), dtype=to_torch(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (broadcast when it is an array), floatx by default."""
    value = convert_to_tensor(fill_value, dtype=to_torch(dtype))
    return torch.broadcast_to(value, _shape(shape)).clone()


def _like(x: Any, dtype: Any) -> tuple[Tensor, torch.dtype]:
    x = convert_to_tensor(x)
    return x, x.dtype if dtype is None else to_torch(dtype)


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros of the shape (and by default dtype) of ``x``."""
    x, dtype = _like(x, dtype)
    return torch.zeros_like(x, dtype=dtype)


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones of the shape (and by default dtype) of ``x``."""
    x, dtype = _like(x, dtype)
    return torch.ones_like(x, dtype=dtype)


def empty_like(x: Any, dtype: Any = None) -> Tensor:
    """An uninitialized tensor of the shape (and by default dtype) of ``x``."""
    x, dtype = _like(x, dtype)
    return torch.empty_like(x, dtype=dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` in the shape (and by default dtype) of ``x``."""
    x, dtype = _like(x, dtype)
    return full(x.shape, fill_value, dtype=dtype).to(x.device)


def array(x: Any, dtype: Any = None) -> Tensor:
    """``x`` as a tensor (``convert_to_tensor``)."""
    return convert_to_tensor(x, dtype=dtype)


def copy(x: Any) -> Tensor:
    """A copy of ``x`` that shares no memory with it."""
    return torch.clone(convert_to_tensor(x))


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> Tensor:
    """``start, start + step, ...`` below ``stop``; the dtype follows the arguments (int32 for ints)."""
    if dtype is None:
        dtype = promote(*[_dtype_of(v) for v in (start, stop, step) if v is not None])
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if step == 0:
        raise ValueError("arange needs a nonzero step; received step=0.")
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, stop, step)]
    return torch.arange(*values, dtype=to_torch(dtype))


def _space_dtype(start: Any, stop: Any, dtype: Any) -> torch.dtype:
    return to_torch(dtype if dtype is not None else promote(_dtype_of(start), _dtype_of(stop), float))


def _check_axis_zero(name: str, axis: int) -> None:
    if axis != 0:
        raise ValueError(f"{name} on torch supports only axis=0 (as Keras's torch backend); received axis={axis}. "
                         "Move the axis afterwards with ops.moveaxis(result, 0, axis).")


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Tensor | tuple[Tensor, Tensor]:
    """``num`` evenly spaced values from ``start`` to ``stop`` (inclusive when ``endpoint``); arrays of starts and
    stops give one column each (along axis 0)."""
    _check_axis_zero("linspace", axis)
    out_dtype = _space_dtype(start, stop, dtype)
    compute = torch.float64 if not out_dtype.is_floating_point else out_dtype
    start_t, stop_t = convert_to_tensor(start, compute), convert_to_tensor(stop, compute)
    divisions = (num - 1) if endpoint else num
    step = (stop_t - start_t) / divisions if divisions > 0 else torch.full_like(start_t, math.nan)
    fraction = torch.arange(num, dtype=compute).reshape((num,) + (1,) * start_t.ndim)
    values = start_t[None] + fraction * step[None] if divisions > 0 else start_t[None].expand(
        (num,) + tuple(start_t.shape))
    if endpoint and num > 1:
        values = torch.cat([values[:-1], stop_t[None]])  # the last value is exactly stop
    values = values.to(out_dtype)
    return (values, step) if retstep else values


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10, dtype: Any = None,
             axis: int = 0) -> Tensor:
    """``base ** linspace(start, stop, num, endpoint)``."""
    _check_axis_zero("logspace", axis)
    out_dtype = _space_dtype(start, stop, dtype)
    exponents = linspace(start, stop, num, endpoint=endpoint, dtype=torch.float64)
    return torch.pow(torch.tensor(float(base), dtype=torch.float64), exponents).to(out_dtype)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> Tensor:
    """``num`` values from ``start`` to ``stop`` spaced evenly on a log scale (a geometric progression)."""
    _check_axis_zero("geomspace", axis)
    out_dtype = _space_dtype(start, stop, dtype)
    start_t = convert_to_tensor(start, torch.float64)
    stop_t = convert_to_tensor(stop, torch.float64)
    if bool((start_t == 0).any()) or bool((stop_t == 0).any()):
        raise ValueError("geomspace needs nonzero start and stop (a geometric sequence cannot hold 0); received "
                         f"start={start!r}, stop={stop!r}.")
    exponents = linspace(torch.log10(start_t.abs()), torch.log10(stop_t.abs()), num, endpoint=endpoint,
                         dtype=torch.float64)
    return (torch.pow(10.0, exponents) * torch.sign(start_t)).to(out_dtype)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    """An ``N x M`` matrix with ones on the ``k``-th diagonal."""
    M = N if M is None else M
    rows = torch.arange(N)[:, None]
    cols = torch.arange(M)[None, :]
    return (cols - rows == (k or 0)).to(to_torch(dtype))


def identity(n: int, dtype: Any = None) -> Tensor:
    """The ``n x n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    """Ones at and below the ``k``-th diagonal of an ``N x M`` matrix."""
    M = N if M is None else M
    return torch.tril(torch.ones((N, M), dtype=to_torch(dtype)), diagonal=k)


def meshgrid(*x: Any, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D coordinate vectors (``indexing`` 'xy' cartesian or 'ij' matrix)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid takes indexing='xy' or 'ij'; received indexing={indexing!r}.")
    return list(torch.meshgrid(*[convert_to_tensor(v) for v in x], indexing=indexing))


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix: columns are powers of ``x`` (decreasing unless ``increasing``)."""
    x = convert_to_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander takes a 1-D x; received shape {tuple(x.shape)}.")
    return torch.vander(x, N=N, increasing=increasing).to(to_torch(promote(x.dtype)))


def _window(name: str, fn: Any) -> Any:
    def op(x: int) -> Tensor:
        length = int(convert_to_tensor(x).item())
        return fn(length, sym=True, dtype=to_torch(None))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The {name} window of ``x`` points (numpy's ``{name}``)."
    return op


bartlett = _window("bartlett", torch.signal.windows.bartlett)
blackman = _window("blackman", torch.signal.windows.blackman)
hamming = _window("hamming", torch.signal.windows.hamming)
hanning = _window("hanning", torch.signal.windows.hann)


def kaiser(x: int, beta: float) -> Tensor:
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    length = int(convert_to_tensor(x).item())
    return torch.signal.windows.kaiser(length, beta=float(beta), sym=True, dtype=to_torch(None))

