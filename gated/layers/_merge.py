"""Merge layers with Keras's names and semantics: ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum`` (element-wise, on one ``Merge`` base), ``Concatenate`` and ``Dot``; and Keras's functional forms
``add``, ``subtract``, ``multiply``, ``average``, ``maximum``, ``minimum``, ``concatenate``, ``dot``, each of which
builds its layer and calls it on the inputs (symbolic placeholders or real tensors), as ``layers.add([a, b])`` does
in Keras.

The element-wise merges take a list of tensors with one batch size whose other axes broadcast (a size-1 axis
stretches); an input of lower rank gets size-1 axes inserted after the batch axis, as Keras does. Masks combine as
Keras combines them: the output mask is the OR of the inputs' masks when every input has one (else none);
``Multiply`` reads masked entries as 1 and zeroes the output where every input is masked, ``Maximum`` / ``Minimum``
take masked entries from the other inputs; ``Concatenate`` concatenates the masks (an unmasked input counts as all
True) and reduces the last axis with ``any``; ``Dot`` drops the mask.
Shape legend: B batch, T timesteps, F features.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from ._base import Layer, describe_array


def _received(inputs: Any) -> str:
    if isinstance(inputs, torch.Tensor):
        return describe_array(inputs)
    if isinstance(inputs, (list, tuple)):
        return f"a list of {len(inputs)} input{'s' if len(inputs) != 1 else ''}"
    return repr(type(inputs).__name__)


def _broadcast_rest(layer: Layer, shapes: Sequence[tuple]) -> tuple:
    """The element-wise result of the non-batch axes of ``shapes`` (None where unknown), or a clear error."""
    out: tuple | None = None
    for shape in shapes:
        rest = tuple(shape[1:])
        if out is None:
            out = rest
            continue
        longer, shorter = (out, rest) if len(out) >= len(rest) else (rest, out)
        merged = list(longer[:len(longer) - len(shorter)])
        for i, j in zip(longer[len(longer) - len(shorter):], shorter):
            if i is None or j is None:
                merged.append(None)
            elif i == 1 or j == 1 or i == j:
                merged.append(j if i == 1 else i)
            else:
                raise ValueError(
                    f"{layer._describe()} merges element-wise, so its inputs need one shape (or sizes of 1 that "
                    f"broadcast), but received shapes {[tuple(s) for s in shapes]}. Bring them to one shape first, "
                    "e.g. with a Dense layer of the same units on each branch."
                )
        out = tuple(merged)
    return out


def _check_batch(layer: Layer, shapes: Sequence[tuple]) -> Any:
    sizes = {s[0] for s in shapes if s and s[0] is not None}
    if len(sizes) > 1:
        raise ValueError(f"{layer._describe()} cannot merge tensors with different batch sizes, but received shapes "
                         f"{[tuple(s) for s in shapes]}. Pass inputs holding the same samples.")
    return next(iter(sizes), None)


def _full_mask(mask: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor | None:
    """A (B, T) mask broadcast over the features of x (B, T, F); None stays None."""
    if mask is None:
        return None
    mask = mask.bool()
    return (mask[..., None] if mask.ndim < x.ndim else mask).expand(x.shape)


class Merge(Layer):
    """The base of the element-wise merges: input checks, the rank alignment, the output shape and the OR mask.
    A subclass defines ``_merge(inputs, masks)``; ``masks`` are the inputs' masks, or None."""

    supports_masking = True
    _exact_inputs: int | None = None  # Subtract and Dot take exactly two

    def validate_input(self, inputs: Any) -> None:
        count = self._exact_inputs
        ok = isinstance(inputs, (list, tuple)) and all(isinstance(x, torch.Tensor) for x in inputs) and (
            len(inputs) == count if count else len(inputs) >= 2)
        if not ok:
            wanted = f"exactly {count} tensors" if count else "at least 2 tensors"
            raise ValueError(f"{self._describe()} expects a list of {wanted}, but received {_received(inputs)}. "
                             "Call it as layer([a, b]).")
        shapes = [tuple(x.shape) for x in inputs]
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"{self._describe()} merges batches of samples, but received shapes {shapes}, including "
                             "a scalar. Give every input a batch axis.")
        self._check_shapes(shapes)

    def _check_shapes(self, shapes: list[tuple]) -> None:
        _check_batch(self, shapes)
        _broadcast_rest(self, shapes)

    def forward(self, inputs: Sequence[torch.Tensor], mask: Any = None) -> torch.Tensor:
        inputs = list(inputs)
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(inputs)
        rank = max(x.ndim for x in inputs)
        if any(x.ndim != rank for x in inputs):
            # (B, F) with (B, T, F): size-1 axes after the batch axis; the masks stay with the original tensors
            inputs = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in inputs]
            masks = [None] * len(inputs)
        return self._merge(inputs, masks)

    def _merge(self, inputs: list[torch.Tensor], masks: list[torch.Tensor | None]) -> torch.Tensor:
        raise NotImplementedError

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        if mask is None or not isinstance(mask, (list, tuple)) or any(m is None for m in mask):
            return None
        out = mask[0].bool()
        for m in mask[1:]:
            out = out | m.bool()
        return out

    def compute_output_shape(self, input_shape: list) -> tuple:
        if not isinstance(input_shape, list) or not all(isinstance(s, tuple) for s in input_shape):
            raise ValueError(f"{self._describe()} expects a list of inputs, but received one input of shape "
                             f"{input_shape}. Call it as layer([a, b]).")
        count = self._exact_inputs
        if (count and len(input_shape) != count) or len(input_shape) < 2:
            wanted = f"exactly {count}" if count else "at least 2"
            raise ValueError(f"{self._describe()} expects {wanted} inputs, but received {len(input_shape)}.")
        return self._output_shape(input_shape)

    def _output_shape(self, shapes: list[tuple]) -> tuple:
        return (_check_batch(self, shapes),) + _broadcast_rest(self, shapes)


