"""Shape and indexing ops with Keras's names: reshape, join, split, tile, gather, pad, flip, triangles, ..."""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ._convert import Tensor, convert_to_tensor, tensors
from ._dtypes import promote, standardize_dtype, to_torch


def _axes(axis: Any) -> tuple[int, ...] | None:
    if axis is None:
        return None
    return tuple(axis) if isinstance(axis, (list, tuple)) else (int(axis),)


def canonical_axis(axis: int, ndim: int, op: str = "op") -> int:
    """``axis`` in ``[0, ndim)``; a clear error when it is out of range."""
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of rank {ndim}; pass an axis in "
                         f"[{-ndim}, {ndim - 1}].")
    return axis % ndim if ndim else 0


def _int_list(values: Any) -> list[int]:
    if isinstance(values, Tensor):
        return [int(v) for v in values.reshape(-1).tolist()]
    if isinstance(values, (int, np.integer)):
        return [int(values)]
    return [int(v) for v in np.asarray(values).reshape(-1)]


def reshape(x: Any, newshape: Any) -> Tensor:
    """``x`` in ``newshape`` (one entry may be -1)."""
    x = convert_to_tensor(x)
    shape = tuple(_int_list(newshape))
    known = int(np.prod([s for s in shape if s != -1]))
    size = x.numel()
    if shape.count(-1) > 1 or (-1 not in shape and known != size) or (-1 in shape and (known == 0 or
                                                                                       size % known)):
        raise ValueError(f"Cannot reshape a tensor of shape {tuple(x.shape)} ({size} elements) into {shape}; "
                         "the new shape must hold the same number of elements (at most one -1).")
    return torch.reshape(x, shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    x = convert_to_tensor(x)
    if axes is None:
        return torch.permute(x, tuple(reversed(range(x.ndim))))
    axes = tuple(axes)
    if sorted(a % builtins.max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose needs a permutation of the {x.ndim} axes of a tensor of shape "
                         f"{tuple(x.shape)}; received axes={axes}.")
    return torch.permute(x, axes)


def expand_dims(x: Any, axis: Any) -> Tensor:
    """``x`` with new axes of length 1 at ``axis`` (an int or a tuple, positions in the result)."""
    x = convert_to_tensor(x)
    axes = _axes(axis)
    out_ndim = x.ndim + len(axes)
    bad = [a for a in axes if not -out_ndim <= a < out_ndim]
    if bad:
        raise ValueError(f"expand_dims: axis {bad[0]} is out of range for a tensor of rank {x.ndim} (shape "
                         f"{tuple(x.shape)}) growing to rank {out_ndim}; pass axes in [{-out_ndim}, {out_ndim - 1}].")
    for a in sorted(a % out_ndim for a in axes):
        x = torch.unsqueeze(x, a)
    return x


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """``x`` without its axes of length 1 (only ``axis`` when given; it must have length 1)."""
    x = convert_to_tensor(x)
    if axis is None:
        return torch.squeeze(x)
    axes = tuple(canonical_axis(a, x.ndim, "squeeze") for a in _axes(axis))
    bad = [a for a in axes if x.shape[a] != 1]
    if bad:
        raise ValueError(f"squeeze: axis {bad[0]} of a tensor of shape {tuple(x.shape)} has length "
                         f"{x.shape[bad[0]]}, not 1; only axes of length 1 can be squeezed.")
    return torch.squeeze(x, axes)


def ravel(x: Any) -> Tensor:
    """``x`` flattened to one axis."""
    return torch.ravel(convert_to_tensor(x))


def ndim(x: Any) -> int:
    """The rank of ``x``."""
    return convert_to_tensor(x).ndim


def size(x: Any) -> Tensor:
    """The number of elements of ``x`` (an int64 scalar tensor, as Keras gives on torch)."""
    return torch.tensor(convert_to_tensor(x).numel(), dtype=torch.int64)


def _joinable(xs: Any) -> list[Tensor]:
    if isinstance(xs, Tensor):
        return list(torch.unbind(xs))
    return tensors(*xs)


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """``xs`` joined along an existing ``axis``."""
    xs = _joinable(xs)
    if not xs:
        raise ValueError("concatenate needs at least one tensor; received an empty list.")
    ranks = {x.ndim for x in xs}
    if len(ranks) > 1:
        raise ValueError(f"concatenate needs tensors of one rank; received shapes {[tuple(x.shape) for x in xs]}.")
    return torch.cat(xs, dim=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors of ``x`` (one shape) stacked along a new ``axis``."""
    xs = _joinable(x)
    shapes = {tuple(t.shape) for t in xs}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape; received shapes {[tuple(t.shape) for t in xs]}.")
    return torch.stack(xs, dim=axis)


def hstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 1 (axis 0 for 1-D tensors)."""
    return torch.hstack(_joinable(xs))


def vstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 0 (1-D tensors become rows)."""
    return torch.vstack(_joinable(xs))


def dstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 2 (after making every tensor at least 3-D)."""
    return torch.dstack(_joinable(xs))


def append(x1: Any, x2: Any, axis: int | None = None) -> Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when None)."""
    x1, x2 = tensors(x1, x2)
    if axis is None:
        return torch.cat((x1.reshape(-1), x2.reshape(-1)))
    return torch.cat((x1, x2), dim=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into equal sections (an int that divides the axis) or at the given indices."""
    x = convert_to_tensor(x)
    axis = canonical_axis(axis, x.ndim, "split")
    length = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ValueError(f"split: axis {axis} of a tensor of shape {tuple(x.shape)} has length {length}, "
                             f"which {sections} sections do not divide; pass a divisor or a list of split indices "
                             "(or use ops.array_split for unequal sections).")
        return list(torch.tensor_split(x, sections, dim=axis))
    return list(torch.tensor_split(x, _int_list(indices_or_sections), dim=axis))


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into ``indices_or_sections`` nearly equal parts (or at the given indices)."""
    x = convert_to_tensor(x)
    if isinstance(indices_or_sections, (int, np.integer)):
        return list(torch.tensor_split(x, int(indices_or_sections), dim=axis))
    return list(torch.tensor_split(x, _int_list(indices_or_sections), dim=axis))


def hsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``split`` along axis 1 (axis 0 for 1-D tensors)."""
    x = convert_to_tensor(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``split`` along axis 0."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``split`` along axis 2."""
    return split(x, indices_or_sections, axis=2)


def tile(x: Any, repeats: Any) -> Tensor:
    """``x`` repeated ``repeats`` times per axis."""
    return torch.tile(convert_to_tensor(x), tuple(_int_list(repeats)))


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (of the flattened ``x`` when None)."""
    x = convert_to_tensor(x)
    counts = repeats if isinstance(repeats, (int, np.integer)) else convert_to_tensor(repeats, "int64",
                                                                                      device=x.device)
    return torch.repeat_interleave(x, counts, dim=axis)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` (numpy's rules)."""
    x = convert_to_tensor(x)
    shape = tuple(_int_list(shape))
    try:
        return torch.broadcast_to(x, shape)
    except RuntimeError:
        raise ValueError(f"Cannot broadcast a tensor of shape {tuple(x.shape)} to {shape}: each axis must equal "
                         "the target's or be 1.") from None


def _indices(indices: Any, x: Tensor, length: int) -> Tensor:
    indices = convert_to_tensor(indices, device=x.device)
    if indices.is_floating_point() or indices.dtype == torch.bool:
        raise TypeError(f"Indices must be integers; received dtype {standardize_dtype(indices.dtype)}. Cast them "
                        "with ops.cast(indices, 'int32').")
    indices = indices.long()
    return torch.where(indices < 0, indices + length, indices)


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """The elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = canonical_axis(axis, x.ndim, "take")
    idx = _indices(indices, x, x.shape[axis])
    out = torch.index_select(x, axis, idx.reshape(-1))
    return out.reshape(tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1:]))


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """``x`` gathered along ``axis`` at ``indices`` of the same rank (broadcast on the other axes)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = canonical_axis(axis, x.ndim, "take_along_axis")
    idx = _indices(indices, x, x.shape[axis])
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis needs indices of the rank of x ({x.ndim}); received indices of shape "
                         f"{tuple(idx.shape)} for x of shape {tuple(x.shape)}.")
    shape = [builtins.max(a, b) for a, b in zip(x.shape, idx.shape)]
    x_shape, idx_shape = list(shape), list(shape)
    x_shape[axis], idx_shape[axis] = x.shape[axis], idx.shape[axis]
    return torch.gather(x.expand(x_shape), axis, idx.expand(idx_shape))


def _pad_pairs(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    width = np.asarray(pad_width, dtype=np.int64)
    if width.ndim == 0:
        width = np.full((ndim, 2), int(width))
    elif width.shape == (2,) or width.shape == (1, 2):
        width = np.tile(width.reshape(1, 2), (ndim, 1))
    if width.shape != (ndim, 2):
        raise ValueError(f"pad needs pad_width as ((before, after),) per axis, {ndim} pairs for a rank-{ndim} "
                         f"tensor; received pad_width of shape {width.shape}.")
    return [(int(a), int(b)) for a, b in width]


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """``x`` padded by ``pad_width`` per axis; mode 'constant', 'reflect' or 'symmetric'."""
    x = convert_to_tensor(x)
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values is only for mode='constant'; received mode={mode!r}.")
    pairs = _pad_pairs(pad_width, x.ndim)
    if mode == "constant":
        flat = [v for pair in reversed(pairs) for v in pair]
        return F.pad(x, flat, value=0 if constant_values is None else constant_values)
    if mode not in ("reflect", "symmetric", "edge", "wrap"):
        raise ValueError(f"pad takes mode 'constant', 'reflect', 'symmetric', 'edge' or 'wrap'; received "
                         f"mode={mode!r}.")
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            x = _pad_axis(x, axis, before, after, mode)
    return x


def _pad_axis(x: Tensor, axis: int, before: int, after: int, mode: str) -> Tensor:
    """numpy's index rule for one axis: reflect (edge not repeated), symmetric (repeated), edge, wrap."""
    n = x.shape[axis]
    positions = torch.arange(-before, n + after)
    if mode == "edge":
        index = positions.clamp(0, n - 1)
    elif mode == "wrap":
        index = positions % n
    else:
        period = 2 * n - 2 if mode == "reflect" else 2 * n
        if period == 0:
            index = torch.zeros_like(positions)
        else:
            folded = positions % period
            index = torch.where(folded < n, folded, period - folded - (0 if mode == "reflect" else 1))
    return torch.index_select(x, axis, index.to(x.device))


def flip(x: Any, axis: Any = None) -> Tensor:
    """``x`` reversed along ``axis`` (every axis when None)."""
    x = convert_to_tensor(x)
    return torch.flip(x, tuple(range(x.ndim)) if axis is None else _axes(axis))


def fliplr(x: Any) -> Tensor:
    """``x`` reversed along axis 1."""
    return torch.fliplr(convert_to_tensor(x))


def flipud(x: Any) -> Tensor:
    """``x`` reversed along axis 0."""
    return torch.flipud(convert_to_tensor(x))


def rot90(array: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Tensor:
    """``array`` rotated by ``k`` quarter turns in the plane of ``axes``."""
    x = convert_to_tensor(array)
    if x.ndim < 2 or len(axes) != 2 or axes[0] % x.ndim == axes[1] % x.ndim:
        raise ValueError(f"rot90 needs a tensor of rank >= 2 and two different axes; received shape "
                         f"{tuple(x.shape)} and axes={tuple(axes)}.")
    return torch.rot90(x, k, tuple(axes))


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """``x`` shifted cyclically by ``shift`` along ``axis`` (of the flattened tensor when None)."""
    x = convert_to_tensor(x)
    shifts = tuple(_int_list(shift))
    if axis is None:
        return torch.roll(x.reshape(-1), builtins.sum(shifts)).reshape(x.shape)
    return torch.roll(x, shifts if len(shifts) > 1 else shifts[0], _axes(axis) if len(shifts) > 1 else axis)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged."""
    return torch.swapaxes(convert_to_tensor(x), axis1, axis2)


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """``x`` with the axes ``source`` moved to ``destination``."""
    return torch.moveaxis(convert_to_tensor(x), source, destination)


def diag(x: Any, k: int = 0) -> Tensor:
    """The ``k``-th diagonal of a matrix, or the matrix with a vector on its ``k``-th diagonal."""
    x = convert_to_tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag takes a 1-D or 2-D tensor; received shape {tuple(x.shape)}. For batches use "
                         "ops.diagonal.")
    return torch.diag(x, k)


def diagflat(x: Any, k: int = 0) -> Tensor:
    """A matrix with the flattened ``x`` on its ``k``-th diagonal."""
    return torch.diagflat(convert_to_tensor(x), k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonals of ``x`` in the plane ``(axis1, axis2)``, as its last axis."""
    return torch.diagonal(convert_to_tensor(x), offset, axis1, axis2)


def tril(x: Any, k: int = 0) -> Tensor:
    """``x`` with the elements above the ``k``-th diagonal zeroed (last two axes)."""
    return torch.tril(convert_to_tensor(x), k)


def triu(x: Any, k: int = 0) -> Tensor:
    """``x`` with the elements below the ``k``-th diagonal zeroed (last two axes)."""
    return torch.triu(convert_to_tensor(x), k)


def nonzero(x: Any) -> Tensor:
    """The indices of the nonzero elements as an int32 tensor of shape (rank, count): one row per axis, so
    ``rows, cols = nonzero(m)`` unpacks as with numpy."""
    x = convert_to_tensor(x)
    return torch.nonzero(x).T.int()


def unravel_index(indices: Any, shape: Sequence[int]) -> tuple[Tensor, ...]:
    """Flat indices as a tuple of coordinate tensors for ``shape``."""
    indices = convert_to_tensor(indices)
    dtype = to_torch(promote(indices.dtype))
    return tuple(i.to(dtype) for i in torch.unravel_index(indices, tuple(shape)))


def view(x: Any, dtype: Any = None) -> Tensor:
    """The bytes of ``x`` read as ``dtype``."""
    return convert_to_tensor(x).view(to_torch(dtype))


def get_item(x: Any, key: Any) -> Tensor:
    """``x[key]``."""
    x = convert_to_tensor(x)
    if isinstance(key, (list, np.ndarray)):
        key = convert_to_tensor(key, device=x.device)
    return x[key]


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Tensor:
    """Where ``values`` would be inserted into the 1-D ``sorted_sequence`` to keep it sorted."""
    sequence, values = tensors(sorted_sequence, values)
    if sequence.ndim != 1:
        raise ValueError(f"searchsorted takes a 1-D sorted_sequence; received shape {tuple(sequence.shape)}. Use "
                         "ops.vectorized_map for batches.")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted takes side='left' or 'right'; received side={side!r}.")
    dtype = to_torch(promote(sequence.dtype, values.dtype))
    return torch.searchsorted(sequence.to(dtype), values.to(dtype), side=side, out_int32=True)


def digitize(x: Any, bins: Any) -> Tensor:
    """The index of the bin of each element of ``x`` (``bins`` increasing), as int32."""
    x, bins = tensors(x, bins)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.bucketize(x, bins, right=True).int()


def unique(x: Any, sorted: bool = True, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, size: int | None = None,
           fill_value: Any = None) -> Any:
    """The sorted unique values of ``x`` (and optionally first indices, inverse indices and counts); ``size``
    truncates or pads the values (with ``fill_value``, default 0) to a fixed length."""
    x = convert_to_tensor(x)
    flat = x.reshape(-1) if axis is None else x
    dim = 0 if axis is None else canonical_axis(axis, x.ndim, "unique")
    values, inverse, counts = torch.unique(flat, sorted=True, return_inverse=True, return_counts=True, dim=dim)
    n = values.shape[dim]
    first = torch.full((n,), flat.shape[dim], dtype=torch.int64, device=x.device)
    first = first.scatter_reduce(0, inverse.reshape(-1), torch.arange(inverse.numel(), device=x.device),
                                 reduce="amin")
    if size is not None:
        keep = builtins.min(size, n)
        values = values.narrow(dim, 0, keep)
        counts, first = counts[:keep], first[:keep]
        if n < size:
            widths = [0, 0] * values.ndim
            widths[2 * (values.ndim - 1 - dim) + 1] = size - n
            values = F.pad(values, widths, value=0 if fill_value is None else fill_value)
            counts = F.pad(counts, (0, size - n))
            first = F.pad(first, (0, size - n))
    out = [values]
    if return_index:
        out.append(first)
    if return_inverse:
        out.append(inverse.reshape(x.shape) if axis is None else inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)
