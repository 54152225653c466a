"""Convolution layers with Keras's names, arguments, defaults, configs and weight layouts: ``Conv1D``, ``Conv2D``,
``Conv3D``, ``DepthwiseConv1D``, ``SeparableConv1D``, ``Conv1DTranspose`` (and Keras's aliases ``Convolution1D``...).

All share ``_Conv``: the window arguments (``kernel_size``, ``strides``, ``dilation_rate``, ``padding``), the
``data_format``, the bias, the activation, input checks and output shapes. Each computes with torch's
``F.conv{1,2,3}d`` / ``F.conv_transpose1d`` on channels-first tensors.

Padding is Keras's (TensorFlow's): ``"same"`` pads ``total = max(0, (ceil(L / s) - 1) * s + (k - 1) * d + 1 - L)``
zeros, ``total // 2`` before and the rest after; ``"causal"`` (Conv1D only) pads ``(k - 1) * d`` zeros before.

Weights are stored in the layout torch's kernels consume (a Conv1D ``weight`` is (filters, in / groups, k)) and
translated at ``get_weights``/``set_weights``, which speak Keras's layout (a Conv1D ``kernel`` is (k, in / groups,
filters)); ``layer.kernel`` is the Keras-layout view.

Masks: as in Keras 3, no convolution supports masking. A mask that reaches one is not used (masked timesteps enter the
convolution like any others) and goes no further; the layer warns, as Keras does.
Shape legend: B batch, C channels (in), O channels (out), S spatial sizes (T timesteps for the 1-D layers).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import activations as _activations
from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..utils._config import image_data_format
from ._base import Layer, WeightSpec, describe_array
from ._core import _check_positive_int, _param_spec

_FORMATS = ("channels_last", "channels_first")
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_SPATIAL = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


# ---------------------------------------------------------------------------------------------------- arguments
def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy integers included


def int_tuple(layer: str, name: str, value: Any, rank: int, minimum: int = 1) -> tuple[int, ...]:
    """An int n -> (n,) * rank; a tuple or list of ``rank`` ints as a tuple; each >= ``minimum``; else a clear error
    (Keras's ``standardize_tuple``)."""
    values = (value,) * rank if _is_int(value) else value
    ok = (isinstance(values, (list, tuple)) and len(values) == rank
          and all(_is_int(v) and v >= minimum for v in values))
    if not ok:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{layer}: `{name}` must be {what} or a tuple of {rank} such integers, received "
                         f"{name}={value!r}.")
    return tuple(int(v) for v in values)


def data_format_of(layer: str, value: Any) -> str:
    """``None`` -> the global ``image_data_format()`` ('channels_last' unless set), as in Keras."""
    if value is None:
        return image_data_format()
    fmt = str(value).lower()
    if fmt not in _FORMATS:
        raise ValueError(f"{layer}: `data_format` must be 'channels_last' or 'channels_first', received "
                         f"data_format={value!r}.")
    return fmt


def padding_of(layer: str, value: Any, allowed: Sequence[str]) -> str:
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        hint = ""
        if padding == "causal":
            hint = (" Causal padding exists for Conv1D only; pad the time axis before the layer yourself "
                    "(e.g. ZeroPadding) and use padding='valid'.")
        raise ValueError(f"{layer}: `padding` must be one of {', '.join(map(repr, allowed))}, received "
                         f"padding={value!r}.{hint}")
    return padding


def same_pads(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Keras's (TensorFlow's) "same" padding of one axis: (before, after), the extra one after."""
    effective = (kernel - 1) * dilation + 1
    total = max(0, (math.ceil(length / stride) - 1) * stride + effective - length)
    return total // 2, total - total // 2


def pad_spatial(x: torch.Tensor, pads: Sequence[tuple[int, int]], value: float = 0.0) -> torch.Tensor:
    """Pads the spatial axes 2.. of a channels-first tensor by ``pads`` ((before, after) per axis)."""
    if not any(before or after for before, after in pads):
        return x
    flat = [p for before_after in reversed(pads) for p in before_after]  # F.pad lists the last axis first
    return F.pad(x, flat, value=value)


def warn_mask_dropped(layer: Layer, mask: Any) -> None:
    """Keras's warning for a mask that reaches a layer without mask support (the mask is not used, nor passed on)."""
    if mask is None:
        return
    warnings.warn(
        f"{layer._describe()} received an input with a mask, but {type(layer).__name__} does not support masking: "
        "masked timesteps enter its computation like any others, and later layers receive no mask (Keras does the "
        "same). If padded timesteps must not count, remove the padding or the mask before this layer, or reduce "
        "the sequence with GlobalAveragePooling1D, which leaves masked timesteps out.",
        UserWarning, stacklevel=3,
    )