class Add(Merge):
    """Sums a list of tensors element-wise: [(B, T, F), (B, T, F)] -> (B, T, F)."""

    def _merge(self, inputs: list[torch.Tensor], masks: list) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(Merge):
    """``inputs[0] - inputs[1]``, element-wise; exactly two inputs."""

    _exact_inputs = 2

    def _merge(self, inputs: list[torch.Tensor], masks: list) -> torch.Tensor:
        return inputs[0] - inputs[1]


class Average(Merge):
    """The element-wise mean of a list of tensors."""

    def _merge(self, inputs: list[torch.Tensor], masks: list) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Multiply(Merge):
    """The element-wise product; a masked entry counts as 1, and where every input is masked the output is 0."""

    def _merge(self, inputs: list[torch.Tensor], masks: list) -> torch.Tensor:
        every_masked = all(m is not None for m in masks)
        out, out_mask = None, None
        for x, m in zip(inputs, masks):
            m = _full_mask(m, x)
            if m is not None:
                x = torch.where(m, x, torch.ones((), dtype=x.dtype, device=x.device))
                if every_masked:
                    out_mask = m if out_mask is None else out_mask | m
            out = x if out is None else out * x
        if out_mask is not None:
            out = torch.where(out_mask, out, torch.zeros((), dtype=out.dtype, device=out.device))
        return out


class _Extremum(Merge):
    """``Maximum`` / ``Minimum``: a masked entry of one input takes the running result's value (and the other way
    round), so masked entries never win, as in Keras."""

    _op: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def _merge(self, inputs: list[torch.Tensor], masks: list) -> torch.Tensor:
        out, out_mask = None, None
        for x, m in zip(inputs, masks):
            m = _full_mask(m, x)
            if out is None:
                out, out_mask = x, m
                continue
            if m is not None:
                x = torch.where(m, x, out)
            if out_mask is not None:
                out = torch.where(out_mask, out, x)
            out_mask = out_mask | m if (m is not None and out_mask is not None) else None
            out = type(self)._op(out, x)
        return out


class Maximum(_Extremum):
    """The element-wise maximum of a list of tensors."""

    _op = staticmethod(torch.maximum)


class Minimum(_Extremum):
    """The element-wise minimum of a list of tensors."""

    _op = staticmethod(torch.minimum)


# ---------------------------------------------------------------------------------------------------- Concatenate
class Concatenate(Merge):
    """Concatenates a list of tensors along ``axis``; their other axes must agree. The output mask concatenates the
    inputs' masks (all True for an unmasked input) and is True where any entry on the last axis is."""

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Concatenate: `axis` must be an integer, received axis={axis!r}.")
        self.axis = axis

    def _check_shapes(self, shapes: list[tuple]) -> None:
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self._describe()} concatenates on axis {self.axis}, which inputs of rank {rank} do not "
                             f"have (received shapes {shapes}).")
        axis = self.axis % rank

        def others(s: tuple) -> tuple:
            return s[:axis] + s[axis + 1:]

        if any(len(s) != rank or any(a is not None and b is not None and a != b for a, b in
                                     zip(others(s), others(shapes[0]))) for s in shapes):
            raise ValueError(f"{self._describe()} needs inputs whose shapes agree except on axis {self.axis}, "
                             f"but received shapes {shapes}.")

    def forward(self, inputs: Sequence[torch.Tensor], mask: Any = None) -> torch.Tensor:
        return torch.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        if mask is None or not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        full = [torch.ones_like(x, dtype=torch.bool) if m is None else _full_mask(m, x) for x, m in zip(inputs, mask)]
        return torch.any(torch.cat(full, dim=self.axis), dim=-1)

    def _output_shape(self, shapes: list[tuple]) -> tuple:
        self._check_shapes(shapes)
        out = list(shapes[0])
        sizes = [s[self.axis] for s in shapes]
        out[self.axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}

    def _summary_args(self) -> str:
        return f"axis={self.axis}"


