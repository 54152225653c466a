"""Reshaping layers with Keras's names, arguments and configs: ``Permute``, ``ZeroPadding1D``, ``Cropping1D``,
``UpSampling1D``, ``ZeroPadding2D``, ``Cropping2D``, ``UpSampling2D``, ``ZeroPadding3D``, ``Cropping3D``, ``UpSampling3D``.

None of them supports masking, as in Keras: a mask that reaches one stops there (the output carries none).
Shape legend: B batch, T timesteps (steps), F features (channels), D depth, H height, W width.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ._base import Layer, describe_array

_FORMATS = ("channels_last", "channels_first")


def _pair(layer: str, name: str, value: Any, allow_zero: bool = True) -> tuple[int, int]:
    """An int n -> (n, n); a pair of ints as a tuple; else a clear error (Keras's ``standardize_tuple``)."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(pair, (list, tuple)) and len(pair) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and (v >= 0 if allow_zero else v > 0) for v in pair)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{layer}: `{name}` must be an integer or a tuple of 2 integers {bound}, received "
                         f"{name}={value!r}.")
    return tuple(pair)


def _pairs(layer: str, name: str, value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """An int, a pair (symmetric per axis) or a pair of pairs ((top, bottom), (left, right))."""
    if isinstance(value, int) and not isinstance(value, bool):
        one = _pair(layer, name, value)
        return one, one
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{layer}: `{name}` must be an int, a tuple of 2 ints (symmetric height, width) or a tuple "
                         f"of 2 tuples of 2 ints ((top, bottom), (left, right)), received {name}={value!r}.")
    return _pair(layer, f"{name}[0]", value[0]), _pair(layer, f"{name}[1]", value[1])


def _per_axis(layer: str, name: str, value: Any, rank: int, allow_zero: bool = True) -> tuple[tuple[int, int], ...]:
    """An int n -> ((n, n),) * rank; ``rank`` ints (symmetric per axis); or ``rank`` pairs ((before, after) per
    axis); else a clear error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (_pair(layer, name, value, allow_zero),) * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ValueError(f"{layer}: `{name}` must be an int, a tuple of {rank} ints (symmetric per axis) or a tuple "
                         f"of {rank} tuples of 2 ints ((before, after) per axis), received {name}={value!r}.")
    return tuple(_pair(layer, f"{name}[{i}]", v, allow_zero) for i, v in enumerate(value))


def _data_format(layer: str, value: Any) -> str:
    if value is None:
        return "channels_last"
    if value not in _FORMATS:
        raise ValueError(f"{layer}: `data_format` must be 'channels_last' or 'channels_first', received {value!r}.")
    return value


class _Reshaping(Layer):
    """Rank check and dtype pass-through for the layers below (``_rank``: the input rank they take)."""

    _rank = 3
    _layout = "(batch, steps, features)"

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != self._rank:
            raise ValueError(f"{self._describe()} expects input of shape {self._layout}, but received "
                             f"{describe_array(inputs)}.")

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def _spatial_axes(self) -> list[int]:
        first = getattr(self, "data_format", "channels_last") == "channels_first"
        return list(range(2, self._rank)) if first else list(range(1, self._rank - 1))

    def _resized(self, input_shape: tuple, change: Any) -> tuple:
        """``input_shape`` with each spatial size s -> change(axis_index, s) where known."""
        out = list(input_shape)
        for index, axis in enumerate(self._spatial_axes()):
            if out[axis] is not None:
                out[axis] = change(index, out[axis])
        return tuple(out)


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of 1..rank-1, e.g. (2, 1): (B, T, F) -> (B, F, T)."""

    def __init__(self, dims: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: `dims` must hold each axis 1..n once (the batch axis 0 stays first), received "
                             f"dims={dims!r}. E.g. dims=(2, 1) swaps the two axes of (batch, T, F).")
        self.dims = tuple(int(d) for d in dims)
        self._maybe_build_from_input_shape()

    def validate_input(self, inputs: torch.Tensor) -> None:
        if inputs.ndim != len(self.dims) + 1:
            raise ValueError(f"{self._describe()} permutes {len(self.dims)} axes after the batch axis, so it expects "
                             f"input of rank {len(self.dims) + 1}, but received {describe_array(inputs)}.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute((0,) + self.dims)

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return inputs.dtype

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"{self._describe()} expects input of rank {len(self.dims) + 1}, but received shape "
                             f"{tuple(input_shape)}.")
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}

    def _summary_args(self) -> str:
        return f"dims={self.dims}"