def to_torch_layout(kernel: torch.Tensor) -> torch.Tensor:
    """Keras's kernel layout (*S, C, O) -> torch's (O, C, *S) (a view)."""
    rank = kernel.ndim - 2
    return kernel.permute(rank + 1, rank, *range(rank))


def to_keras_layout(weight: torch.Tensor) -> torch.Tensor:
    """torch's kernel layout (O, C, *S) -> Keras's (*S, C, O) (a view)."""
    return weight.permute(*range(2, weight.ndim), 1, 0)


def _layout_spec(layer: Layer, name: str, attr: str, to_keras: Callable, to_torch: Callable,
                 regularizer: Any, constraint: Any) -> WeightSpec:
    """A ``WeightSpec`` for a parameter stored in torch's layout under ``layer.<attr>``, read and written in
    Keras's layout."""
    return WeightSpec(
        name=name,
        get=lambda: to_keras(getattr(layer, attr)),
        set=lambda value: getattr(layer, attr).copy_(to_torch(value)),
        regularizer=regularizer,
        constraint=constraint,
    )


def _initial(initializer: Callable, keras_shape: tuple[int, ...], to_torch: Callable,
             dtype: torch.dtype) -> nn.Parameter:
    """A parameter initialized as Keras initializes it (the initializer sees Keras's shape), stored in torch's
    layout."""
    value = torch.as_tensor(initializer(keras_shape, dtype=dtype), dtype=dtype)
    if tuple(value.shape) != keras_shape:
        raise ValueError(f"The initializer {initializer!r} returned shape {tuple(value.shape)}, expected "
                         f"{keras_shape}.")
    return nn.Parameter(to_torch(value).contiguous())


