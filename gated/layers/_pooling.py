"""Pooling layers with Keras's names, arguments, defaults and configs: ``MaxPooling1D``, ``MaxPooling2D``,
``AveragePooling1D``, ``AveragePooling2D``, ``GlobalAveragePooling1D``, ``GlobalMaxPooling1D``,
``GlobalAveragePooling2D``, ``GlobalMaxPooling2D``, and the 3-D ones ``MaxPooling3D``, ``AveragePooling3D``,
``GlobalAveragePooling3D``, ``GlobalMaxPooling3D`` (and Keras's aliases ``MaxPool1D``, ``AvgPool1D``,
``GlobalAvgPool1D``, ``GlobalMaxPool1D``, and the 2-D and 3-D ones).

``padding="same"`` pads as Keras (TensorFlow) does (``same_pads`` in ``_conv.py``: the extra step after), and the
padding never counts: a max ignores it, an average divides by the number of real steps in its window (Keras's
documented result, computed by its TensorFlow and JAX backends; the torch backend of Keras 3.15 instead averages in
copies of the edge values where the padding is uneven, keras-team/keras#23233).

Masks: ``GlobalAveragePooling1D`` leaves masked timesteps out of the mean (a row with every step masked gives NaN,
0 / 0, as in Keras) and passes no mask on. The other pooling layers do not support masking, as in Keras: a mask that
reaches one is not used and goes no further, with Keras's warning.
Shape legend: B batch, C channels, T timesteps (steps), D depth, H height, W width.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ._base import Layer, describe_array
from ._conv import data_format_of, int_tuple, pad_spatial, same_pads, warn_mask_dropped

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVERAGE = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_LAYOUTS = {  # rank -> (channels_last, channels_first)
    1: ("(batch, steps, channels)", "(batch, channels, steps)"),
    2: ("(batch, height, width, channels)", "(batch, channels, height, width)"),
    3: ("(batch, depth, height, width, channels)", "(batch, channels, depth, height, width)"),
}


class _Spatial(Layer):
    """Rank check, layout and dtype pass-through shared by the pooling layers."""

    rank = 1

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = data_format_of(type(self).__name__, data_format)

    @property
    def _channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def _layout(self) -> str:
        return _LAYOUTS[self.rank][self._channels_first]

    def _check_shape(self, shape: tuple, what: str) -> None:
        if len(shape) != self.rank + 2:
            hint = ""
            if len(shape) == self.rank + 1:
                hint = (" If the data has one channel, add a channel axis: "
                        + ("x[:, None]." if self._channels_first else "x[..., None]."))
            raise ValueError(f"{self._describe()} expects input of shape {self._layout()} ({self.rank + 2}-D), "
                             f"but received {what}.{hint}")

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        self._check_shape(input_shape, f"a {len(input_shape)}-D input of shape {input_shape}")
        self.built = True

    def validate_input(self, inputs: torch.Tensor) -> None:
        self._check_shape(tuple(inputs.shape), describe_array(inputs))

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def _spatial_axes(self) -> tuple[int, ...]:
        return tuple(range(2, self.rank + 2)) if self._channels_first else tuple(range(1, self.rank + 1))


# ---------------------------------------------------------------------------------------------------- windows
class _Pooling(_Spatial):
    """Max or average over windows of ``pool_size`` every ``strides`` (default: ``pool_size``)."""

    _mode = "max"

    def __init__(self, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        cls = type(self).__name__
        self.pool_size = int_tuple(cls, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else int_tuple(cls, "strides", strides, self.rank)
        padding_name = padding.lower() if isinstance(padding, str) else padding
        if padding_name not in ("valid", "same"):
            raise ValueError(f"{cls}: `padding` must be 'valid' or 'same', received padding={padding!r}.")
        self.padding = padding_name
        self._maybe_build_from_input_shape()

    def _check_shape(self, shape: tuple, what: str) -> None:
        super()._check_shape(shape, what)
        if self.padding != "valid":
            return
        spatial = shape[2:] if self._channels_first else shape[1:-1]
        for size, pool in zip(spatial, self.pool_size):
            if size is not None and size < pool:
                raise ValueError(f"{self._describe()} with padding='valid' needs windows of {self.pool_size} to fit "
                                 f"in the input, but received {what}. Use padding='same', a smaller pool_size, or "
                                 "longer inputs.")

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        warn_mask_dropped(self, mask)
        x = inputs if self._channels_first else inputs.movedim(-1, 1)  # (B, C, *S)
        y = self._pool(x)
        return y if self._channels_first else y.movedim(1, -1)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, *S) -> (B, C, *S')
        if self.padding == "valid":
            pool = _MAX if self._mode == "max" else _AVERAGE
            return pool[self.rank](x, self.pool_size, self.strides)
        pads = [same_pads(size, k, s) for size, k, s in zip(x.shape[2:], self.pool_size, self.strides)]
        if self._mode == "max":  # -inf padding never wins a window (each window holds at least one real step)
            return _MAX[self.rank](pad_spatial(x, pads, float("-inf")), self.pool_size, self.strides)
        # The mean over the real steps of each window: the windows' sums over zero padding, divided by how many real
        # steps each window holds (the same windows over a padded tensor of ones).
        total = _AVERAGE[self.rank](pad_spatial(x, pads), self.pool_size, self.strides)
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        count = _AVERAGE[self.rank](pad_spatial(ones, pads), self.pool_size, self.strides)
        return total / count

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        spatial = input_shape[2:] if self._channels_first else input_shape[1:-1]
        out = tuple(None if size is None else self._output_length(size, axis) for axis, size in enumerate(spatial))
        if self._channels_first:
            return input_shape[:2] + out
        return (input_shape[0],) + out + (input_shape[-1],)

    def _output_length(self, size: int, axis: int) -> int:
        if self.padding == "valid":
            return (size - self.pool_size[axis]) // self.strides[axis] + 1
        return math.ceil(size / self.strides[axis])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}

    def _summary_args(self) -> str:
        shown = f"pool_size={self.pool_size}"
        if self.strides != self.pool_size:
            shown += f", strides={self.strides}"
        if self.padding != "valid":
            shown += f", padding={self.padding!r}"
        return shown


class MaxPooling1D(_Pooling):
    """The maximum of each window of ``pool_size`` steps: (B, T, C) -> (B, T', C)."""

    rank = 1

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


class MaxPooling2D(_Pooling):
    """The maximum of each ``pool_size`` window: (B, H, W, C) -> (B, H', W', C)."""

    rank = 2

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """The mean of each window of ``pool_size`` steps (padding left out): (B, T, C) -> (B, T', C)."""

    rank = 1
    _mode = "average"

    def __init__(self, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """The mean of each ``pool_size`` window (padding left out): (B, H, W, C) -> (B, H', W', C)."""

    rank = 2
    _mode = "average"

    def __init__(self, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


class MaxPooling3D(_Pooling):
    """The maximum of each ``pool_size`` window: (B, D, H, W, C) -> (B, D', H', W', C)."""

    rank = 3

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


class AveragePooling3D(_Pooling):
    """The mean of each ``pool_size`` window (padding left out): (B, D, H, W, C) -> (B, D', H', W', C)."""

    rank = 3
    _mode = "average"

    def __init__(self, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None,
                 name: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


# ---------------------------------------------------------------------------------------------------- global
class _GlobalPooling(_Spatial):
    """Reduces every spatial axis: (B, *S, C) -> (B, C), or (B, 1..., C) with ``keepdims``."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self.keepdims = bool(keepdims)
        self._maybe_build_from_input_shape()

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        channels = input_shape[1] if self._channels_first else input_shape[-1]
        if not self.keepdims:
            return (input_shape[0], channels)
        ones = (1,) * self.rank
        return (input_shape[0], channels) + ones if self._channels_first else (input_shape[0],) + ones + (channels,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}

    def _summary_args(self) -> str:
        return "keepdims=True" if self.keepdims else ""


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over time, (B, T, C) -> (B, C); with a mask (B, T), the mean over the unmasked timesteps."""

    rank = 1
    supports_masking = True

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        time_axis = 2 if self._channels_first else 1
        if mask is None:
            return inputs.mean(dim=time_axis, keepdim=self.keepdims)
        mask = self._checked_mask(inputs, mask)
        keep = mask.unsqueeze(1 if self._channels_first else 2)  # (B, 1, T) or (B, T, 1)
        total = torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))
        count = keep.to(inputs.dtype).sum(dim=time_axis, keepdim=self.keepdims)
        return total.sum(dim=time_axis, keepdim=self.keepdims) / count

    def _checked_mask(self, inputs: torch.Tensor, mask: Any) -> torch.Tensor:
        mask = torch.as_tensor(mask, device=inputs.device)
        batch, steps = inputs.shape[0], inputs.shape[2 if self._channels_first else 1]
        if tuple(mask.shape) != (batch, steps):
            raise ValueError(f"{self._describe()} received a mask of shape {tuple(mask.shape)} for "
                             f"{describe_array(inputs)} ({self.data_format}); the mask must be (batch, steps) = "
                             f"({batch}, {steps}), True where a timestep counts.")
        return mask.bool()

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over time, (B, T, C) -> (B, C). Masks are not supported (as in Keras)."""

    rank = 1

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        warn_mask_dropped(self, mask)
        return inputs.amax(dim=2 if self._channels_first else 1, keepdim=self.keepdims)


class _GlobalSpatialMean(_GlobalPooling):
    """The mean over every spatial axis; masks are not supported (as in Keras)."""

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        warn_mask_dropped(self, mask)
        return inputs.mean(dim=self._spatial_axes(), keepdim=self.keepdims)


class _GlobalSpatialMax(_GlobalPooling):
    """The maximum over every spatial axis; masks are not supported (as in Keras)."""

    def forward(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        warn_mask_dropped(self, mask)
        return inputs.amax(dim=self._spatial_axes(), keepdim=self.keepdims)


class GlobalAveragePooling2D(_GlobalSpatialMean):
    """The mean over height and width, (B, H, W, C) -> (B, C)."""

    rank = 2


class GlobalMaxPooling2D(_GlobalSpatialMax):
    """The maximum over height and width, (B, H, W, C) -> (B, C)."""

    rank = 2


class GlobalAveragePooling3D(_GlobalSpatialMean):
    """The mean over depth, height and width, (B, D, H, W, C) -> (B, C)."""

    rank = 3


class GlobalMaxPooling3D(_GlobalSpatialMax):
    """The maximum over depth, height and width, (B, D, H, W, C) -> (B, C)."""

    rank = 3


# Keras's other names for the same classes.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
