"""Keras's core ops on torch: conversion, control flow (``cond``, ``scan``, loops, ``switch``, ``map``),
scatter and slice updates, and gradient helpers.

Control flow runs eagerly in python, as Keras's torch backend runs it: ``cond`` calls one branch, ``scan`` and the
loops iterate, so gradients flow through every step with torch's autograd.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..utils._tree import flatten_structure, map_structure
from ._convert import Tensor, cast, convert_to_numpy, convert_to_tensor, dtype, is_tensor, saturate_cast, shape

__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient", "dtype",
    "fori_loop", "is_tensor", "map", "saturate_cast", "scan", "scatter", "scatter_update", "shape", "slice",
    "slice_update", "stop_gradient", "switch", "unstack", "vectorized_map", "while_loop",
]


def _pack(structure: Any, leaves: Sequence[Any]) -> Any:
    """``leaves`` (in ``flatten_structure`` order) arranged as ``structure``."""
    it = iter(leaves)
    return map_structure(lambda _: next(it), structure)


def _is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple, dict))


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """``true_fn()`` if ``pred`` holds, else ``false_fn()``."""
    if isinstance(pred, Tensor) and pred.numel() != 1:
        raise ValueError(f"cond needs a scalar predicate; received a tensor of shape {tuple(pred.shape)}. Reduce it "
                         "first, e.g. ops.all(pred) or ops.any(pred).")
    return true_fn() if bool(pred) else false_fn()


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """``branches[index](*operands)``, with ``index`` clamped to the valid range (as Keras does)."""
    if not branches:
        raise ValueError("switch needs at least one branch; received an empty list.")
    position = int(convert_to_tensor(index, "int32"))
    operands = map_structure(convert_to_tensor, operands)
    return branches[builtins.min(builtins.max(position, 0), len(branches) - 1)](*operands)


def _check_callable(name: str, f: Any) -> None:
    if not callable(f):
        raise TypeError(f"{name} needs a callable; received {f!r} ({type(f).__name__}).")


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int | bool = 1) -> tuple[Any, Any]:
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs`` (or ``length`` times with ``x=None``);
    returns the last carry and the ``y`` stacked along a new leading axis (in the order of ``xs``)."""
    _check_callable("scan", f)
    if isinstance(unroll, bool) is False and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"scan: unroll must be a positive integer or a boolean; received unroll={unroll!r}.")
    if xs is None and length is None:
        raise ValueError("scan needs xs to scan over, or length= to loop that many times with x=None.")
    xs_flat = [] if xs is None else [convert_to_tensor(x) for x in flatten_structure(xs)]
    n = int(length) if length is not None else xs_flat[0].shape[0]
    if any(x.shape[0] != n for x in xs_flat):
        raise ValueError(f"scan: every array in xs needs a leading axis of length {n}; received shapes "
                         f"{[tuple(x.shape) for x in xs_flat]}.")
    carry = _pack(init, [convert_to_tensor(v) for v in flatten_structure(init)])
    ys: list[Any] = []
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        x = None if xs is None else _pack(xs, [v[i] for v in xs_flat]) if _is_nested(xs) else xs_flat[0][i]
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        placeholder = [torch.zeros((n,) + tuple(convert_to_tensor(v).shape)) for v in flatten_structure(init)]
        return carry, _pack(init, placeholder) if _is_nested(init) else placeholder[0]
    columns = zip(*[[convert_to_tensor(v) for v in flatten_structure(y)] for y in ys])
    return carry, _pack(ys[0], [torch.stack(column) for column in columns])


def associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """The inclusive prefix scan of ``elems`` along ``axis`` with the associative ``f`` (``f(a, b)`` combines two
    slices), so ``associative_scan(add, x)`` is ``cumsum(x)``. Runs in log2(n) rounds of ``f``."""
    _check_callable("associative_scan", f)
    leaves = [convert_to_tensor(v) for v in flatten_structure(elems)]
    n = leaves[0].shape[axis]
    if any(v.shape[axis] != n for v in leaves):
        raise ValueError(f"associative_scan needs every array to have length {n} on axis {axis}; received shapes "
                         f"{[tuple(v.shape) for v in leaves]}.")
    if reverse:
        leaves = [torch.flip(v, (axis,)) for v in leaves]

    def combine(a: list[Tensor], b: list[Tensor]) -> list[Tensor]:
        out = f(_pack(elems, a), _pack(elems, b))
        return [convert_to_tensor(v) for v in flatten_structure(out)]

    # Hillis-Steele: after the round with offset d, position i holds the combination of [i - 2d + 1, i].
    offset = 1
    while offset < n:
        head = [v.narrow(axis, 0, offset) for v in leaves]
        combined = combine([v.narrow(axis, 0, n - offset) for v in leaves],
                           [v.narrow(axis, offset, n - offset) for v in leaves])
        leaves = [torch.cat([h, c], dim=axis) for h, c in zip(head, combined)]
        offset *= 2
    if reverse:
        leaves = [torch.flip(v, (axis,)) for v in leaves]
    return _pack(elems, leaves)


