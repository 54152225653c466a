"""Activation layers with Keras's names, arguments, defaults and configs: ``ReLU``, ``LeakyReLU``, ``PReLU``,
``ELU``, ``Softmax``.

Each is element-wise (``Softmax`` along ``axis``) and keeps the input's shape and dtype; masks pass through.
``Softmax`` also takes a ``mask`` that broadcasts to its input (Keras's rules: masked entries are set to -1e9, or
-3e4 in float16, before the softmax and to 0 after it, so a fully masked row gives zeros).
``PReLU`` is the one with a weight, ``alpha`` (one slope per input entry, shared along ``shared_axes``).
Shape legend: B batch, T timesteps, F features.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ._base import Layer, WeightSpec, describe_array
from ._core import _new_weight, _param_spec


def _number(layer: str, name: str, value: Any, allow_none: bool = False) -> float | None:
    """A real number >= 0 (Keras refuses None and negatives for these arguments), else a clear error."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{layer}: `{name}` must be a number >= 0{' or None' if allow_none else ''}, received "
                         f"{name}={value!r}.")
    return value


class _Elementwise(Layer):
    """Shape and dtype pass through; masks too."""

    supports_masking = True

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype


class ReLU(_Elementwise):
    """Keras's rectified linear unit with options: ``x`` for ``threshold < x < max_value`` (``x > 0`` when
    ``threshold`` is 0), ``max_value`` above it, and ``negative_slope * (x - threshold)`` at or below the threshold
    (0 by default)."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.max_value = _number("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _number("ReLU", "negative_slope", negative_slope)
        self.threshold = _number("ReLU", "threshold", threshold)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x, slope, threshold = inputs, self.negative_slope, self.threshold
        if slope != 0 and self.max_value is None and threshold == 0:
            return F.leaky_relu(x, slope)
        below = torch.relu(threshold - x) if slope != 0 else None  # how far below the threshold
        if threshold != 0:
            out = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
        else:
            out = torch.relu(x)
        if self.max_value is not None:
            out = out.clamp(0.0, self.max_value)
        return out if below is None else out - slope * below

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}

    def _summary_args(self) -> str:
        shown = [f"{k}={v}" for k, v, default in (("max_value", self.max_value, None),
                                                  ("negative_slope", self.negative_slope, 0.0),
                                                  ("threshold", self.threshold, 0.0)) if v != default]
        return ", ".join(shown)


class LeakyReLU(_Elementwise):
    """``x`` for ``x >= 0``, ``negative_slope * x`` below (Keras's default slope 0.3)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any):
        if "alpha" in kwargs:  # Keras 2's name, which Keras 3 still takes with a warning
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}

    def _summary_args(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(_Elementwise):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise ValueError(f"ELU: `alpha` must be a number, received alpha={alpha!r}.")
        self.alpha = alpha
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.elu(inputs, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}

    def _summary_args(self) -> str:
        return f"alpha={self.alpha}"


class PReLU(_Elementwise):
    """A leaky ReLU with learned slopes: ``relu(x) - alpha * relu(-x)``.

    Weights: ``alpha`` of the input's shape without the batch axis, with size 1 on each of ``shared_axes`` (axes
    counted with the batch as 0; e.g. ``shared_axes=[1, 2]`` on images (B, H, W, C) learns one slope per channel).
    """

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None, alpha_constraint: Any = None,
                 shared_axes: int | Sequence[int] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha_initializer = _initializers.get(alpha_initializer)
        self.alpha_regularizer = _regularizers.get(alpha_regularizer)
        self.alpha_constraint = _constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes):
                raise ValueError(f"PReLU: `shared_axes` must be axes >= 1 (axis 0 is the batch), received "
                                 f"shared_axes={shared_axes!r}.")
            self.shared_axes = axes
        self.alpha = None
        self._maybe_build_from_input_shape()

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if axis >= len(input_shape):
                raise ValueError(f"{self._describe()} shares its slopes along axis {axis}, which inputs of shape "
                                 f"{input_shape} do not have. Use axes between 1 and {len(input_shape) - 1}.")
            shape[axis - 1] = 1
        if any(size is None for size in shape):
            raise ValueError(f"{self._describe()} learns one slope per entry of each sample, so it needs known sizes "
                             f"on every axis it does not share, but received input shape {input_shape}. Declare the "
                             "sizes in the Input's shape, or share the unknown axes with shared_axes=[...].")
        self.alpha = _new_weight(self.alpha_initializer, tuple(shape), self._dtype)
        self._alpha_shape = tuple(shape)
        self.built = True

    def validate_input(self, inputs: torch.Tensor) -> None:
        shape = tuple(inputs.shape[1:])
        expected = self._alpha_shape
        if len(shape) != len(expected) or any(e != 1 and e != s for e, s in zip(expected, shape)):
            raise ValueError(f"{self._describe()} was built with slopes of shape {expected} (one per entry of a "
                             f"sample, 1 along shared axes), but received {describe_array(inputs)}. Pass samples of "
                             "the shape it was built for, or use a new layer.")

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if self.built:
            yield _param_spec(self, "alpha", self.alpha_regularizer, self.alpha_constraint)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.relu(inputs) - self.alpha * torch.relu(-inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha_initializer": _initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": _regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": _constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}

    def _summary_args(self) -> str:
        return f"shared_axes={self.shared_axes}" if self.shared_axes else ""


class Softmax(_Elementwise):
    """The softmax along ``axis`` (an int, or a list of axes taken together). With ``mask`` (True or > 0.5 where an
    entry counts; it broadcasts to the input from the right, e.g. (B, 1, T) for scores (B, T, T)) masked entries get
    0 and the rest share the probability."""

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ValueError(f"Softmax: `axis` must be an int or a list of ints, received axis={axis!r}.")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self._maybe_build_from_input_shape()

    def _axes(self, ndim: int) -> list[int]:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -ndim <= a < ndim for a in axes):
            raise ValueError(f"{self._describe()} takes the softmax along axis {self.axis}, which inputs of rank "
                             f"{ndim} do not have.")
        return [a % ndim for a in axes]

    def _checked_mask(self, inputs: torch.Tensor, mask: Any) -> torch.Tensor:
        mask = torch.as_tensor(mask, device=inputs.device)
        shape, wanted = tuple(mask.shape), tuple(inputs.shape)
        fits = len(shape) <= len(wanted) and all(m == 1 or m == i for m, i in zip(shape[::-1], wanted[::-1]))
        if not fits:
            raise ValueError(f"{self._describe()} received a mask of shape {shape} for {describe_array(inputs)}; the "
                             "mask must broadcast to the input from the right (each axis 1 or the input's size), e.g. "
                             f"{(wanted[0], 1) + wanted[2:]} for attention scores.")
        return mask if mask.dtype == torch.bool else mask > 0.5

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        axes = self._axes(inputs.ndim)
        x = inputs
        if mask is not None:
            mask = self._checked_mask(inputs, mask)
            large_negative = -3e4 if x.dtype == torch.float16 else -1e9
            x = torch.where(mask, x, torch.full((), large_negative, dtype=x.dtype, device=x.device))
        if len(axes) == 1:
            out = torch.softmax(x, dim=axes[0])
        else:
            out = torch.exp(x - torch.logsumexp(x, dim=axes, keepdim=True))
        if mask is not None:
            out = torch.where(mask, out, torch.zeros((), dtype=out.dtype, device=out.device))
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}

    def _summary_args(self) -> str:
        return f"axis={self.axis}"