# ---------------------------------------------------------------------------------------------------- 1D
class ZeroPadding1D(_Reshaping):
    """Pads the steps axis with zeros: ``padding`` n or (before, after). (B, T, F) -> (B, T + before + after, F)."""

    def __init__(self, padding: int | Sequence[int] = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.padding = _pair("ZeroPadding1D", "padding", padding)
        self.data_format = _data_format("ZeroPadding1D", data_format)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        steps = self._spatial_axes()[0]
        widths = [0, 0] * (inputs.ndim - 1 - steps) + list(self.padding)  # F.pad lists the last axis first
        return F.pad(inputs, widths)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        out = list(input_shape)
        steps = self._spatial_axes()[0]
        if out[steps] is not None:
            out[steps] += sum(self.padding)
        return tuple(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}

    def _summary_args(self) -> str:
        return f"padding={self.padding}"


class Cropping1D(_Reshaping):
    """Removes ``cropping`` = (start, end) steps: (B, T, F) -> (B, T - start - end, F)."""

    def __init__(self, cropping: int | Sequence[int] = (1, 1), **kwargs: Any):
        super().__init__(**kwargs)
        self.cropping = _pair("Cropping1D", "cropping", cropping)
        self._maybe_build_from_input_shape()

    def validate_input(self, inputs: torch.Tensor) -> None:
        super().validate_input(inputs)
        self._check_length(inputs.shape[1], tuple(inputs.shape))

    def _check_length(self, steps: int | None, shape: tuple) -> None:
        if steps is not None and sum(self.cropping) >= steps:
            raise ValueError(f"{self._describe()} removes {sum(self.cropping)} steps (cropping={self.cropping}) from "
                             f"inputs of shape {shape} with {steps} steps; at least one step must remain. Crop less.")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        start, end = self.cropping
        return inputs[:, start:inputs.shape[1] - end, :]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self._check_length(input_shape[1], tuple(input_shape))
        steps = None if input_shape[1] is None else input_shape[1] - sum(self.cropping)
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": self.cropping}

    def _summary_args(self) -> str:
        return f"cropping={self.cropping}"


class UpSampling1D(_Reshaping):
    """Repeats each step ``size`` times: (B, T, F) -> (B, T * size, F)."""

    def __init__(self, size: int = 2, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"UpSampling1D: `size` must be an integer, received size={size!r}.")
        if size <= 0:
            raise ValueError(f"UpSampling1D: `size` must be a positive integer, received size={size}.")
        self.size = size
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.repeat_interleave(inputs, self.size, dim=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}

    def _summary_args(self) -> str:
        return f"size={self.size}"


# ---------------------------------------------------------------------------------------------------- 2D
class _Spatial2D(_Reshaping):
    _rank = 4

    @property
    def _layout(self) -> str:
        return ("(batch, channels, height, width)" if self.data_format == "channels_first"
                else "(batch, height, width, channels)")


class ZeroPadding2D(_Spatial2D):
    """Pads height and width with zeros: ``padding`` n, (h, w) or ((top, bottom), (left, right))."""

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.padding = _pairs("ZeroPadding2D", "padding", padding)
        self.data_format = _data_format("ZeroPadding2D", data_format)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        (top, bottom), (left, right) = self.padding
        widths = [left, right, top, bottom] if self.data_format == "channels_first" else [0, 0, left, right, top,
                                                                                          bottom]
        return F.pad(inputs, widths)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        out = list(input_shape)
        for axis, pads in zip(self._spatial_axes(), self.padding):
            if out[axis] is not None:
                out[axis] += sum(pads)
        return tuple(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}

    def _summary_args(self) -> str:
        return f"padding={self.padding}"


class _CroppingSpatial:
    """What Cropping2D and Cropping3D share: ``self.cropping`` holds (start, end) per spatial axis."""

    def _check_sizes(self, shape: tuple) -> None:
        for axis, crops in zip(self._spatial_axes(), self.cropping):
            if shape[axis] is not None and sum(crops) >= shape[axis]:
                raise ValueError(f"{self._describe()} removes {sum(crops)} of the {shape[axis]} entries of axis {axis} "
                                 f"(cropping={self.cropping}) from inputs of shape {shape}; at least one must remain. "
                                 "Crop less.")

    def validate_input(self, inputs: torch.Tensor) -> None:
        super().validate_input(inputs)
        self._check_sizes(tuple(inputs.shape))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        out = inputs
        for axis, (start, end) in zip(self._spatial_axes(), self.cropping):
            out = out.narrow(axis, start, out.shape[axis] - start - end)
        return out

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self._check_sizes(tuple(input_shape))
        return self._resized(tuple(input_shape), lambda i, size: size - sum(self.cropping[i]))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}

    def _summary_args(self) -> str:
        return f"cropping={self.cropping}"


