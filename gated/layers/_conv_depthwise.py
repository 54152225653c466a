"""Depthwise and separable convolutions with Keras's names, arguments, defaults, configs and weight layouts:
``DepthwiseConv1D``, ``DepthwiseConv2D``, ``SeparableConv1D``, ``SeparableConv2D`` (and Keras's aliases
``SeparableConvolution1D``, ``SeparableConvolution2D``).

They share ``_Conv`` (``_conv.py``: window arguments, padding, data format, bias, activation, input checks, output
shapes). A depthwise convolution is torch's grouped convolution with one group per input channel; Keras's depthwise
kernel (*S, C, M) is stored as torch's (C * M, 1, *S), output channel c * M + m from input channel c.
Shape legend: B batch, C channels (in), M depth_multiplier, O channels (out), S spatial sizes.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ._base import WeightSpec
from ._conv import _CONV, _Conv, _initial, _layout_spec, to_keras_layout, to_torch_layout
from ._core import _check_positive_int


def _depthwise_to_torch(kernel: torch.Tensor) -> torch.Tensor:
    """Keras's depthwise kernel (*S, C, M) -> torch's grouped weight (C * M, 1, *S); output channel c * M + m."""
    *spatial, channels, multiplier = kernel.shape
    return to_torch_layout(kernel.reshape(*spatial, 1, channels * multiplier))


def _depthwise_to_keras(weight: torch.Tensor, channels: int) -> torch.Tensor:
    """torch's grouped weight (C * M, 1, *S) -> Keras's depthwise kernel (*S, C, M)."""
    keras = to_keras_layout(weight)  # (*S, 1, C * M)
    return keras.reshape(*keras.shape[:-2], channels, keras.shape[-1] // channels)


class _Depthwise(_Conv):
    """Each input channel convolved with its own ``depth_multiplier`` filters: (B, *S, C) -> (B, *S', C * M), output
    channel c * M + m from input channel c. A subclass sets ``rank``.

    Weights (Keras layout): ``kernel`` (*kernel_size, C, depth_multiplier), ``bias`` (C * depth_multiplier,).
    """

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid", depth_multiplier: int = 1,
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _check_positive_int(type(self).__name__, "depth_multiplier", depth_multiplier)
        self.depthwise_initializer = _initializers.get(depthwise_initializer)
        self.depthwise_regularizer = _regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = _constraints.get(depthwise_constraint)
        self._maybe_build_from_input_shape()

    def _create_weights(self, channels: int) -> None:
        shape = self.kernel_size + (channels, self.depth_multiplier)
        self.weight = _initial(self.depthwise_initializer, shape, _depthwise_to_torch, self._dtype)  # (C * M, 1, *S)
        self.bias = self._new_bias(channels * self.depth_multiplier)

    @property
    def kernel(self) -> torch.Tensor:
        """The kernel in Keras's layout (*kernel_size, channels, depth_multiplier), a differentiable view."""
        return _depthwise_to_keras(self.weight, self._channels)

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        yield _layout_spec(self, "kernel", "weight", lambda w: _depthwise_to_keras(w, self._channels),
                           _depthwise_to_torch, self.depthwise_regularizer, self.depthwise_constraint)
        if self.use_bias:
            yield self._bias_spec()

    def _output_channels(self, channels: int | None) -> int | None:
        return None if channels is None else channels * self.depth_multiplier

    def _convolve(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, *S) -> (B, C * M, *S')
        x, padding = self._padded(x)
        return _CONV[self.rank](x, self.weight, self.bias, self.strides, padding, self.dilation_rate, self._channels)

    def _config(self) -> dict[str, Any]:
        return {
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": _initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": _regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": _constraints.serialize(self.depthwise_constraint),
        }

    def _summary_args(self) -> str:
        return f"{super()._summary_args()}, depth_multiplier={self.depth_multiplier}"


class DepthwiseConv1D(_Depthwise):
    """Depthwise 1-D convolution: (B, T, C) -> (B, T', C * M). Weights: ``kernel`` (k, C, M), ``bias`` (C * M,)."""

    rank = 1


class DepthwiseConv2D(_Depthwise):
    """Depthwise 2-D convolution: (B, H, W, C) -> (B, H', W', C * M) (channels_first: channels on axis 1).

    Weights (Keras layout): ``kernel`` (kh, kw, C, M), ``bias`` (C * M,).
    """

    rank = 2

    def __init__(self, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid", depth_multiplier: int = 1,
                 data_format: str | None = None, dilation_rate: Any = (1, 1), activation: Any = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, bias_constraint=bias_constraint, **kwargs)


class _Separable(_Conv):
    """A depthwise convolution (``depth_multiplier`` filters per channel) then a pointwise (size-1) convolution to
    ``filters`` outputs: (B, *S, C) -> (B, *S', filters). A subclass sets ``rank``.

    Weights (Keras layout): ``depthwise_kernel`` (*kernel_size, C, M), ``pointwise_kernel`` (1..., C * M, filters),
    ``bias`` (filters,).
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, depth_multiplier: int = 1,
                 activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        cls = type(self).__name__
        self.filters = _check_positive_int(cls, "filters", filters)
        self.depth_multiplier = _check_positive_int(cls, "depth_multiplier", depth_multiplier)
        self.depthwise_initializer = _initializers.get(depthwise_initializer)
        self.pointwise_initializer = _initializers.get(pointwise_initializer)
        self.depthwise_regularizer = _regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = _regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = _constraints.get(depthwise_constraint)
        self.pointwise_constraint = _constraints.get(pointwise_constraint)
        self._maybe_build_from_input_shape()

    def _create_weights(self, channels: int) -> None:
        depthwise = self.kernel_size + (channels, self.depth_multiplier)
        pointwise = (1,) * self.rank + (channels * self.depth_multiplier, self.filters)
        self.depthwise_weight = _initial(self.depthwise_initializer, depthwise, _depthwise_to_torch,
                                         self._dtype)  # (C * M, 1, *S)
        self.pointwise_weight = _initial(self.pointwise_initializer, pointwise, to_torch_layout,
                                         self._dtype)  # (O, C * M, 1...)
        self.bias = self._new_bias(self.filters)

    @property
    def depthwise_kernel(self) -> torch.Tensor:
        """Keras's layout (*kernel_size, channels, depth_multiplier), a differentiable view."""
        return _depthwise_to_keras(self.depthwise_weight, self._channels)

    @property
    def pointwise_kernel(self) -> torch.Tensor:
        """Keras's layout (1, channels * depth_multiplier, filters), a differentiable view."""
        return to_keras_layout(self.pointwise_weight)

    def _own_weight_specs(self) -> Iterator[WeightSpec]:
        if not self.built:
            return
        yield _layout_spec(self, "depthwise_kernel", "depthwise_weight",
                           lambda w: _depthwise_to_keras(w, self._channels), _depthwise_to_torch,
                           self.depthwise_regularizer, self.depthwise_constraint)
        yield _layout_spec(self, "pointwise_kernel", "pointwise_weight", to_keras_layout, to_torch_layout,
                           self.pointwise_regularizer, self.pointwise_constraint)
        if self.use_bias:
            yield self._bias_spec()

    def _output_channels(self, channels: int | None) -> int:
        return self.filters

    def _convolve(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, *S) -> (B, O, *S')
        conv = _CONV[self.rank]
        x, padding = self._padded(x)
        depthwise = conv(x, self.depthwise_weight, None, self.strides, padding, self.dilation_rate,
                         self._channels)  # (B, C * M, *S')
        return conv(depthwise, self.pointwise_weight, self.bias)

    def _config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": _initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": _initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": _regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": _regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": _constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": _constraints.serialize(self.pointwise_constraint),
        }

    def _summary_args(self) -> str:
        return f"filters={self.filters}, {super()._summary_args()}, depth_multiplier={self.depth_multiplier}"


class SeparableConv1D(_Separable):
    """Separable 1-D convolution: (B, T, C) -> (B, T', filters).

    Weights (Keras layout): ``depthwise_kernel`` (k, C, M), ``pointwise_kernel`` (1, C * M, filters), ``bias``
    (filters,).
    """

    rank = 1


class SeparableConv2D(_Separable):
    """Separable 2-D convolution: (B, H, W, C) -> (B, H', W', filters) (channels_first: channels on axis 1).

    Weights (Keras layout): ``depthwise_kernel`` (kh, kw, C, M), ``pointwise_kernel`` (1, 1, C * M, filters),
    ``bias`` (filters,).
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = (1, 1), depth_multiplier: int = 1,
                 activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


# Keras's other names for the same classes.
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