# ---------------------------------------------------------------------------------------------------- Dot
class Dot(Merge):
    """The dot product of two batches of samples over ``axes`` (one int for both, or one per input; never the
    batch axis), as Keras's ``batch_dot``: (B, T, F) . (B, S, F) with axes=2 -> (B, T, S); (B, F) . (B, F) with
    axes=1 -> (B, 1). ``normalize=True`` L2-normalizes both along their axes first (cosine similarity).
    The output carries no mask."""

    _exact_inputs = 2

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axes, bool) or not isinstance(axes, (int, list, tuple)):
            raise TypeError(f"Dot: `axes` must be an int or a list of two ints, received axes={axes!r}.")
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"Dot: `axes` must be an int or a list of two ints (one axis per input), received "
                                 f"axes={list(axes)}.")
            axes = list(axes)
        if not isinstance(normalize, bool):
            raise TypeError(f"Dot: `normalize` must be True or False, received normalize={normalize!r}.")
        self.axes = axes
        self.normalize = normalize

    def _axes_for(self, ranks: Sequence[int]) -> list[int]:
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % r if a < 0 else a for a, r in zip(axes, ranks)]

    def _check_shapes(self, shapes: list[tuple]) -> None:
        if any(len(s) < 2 for s in shapes):
            raise ValueError(f"{self._describe()} takes inputs of rank >= 2 (batch, ...), but received shapes "
                             f"{shapes}.")
        _check_batch(self, shapes)
        axes = self._axes_for([len(s) for s in shapes])
        if 0 in axes or any(a >= len(s) for a, s in zip(axes, shapes)):
            raise ValueError(f"{self._describe()} cannot take the dot product over axes {axes} of inputs of shapes "
                             f"{shapes}: each axis must exist, and axis 0 (the batch) cannot be one.")
        d1, d2 = shapes[0][axes[0]], shapes[1][axes[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"{self._describe()} multiplies axis {axes[0]} of the first input with axis {axes[1]} of "
                             f"the second, but their sizes differ ({d1} != {d2}) in shapes {shapes}. Choose axes of "
                             "equal size.")

    def forward(self, inputs: Sequence[torch.Tensor], mask: Any = None) -> torch.Tensor:
        x, y = inputs
        ax, ay = self._axes_for([x.ndim, y.ndim])
        if self.normalize:
            x = x * torch.rsqrt(x.square().sum(ax, keepdim=True)).clamp(max=1e7)  # Keras's epsilon 1e-7
            y = y * torch.rsqrt(y.square().sum(ay, keepdim=True)).clamp(max=1e7)
        x = x.movedim(ax, -1)  # (B, ..., K)
        y = y.movedim(ay, 1)  # (B, K, ...)
        rest = x.shape[1:-1] + y.shape[2:]
        out = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]), y.reshape(y.shape[0], y.shape[1], -1))
        return out.reshape((x.shape[0],) + (rest if rest else (1,)))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def _output_shape(self, shapes: list[tuple]) -> tuple:
        self._check_shapes(shapes)
        axes = self._axes_for([len(s) for s in shapes])
        first = [d for i, d in enumerate(shapes[0]) if i != axes[0]]
        second = [d for i, d in enumerate(shapes[1]) if i != axes[1]][1:]
        out = first + second
        return tuple(out + [1] if len(out) == 1 else out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}

    def _summary_args(self) -> str:
        return f"axes={self.axes}" + (", normalize=True" if self.normalize else "")


# ---------------------------------------------------------------------------------------------------- functional forms
def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Add(**kwargs)(inputs)``: the element-wise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Multiply(**kwargs)(inputs)``: the element-wise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``: the element-wise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)``: the element-wise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)``: the element-wise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis=axis, **kwargs)(inputs)``: a list of tensors joined along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Sequence[Any], axes: int | Sequence[int] = -1, **kwargs: Any) -> Any:
    """``Dot(axes=axes, **kwargs)(inputs)``: the batch dot product of two tensors over ``axes``."""
    return Dot(axes=axes, **kwargs)(inputs)
