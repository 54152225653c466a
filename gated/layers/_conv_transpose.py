"""Transposed convolutions with Keras's names, arguments, defaults, configs and weight layouts: ``Conv1DTranspose``,
``Conv2DTranspose``, ``Conv3DTranspose`` (and Keras's aliases ``Convolution1DTranspose``...).

They share ``_PlainConv`` (``_conv.py``) and compute with torch's ``F.conv_transpose{1,2,3}d`` on channels-first
tensors: the full transposed convolution, then cropped (or zero-padded) per axis to the output Keras computes.
Keras's kernel (*S, filters, C) is stored as torch's (C, filters, *S).
Shape legend: B batch, C channels (in), O channels (out, ``filters``), S spatial sizes.
"""

from __future__ import annotations

from typing import Any

import torch

from ._conv import _CONV_TRANSPOSE, _PlainConv, _initial, int_tuple, pad_spatial, to_keras_layout, to_torch_layout


class _Transpose(_PlainConv):
    """Transposed convolution (the gradient of a convolution with respect to its input): (B, *S, C) ->
    (B, *S', filters). A subclass sets ``rank``.

    Output size per axis as Keras computes it, with ``L = (k - 1) * dilation_rate + 1``: 'valid' gives
    ``(S - 1) * strides + max(L, strides)``, or ``(S - 1) * strides + L + output_padding`` when ``output_padding``
    is given; 'same' gives ``S * strides``, or ``(S - 1) * strides + L % 2 + output_padding``.
    Weights (Keras layout): ``kernel`` (*kernel_size, filters, C), ``bias`` (filters,).
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any):
        if "groups" in kwargs:
            raise TypeError(f"{type(self).__name__} has no `groups` argument (Keras's has none either).")
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        cls = type(self).__name__
        self.output_padding = (None if output_padding is None
                               else int_tuple(cls, "output_padding", output_padding, self.rank, minimum=0))
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{cls}: each `output_padding` must be smaller than its stride, received "
                             f"output_padding={self.output_padding} and strides={self.strides}.")

    def _valid_minimum(self, kernel: int, dilation: int) -> int:
        return 1  # a transposed convolution lengthens every input

    def _create_weights(self, channels: int) -> None:
        shape = self.kernel_size + (self.filters, channels)
        self.weight = _initial(self.kernel_initializer, shape, to_torch_layout, self._dtype)  # (C, O, *S)
        self.bias = self._new_bias(self.filters)

    @property
    def kernel(self) -> torch.Tensor:
        """The kernel in Keras's layout (*kernel_size, filters, in), a differentiable view."""
        return to_keras_layout(self.weight)

    def _pads(self, axis: int) -> tuple[int, int]:
        """The (before, after) padding of the stride-dilated input that Keras's transposed convolution uses."""
        extent = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
        stride = self.strides[axis]
        extra = None if self.output_padding is None else self.output_padding[axis]
        if self.padding == "valid":
            extra = max(extent, stride) - extent if extra is None else extra
            return extent - 1, extent - 1 + extra
        total = stride + extent - 2 if extra is None else extent + extent % 2 - 2 + extra
        before = min((total + 1) // 2, extent - 1)
        return before, total - before

    def _output_length(self, size: int, axis: int) -> int:
        extent = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
        before, after = self._pads(axis)
        return (size - 1) * self.strides[axis] + before + after - extent + 2

    def _convolve(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, *S) -> (B, O, *S')
        full = _CONV_TRANSPOSE[self.rank](x, self.weight, None, self.strides, 0, 0, 1, self.dilation_rate)
        # ``full`` has (S - 1) * stride + extent steps per axis; Keras's output drops (extent - 1 - before) of them
        # at the start and (extent - 1 - after) at the end, or adds zeros where that count is negative.
        index, pads = [slice(None), slice(None)], []
        for axis in range(self.rank):
            extent = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
            before, after = self._pads(axis)
            drop_start, drop_end = extent - 1 - before, extent - 1 - after
            index.append(slice(max(drop_start, 0), full.shape[2 + axis] - max(drop_end, 0)))
            pads.append((max(-drop_start, 0), max(-drop_end, 0)))
        y = pad_spatial(full[tuple(index)], pads)
        if self.bias is not None:
            y = y + self.bias.view(-1, *([1] * self.rank))
        return y

    def _config(self) -> dict[str, Any]:
        config = super()._config()
        del config["groups"]
        return {**config, "output_padding": self.output_padding}


class Conv1DTranspose(_Transpose):
    """Transposed 1-D convolution: (B, T, C) -> (B, T', filters). Weights: ``kernel`` (k, filters, C), ``bias``
    (filters,)."""

    rank = 1


class Conv2DTranspose(_Transpose):
    """Transposed 2-D convolution: (B, H, W, C) -> (B, H', W', filters) (channels_first: channels on axis 1).

    Weights (Keras layout): ``kernel`` (kh, kw, filters, C), ``bias`` (filters,).
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None, dilation_rate: Any = (1, 1),
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class Conv3DTranspose(_Transpose):
    """Transposed 3-D convolution: (B, D, H, W, C) -> (B, D', H', W', filters) (channels_first: channels on axis 1).

    Weights (Keras layout): ``kernel`` (kd, kh, kw, filters, C), ``bias`` (filters,). Keras's argument order puts
    ``data_format`` before ``output_padding`` here.
    """

    rank = 3

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
                 data_format: str | None = None, output_padding: Any = None, dilation_rate: Any = (1, 1, 1),
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)


# Keras's other names for the same classes.
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