def map(f: Callable[[Any], Any], xs: Any) -> Any:
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked."""
    _check_callable("map", f)
    return scan(lambda carry, x: (carry, f(x)), (), xs)[1]


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """``function`` over the leading axis of ``elements``, vectorized with ``torch.vmap``."""
    _check_callable("vectorized_map", function)
    if _is_nested(elements):
        elements = map_structure(convert_to_tensor, elements)
        return torch.vmap(function)(elements)
    return torch.vmap(function)(convert_to_tensor(elements))


def vectorize(pyfunc: Callable[..., Any], *, excluded: set | None = None, signature: str | None = None) -> Callable:
    """``pyfunc`` vectorized over the leading axes of its tensor arguments (numpy's ``vectorize``); a
    ``signature`` like ``'(n),(n)->()'`` names the core axes each call sees."""
    _check_callable("vectorize", pyfunc)
    excluded = set(excluded or ())

    def core_ranks(part: str) -> list[int]:
        return [len([d for d in group.split(",") if d.strip()]) for group in part.strip()[1:-1].split("),(")] \
            if part.strip() not in ("", "()") else [0]

    ins = core_ranks(signature.split("->")[0]) if signature else None

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        positions = [i for i in range(len(args)) if i not in excluded]
        tensors_in = {i: convert_to_tensor(args[i]) for i in positions}
        ranks = [tensors_in[i].ndim - (ins[k] if ins else 0) for k, i in enumerate(positions)]
        batch = np.broadcast_shapes(*[tuple(tensors_in[i].shape[:r]) for i, r in zip(positions, ranks)]) \
            if positions else ()
        for k, i in enumerate(positions):
            core = tuple(tensors_in[i].shape[ranks[k]:])
            tensors_in[i] = tensors_in[i].expand(tuple(batch) + core)

        def call(*vec: Any) -> Any:
            full = list(args)
            for i, v in zip(positions, vec):
                full[i] = v
            return pyfunc(*full, **kwargs)

        fn = call
        for _ in batch:
            fn = torch.vmap(fn)
        return fn(*[tensors_in[i] for i in positions])

    return wrapped


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds (at most ``maximum_iterations``
    times); a list or tuple of loop variables is passed positionally."""
    _check_callable("while_loop", cond)
    _check_callable("while_loop", body)
    positional = isinstance(loop_vars, (list, tuple))
    state = tuple(map_structure(convert_to_tensor, list(loop_vars) if positional else [loop_vars]))
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(cond(*state)):
        out = body(*state)
        state = tuple(out) if isinstance(out, (list, tuple)) else (out,)
        count += 1
    return state if positional else state[0]


def fori_loop(lower: int, upper: int, body_fun: Callable[[Any, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    _check_callable("fori_loop", body_fun)
    val = map_structure(convert_to_tensor, init_val)
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def stop_gradient(variable: Any) -> Tensor:
    """``variable`` with no gradient flowing back through it."""
    return convert_to_tensor(variable).detach()


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[Tensor]:
    """``x`` split into its slices along ``axis``."""
    x = convert_to_tensor(x)
    if num is not None and x.shape[axis] != num:
        raise ValueError(f"unstack: axis {axis} of a tensor of shape {tuple(x.shape)} has length {x.shape[axis]}, "
                         f"not num={num}.")
    return list(x.unbind(axis))


def _index_tuples(indices: Any, device: torch.device) -> Tensor:
    indices = convert_to_tensor(indices, device=device)
    if indices.is_floating_point() or indices.dtype == torch.bool:
        raise TypeError("scatter indices must be integers; received dtype "
                        f"{str(indices.dtype).split('.')[-1]}.")
    return indices.long()


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (each row of the last axis one index into
    the leading axes; repeated indices add up)."""
    values = convert_to_tensor(values)
    idx = _index_tuples(indices, values.device)
    shape = tuple(int(s) for s in shape)
    depth = idx.shape[-1]
    if depth > len(shape):
        raise ValueError(f"scatter: indices of depth {depth} cannot index a tensor of rank {len(shape)}.")
    idx = idx.reshape(-1, depth)
    values = values.reshape((-1,) + shape[depth:])
    out = torch.zeros(shape, dtype=values.dtype, device=values.device)
    return out.index_put(tuple(idx.T), values, accumulate=True)


def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None) -> Tensor:
    """``inputs`` with ``updates`` written at ``indices`` (rows index the leading axes); ``reduction`` 'add',
    'max', 'min' or 'mul' combines them with the existing values instead of replacing them."""
    inputs = convert_to_tensor(inputs)
    idx = _index_tuples(indices, inputs.device)
    updates = convert_to_tensor(updates, inputs.dtype, device=inputs.device)
    if reduction is not None:
        reduction = reduction.lower()
    if reduction not in (None, "add", "max", "min", "mul"):
        raise ValueError(f"scatter_update takes reduction None, 'add', 'max', 'min' or 'mul'; received "
                         f"reduction={reduction!r}.")
    key = tuple(idx.reshape(-1, idx.shape[-1]).T)
    updates = updates.reshape((-1,) + tuple(inputs.shape[idx.shape[-1]:]))
    if reduction is None:
        out = inputs.clone()
        out[key] = updates
        return out
    if reduction == "add":
        return inputs.index_put(key, updates, accumulate=True)
    flat_index = torch.zeros(updates.shape[0], dtype=torch.long, device=inputs.device)
    for axis, component in enumerate(key):
        flat_index = flat_index * inputs.shape[axis] + component
    lead = int(np.prod(inputs.shape[:len(key)]))
    flat = inputs.reshape((lead, -1))
    src = updates.reshape((updates.shape[0], -1))
    mode = {"max": "amax", "min": "amin", "mul": "prod"}[reduction]
    out = flat.scatter_reduce(0, flat_index[:, None].expand(src.shape), src, mode, include_self=True)
    return out.reshape(inputs.shape)


def _starts(start_indices: Any) -> list[int]:
    if isinstance(start_indices, Tensor):
        return [int(v) for v in start_indices.reshape(-1).tolist()]
    return [int(v) for v in (start_indices if isinstance(start_indices, (list, tuple)) else
                             np.asarray(start_indices).reshape(-1))]


def slice(inputs: Any, start_indices: Any, shape: Sequence[int]) -> Tensor:
    """The block of ``inputs`` of ``shape`` starting at ``start_indices``."""
    x = convert_to_tensor(inputs)
    starts, sizes = _starts(start_indices), _starts(shape)
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(f"slice needs one start and one length per axis ({x.ndim}); received start_indices="
                         f"{starts} and shape={sizes}.")
    for axis, (start, length) in enumerate(zip(starts, sizes)):
        x = x.narrow(axis, start, x.shape[axis] - start if length == -1 else length)
    return x


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    x = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, device=x.device)
    starts = _starts(start_indices)
    if len(starts) != x.ndim or updates.ndim != x.ndim:
        raise ValueError(f"slice_update needs one start per axis and updates of the rank of inputs ({x.ndim}); "
                         f"received start_indices={starts} and updates of shape {tuple(updates.shape)}.")
    key = tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))
    out = x.clone()
    out[key] = updates.to(x.dtype)
    return out


class custom_gradient:  # noqa: N801 - Keras's name
    """Decorator for a function that returns ``(output, grad_fn)``; ``grad_fn(*args, upstream=...)`` (or
    ``grad_fn(upstream)``) gives the gradients of the tensor arguments."""

    def __init__(self, forward_fn: Callable[..., Any]):
        _check_callable("custom_gradient", forward_fn)
        self.forward_fn = forward_fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _CustomGradient.apply(self.forward_fn, kwargs, *args)


class _CustomGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, forward_fn: Callable[..., Any], kwargs: dict, *args: Any) -> Any:
        output, grad_fn = forward_fn(*args, **kwargs)
        ctx.grad_fn = grad_fn
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return output.detach() if isinstance(output, Tensor) else output

    @staticmethod
    def backward(ctx: Any, upstream: Tensor) -> Any:
        args = ctx.saved_tensors
        try:
            grads = ctx.grad_fn(*args, upstream=upstream)
        except TypeError:
            grads = ctx.grad_fn(upstream)
        grads = grads if isinstance(grads, (list, tuple)) else (grads,)
        return (None, None) + tuple(grads)