# ---------------------------------------------------------------------------------------------------- the base
class _Conv(Layer):
    """What every convolution shares. A subclass sets ``rank`` and ``_paddings`` and provides ``_create_weights``,
    ``_own_weight_specs``, ``_output_channels``, ``_convolve`` (channels-first, bias included) and ``_config``."""

    rank = 1
    _paddings: tuple[str, ...] = ("valid", "same")

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 bias_initializer: Any = "zeros", bias_regularizer: Any = None, activity_regularizer: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        self.kernel_size = int_tuple(cls, "kernel_size", kernel_size, self.rank)
        self.strides = int_tuple(cls, "strides", strides, self.rank)
        self.dilation_rate = int_tuple(cls, "dilation_rate", dilation_rate, self.rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{cls}: `strides` > 1 cannot be combined with `dilation_rate` > 1 (as in Keras), "
                             f"received strides={self.strides} and dilation_rate={self.dilation_rate}. Use one of "
                             "them, or two layers.")
        self.padding = padding_of(cls, padding, self._paddings)
        self.data_format = data_format_of(cls, data_format)
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.bias_constraint = _constraints.get(bias_constraint)
        self._channels: int | None = None

    # ------------------------------------------------------------------ shapes
    @property
    def _channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def _layout(self) -> str:
        spatial = ", ".join(_SPATIAL[self.rank])
        return (f"(batch, channels, {spatial})" if self._channels_first else f"(batch, {spatial}, channels)")

    def _split(self, shape: Sequence[int | None]) -> tuple[int | None, tuple[int | None, ...]]:
        """(channels, spatial sizes) of an input shape in this layer's data format."""
        shape = tuple(shape)
        return (shape[1], shape[2:]) if self._channels_first else (shape[-1], shape[1:-1])

    def _check_shape(self, shape: tuple, what: str) -> None:
        """Rank, channels and spatial sizes of an input shape (``what`` describes the input for the message)."""
        expected_rank = self.rank + 2
        if len(shape) != expected_rank:
            hint = ""
            if len(shape) == expected_rank - 1:
                hint = (" If the data has one channel, add a channel axis: "
                        + ("x[:, None]." if self._channels_first else "x[..., None]."))
            raise ValueError(f"{self._describe()} expects input of shape {self._layout()} ({expected_rank}-D), but "
                             f"received {what}.{hint}")
        channels, spatial = self._split(shape)
        if channels is None:
            raise ValueError(f"{self._describe()} needs a known number of channels, but received {what}. Declare "
                             "it in the Input's shape.")
        if self._channels is not None and channels != self._channels:
            raise ValueError(f"{self._describe()} was built for {self._channels} channels ({self.data_format}), but "
                             f"received {what} with {channels} channels. Pass inputs with {self._channels} channels, "
                             "or use a new layer.")
        if self.padding == "valid":
            for axis, (size, kernel, dilation) in enumerate(zip(spatial, self.kernel_size, self.dilation_rate)):
                needed = self._valid_minimum(kernel, dilation)
                if size is not None and size < needed:
                    raise ValueError(
                        f"{self._describe()} with padding='valid' needs {_SPATIAL[self.rank][axis]} >= {needed} "
                        f"(the dilated kernel's extent), but received {what}. Use padding='same', a smaller "
                        "kernel_size or dilation_rate, or longer inputs.")

    def _valid_minimum(self, kernel: int, dilation: int) -> int:
        return (kernel - 1) * dilation + 1

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        self._check_shape(input_shape, f"a {len(input_shape)}-D input of shape {input_shape}")
        channels, _ = self._split(input_shape)
        self._create_weights(channels)
        self._channels = channels
        self.built = True

    def validate_input(self, inputs: torch.Tensor) -> None:
        self._check_shape(tuple(inputs.shape), describe_array(inputs))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        channels, spatial = self._split(input_shape)
        out = tuple(None if size is None else self._output_length(size, axis) for axis, size in enumerate(spatial))
        filters = self._output_channels(channels)
        return (input_shape[0], filters) + out if self._channels_first else (input_shape[0],) + out + (filters,)

    def _output_length(self, size: int, axis: int) -> int:
        if self.padding == "valid":
            extent = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
            return (size - extent) // self.strides[axis] + 1
        return math.ceil(size / self.strides[axis])  # same, causal

    # ------------------------------------------------------------------ computing
    def _input_pads(self, spatial: Sequence[int]) -> list[tuple[int, int]]:
        if self.padding == "same":
            return [same_pads(size, k, s, d)
                    for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        if self.padding == "causal":
            return [((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)]
        return [(0, 0)] * self.rank

    def _padded(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
        """``x`` (B, C, *S) ready for a valid convolution: even padding is left to torch's kernel (returned as its
        ``padding``), uneven padding is applied here."""
        pads = self._input_pads(x.shape[2:])
        if all(before == after for before, after in pads):
            return x, tuple(before for before, _ in pads)
        return pad_spatial(x, pads), (0,) * self.rank

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        warn_mask_dropped(self, mask)
        x = inputs if self._channels_first else inputs.movedim(-1, 1)  # (B, C, *S)
        y = self._convolve(x)  # (B, O, *S')
        if not self._channels_first:
            y = y.movedim(1, -1)
        return self.activation(y)  # on the output's own layout, as Keras applies it

    def _create_weights(self, channels: int) -> None:
        raise NotImplementedError

    def _output_channels(self, channels: int | None) -> int | None:
        raise NotImplementedError

    def _convolve(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        raise NotImplementedError

    def _bias_spec(self) -> WeightSpec:
        return _param_spec(self, "bias", self.bias_regularizer, self.bias_constraint)

    def _new_bias(self, size: int) -> nn.Parameter | None:
        return _initial(self.bias_initializer, (size,), lambda v: v, self._dtype) if self.use_bias else None

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            **self._config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
            "bias_constraint": _constraints.serialize(self.bias_constraint),
        }

    def _summary_args(self) -> str:
        shown = [f"kernel_size={self.kernel_size}"]
        if self.padding != "valid":
            shown.append(f"padding={self.padding!r}")
        if max(self.strides) > 1:
            shown.append(f"strides={self.strides}")
        if max(self.dilation_rate) > 1:
            shown.append(f"dilation_rate={self.dilation_rate}")
        if self._channels_first:
            shown.append("data_format='channels_first'")
        return ", ".join(shown)


# ---------------------------------------------------------------------------------------------------- Conv1D/2D/3D
class _PlainConv(_Conv):
    """``activation(conv(inputs, kernel) + bias)`` with ``filters`` outputs, in ``groups`` channel groups.

    Weights (Keras layout): ``kernel`` (*kernel_size, in / groups, filters), ``bias`` (filters,).
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        cls = type(self).__name__
        self.filters = _check_positive_int(cls, "filters", filters)
        self.groups = _check_positive_int(cls, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"{cls}: `filters` must be divisible by `groups` (each group computes filters / groups "
                             f"outputs), received filters={self.filters} and groups={self.groups}.")
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.kernel_constraint = _constraints.get(kernel_constraint)
        self._maybe_build_from_input_shape()

    def _create_weights(self, channels: int) -> None:
        if channels % self.groups:
            raise ValueError(
                f"{self._describe()} splits its input channels into groups={self.groups}, but the input has "
                f"{channels} channels, which groups={self.groups} does not divide. Use a number of groups that "
                f"divides {channels} (and filters={self.filters}).")
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.weight = _initial(self.kernel_initializer, shape, to_torch_layout, self._dtype)  # (O, C / groups, *S)
        self.bias = self._new_bias(self.filters)

    @property
    def kernel(self) -> torch.Tensor:
        """The kernel in Keras's layout (*kernel_size, in / groups, filters), a differentiable view."""
        return to_keras_layout(self.weight)

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        yield _layout_spec(self, "kernel", "weight", to_keras_layout, to_torch_layout, self.kernel_regularizer,
                           self.kernel_constraint)
        if self.use_bias:
            yield self._bias_spec()

    def _output_channels(self, channels: int | None) -> int:
        return self.filters

    def _convolve(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, *S) -> (B, O, *S')
        x, padding = self._padded(x)
        return _CONV[self.rank](x, self.weight, self.bias, self.strides, padding, self.dilation_rate, self.groups)

    def _config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": _constraints.serialize(self.kernel_constraint),
        }

    def _summary_args(self) -> str:
        groups = f", groups={self.groups}" if self.groups > 1 else ""
        return f"filters={self.filters}, {super()._summary_args()}{groups}"


class Conv1D(_PlainConv):
    """1-D convolution over time: (B, T, C) -> (B, T', filters) (channels_first: (B, C, T) -> (B, filters, T')).

    ``padding``: 'valid' (no padding), 'same' (T' = ceil(T / strides)) or 'causal' (zeros before the sequence only,
    so output t sees inputs <= t). Weights (Keras layout): ``kernel`` (k, C / groups, filters), ``bias``
    (filters,).
    """

    rank = 1
    _paddings = ("valid", "same", "causal")


class Conv2D(_PlainConv):
    """2-D convolution: (B, H, W, C) -> (B, H', W', filters) (channels_first: (B, C, H, W) -> (B, filters, H', W')).

    Weights (Keras layout): ``kernel`` (kh, kw, C / groups, filters), ``bias`` (filters,).
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = (1, 1), groups: int = 1, **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, **kwargs)


class Conv3D(_PlainConv):
    """3-D convolution: (B, D, H, W, C) -> (B, D', H', W', filters) (channels_first: channels on axis 1).

    Weights (Keras layout): ``kernel`` (kd, kh, kw, C / groups, filters), ``bias`` (filters,).
    """

    rank = 3

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = (1, 1, 1), groups: int = 1, **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, **kwargs)


# Keras's other names for the same classes.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