class Cropping2D(_CroppingSpatial, _Spatial2D):
    """Removes rows and columns: ``cropping`` n, (h, w) or ((top, bottom), (left, right))."""

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.cropping = _pairs("Cropping2D", "cropping", cropping)
        self.data_format = _data_format("Cropping2D", data_format)
        self._maybe_build_from_input_shape()


class UpSampling2D(_Spatial2D):
    """Scales height and width by ``size`` = (h, w): ``interpolation='nearest'`` repeats rows and columns;
    'bilinear' and 'bicubic' interpolate (half-pixel centres, no antialiasing, as Keras's torch backend)."""

    _INTERPOLATIONS = ("nearest", "bilinear", "bicubic")

    def __init__(self, size: int | Sequence[int] = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any):
        super().__init__(**kwargs)
        self.size = _pair("UpSampling2D", "size", size, allow_zero=False)
        self.data_format = _data_format("UpSampling2D", data_format)
        if not isinstance(interpolation, str) or interpolation.lower() not in self._INTERPOLATIONS:
            raise ValueError(f"UpSampling2D: `interpolation` must be one of {', '.join(self._INTERPOLATIONS)}, "
                             f"received interpolation={interpolation!r}.")
        self.interpolation = interpolation.lower()
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        height, width = self._spatial_axes()
        if self.interpolation == "nearest":
            out = torch.repeat_interleave(inputs, self.size[0], dim=height)
            return torch.repeat_interleave(out, self.size[1], dim=width)
        x = inputs if self.data_format == "channels_first" else inputs.permute(0, 3, 1, 2)  # (B, C, H, W)
        x = F.interpolate(x, size=(x.shape[2] * self.size[0], x.shape[3] * self.size[1]), mode=self.interpolation,
                          align_corners=False, antialias=False)
        return x if self.data_format == "channels_first" else x.permute(0, 2, 3, 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        out = list(input_shape)
        for axis, factor in zip(self._spatial_axes(), self.size):
            if out[axis] is not None:
                out[axis] *= factor
        return tuple(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}

    def _summary_args(self) -> str:
        return f"size={self.size}"


# ---------------------------------------------------------------------------------------------------- 3D
class _Spatial3D(_Reshaping):
    _rank = 5

    @property
    def _layout(self) -> str:
        return ("(batch, channels, depth, height, width)" if self.data_format == "channels_first"
                else "(batch, depth, height, width, channels)")


class ZeroPadding3D(_Spatial3D):
    """Pads depth, height and width with zeros: ``padding`` n, (d, h, w) or ((before, after),) * 3."""

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.padding = _per_axis("ZeroPadding3D", "padding", padding, 3)
        self.data_format = _data_format("ZeroPadding3D", data_format)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        widths = [p for pair in reversed(self.padding) for p in pair]  # F.pad lists the last axis first
        if self.data_format == "channels_last":
            widths = [0, 0] + widths
        return F.pad(inputs, widths)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._resized(tuple(input_shape), lambda i, size: size + sum(self.padding[i]))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}

    def _summary_args(self) -> str:
        return f"padding={self.padding}"


class Cropping3D(_CroppingSpatial, _Spatial3D):
    """Removes entries from depth, height and width: ``cropping`` n, (d, h, w) or ((start, end),) * 3."""

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.cropping = _per_axis("Cropping3D", "cropping", cropping, 3)
        self.data_format = _data_format("Cropping3D", data_format)
        self._maybe_build_from_input_shape()


class UpSampling3D(_Spatial3D):
    """Repeats each entry ``size`` = (d, h, w) times along depth, height and width (nearest neighbour)."""

    def __init__(self, size: int | Sequence[int] = (2, 2, 2), data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        sizes = (size,) * 3 if isinstance(size, int) and not isinstance(size, bool) else size
        if not (isinstance(sizes, (list, tuple)) and len(sizes) == 3
                and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes)):
            raise ValueError(f"UpSampling3D: `size` must be a positive integer or a tuple of 3 positive integers, "
                             f"received size={size!r}.")
        self.size = tuple(sizes)
        self.data_format = _data_format("UpSampling3D", data_format)
        self._maybe_build_from_input_shape()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        out = inputs
        for axis, factor in zip(self._spatial_axes(), self.size):
            out = torch.repeat_interleave(out, factor, dim=axis)
        return out

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._resized(tuple(input_shape), lambda i, size: size * self.size[i])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}

    def _summary_args(self) -> str:
        return f"size={self.size}"
