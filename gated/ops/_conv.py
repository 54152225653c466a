"""Convolution and pooling ops in Keras's layouts, on torch's kernels.

Inputs are ``channels_last`` (B, *spatial, C) unless ``data_format='channels_first'`` (B, C, *spatial); ``None``
means ``image_data_format()``. Kernels are Keras's (*spatial, in, out); depthwise kernels (*spatial, in,
multiplier). ``padding='same'`` pads as TensorFlow does (the extra element after, when the total is odd).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..utils._config import image_data_format
from ._convert import Tensor, convert_to_tensor, tensors

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


def _format(data_format: str | None) -> str:
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first'; received {data_format!r}.")
    return data_format


def _tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    values = (value,) * n if isinstance(value, int) else tuple(int(v) for v in value)
    if len(values) != n or any(v < 1 for v in values):
        raise ValueError(f"{name} must be a positive int or {n} positive ints; received {name}={value!r}.")
    return values


def _spatial_rank(x: Tensor, op: str) -> int:
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{op} takes inputs of rank 3, 4 or 5 (batch, spatial..., channels); received shape "
                         f"{tuple(x.shape)}.")
    return x.ndim - 2


def _to_first(x: Tensor, data_format: str) -> Tensor:
    return torch.movedim(x, -1, 1) if data_format == "channels_last" else x


def _from_first(x: Tensor, data_format: str) -> Tensor:
    return torch.movedim(x, 1, -1) if data_format == "channels_last" else x


def _same_pads(sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
               dilation: Sequence[int]) -> list[tuple[int, int]]:
    """TensorFlow's 'same' padding per spatial axis: (before, after), the odd element after."""
    pads = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        effective = (k - 1) * d + 1
        total = max((math.ceil(n / s) - 1) * s + effective - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _pad_spatial(x: Tensor, pads: list[tuple[int, int]], value: float = 0.0) -> Tensor:
    flat = [v for pair in reversed(pads) for v in pair]
    return F.pad(x, flat, value=value) if any(flat) else x


def _padding(padding: str) -> str:
    padding = padding.lower() if isinstance(padding, str) else padding
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'; received padding={padding!r}.")
    return padding


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
         dilation_rate: Any = 1) -> Tensor:
    """The N-D convolution (cross-correlation) of ``inputs`` with a Keras-layout ``kernel`` (*spatial, in, out);
    an ``in`` that divides the input channels makes it a grouped convolution."""
    x, w = tensors(inputs, kernel)
    n = _spatial_rank(x, "conv")
    data_format, padding = _format(data_format), _padding(padding)
    if w.ndim != n + 2:
        raise ValueError(f"conv needs a kernel of rank {n + 2} (*spatial, in, out) for inputs of shape "
                         f"{tuple(x.shape)}; received kernel of shape {tuple(w.shape)}.")
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    x = _to_first(x, data_format)
    channels = x.shape[1]
    if channels % w.shape[-2]:
        raise ValueError(f"conv: the input has {channels} channels, which the kernel's {w.shape[-2]} input channels "
                         f"(kernel shape {tuple(w.shape)}) do not divide.")
    weight = w.permute(n + 1, n, *range(n))  # (out, in, *spatial)
    if padding == "same":
        x = _pad_spatial(x, _same_pads(x.shape[2:], w.shape[:n], strides, dilation))
    if x.dtype != weight.dtype:
        common = torch.promote_types(x.dtype, weight.dtype)
        x, weight = x.to(common), weight.to(common)
    out = _CONV[n](x, weight, stride=strides, dilation=dilation, groups=channels // w.shape[-2])
    return _from_first(out, data_format)


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """Each input channel convolved with its own ``multiplier`` filters; kernel (*spatial, in, multiplier)."""
    x, w = tensors(inputs, kernel)
    channels = x.shape[-1] if _format(data_format) == "channels_last" else x.shape[1]
    if w.shape[-2] != channels:
        raise ValueError(f"depthwise_conv: the kernel's input channels ({w.shape[-2]}, kernel shape "
                         f"{tuple(w.shape)}) must equal the input's {channels}.")
    grouped = w.reshape(tuple(w.shape[:-2]) + (1, w.shape[-2] * w.shape[-1]))
    return conv(x, grouped, strides, padding, data_format, dilation_rate)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid", output_padding: Any = None,
                   data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """The transposed convolution (the gradient of ``conv``); kernel (*spatial, out, in) as in Keras, output
    sizes as Keras computes them (``output_padding`` None infers them from ``padding``)."""
    x, w = tensors(inputs, kernel)
    n = _spatial_rank(x, "conv_transpose")
    data_format, padding = _format(data_format), _padding(padding)
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    extra = [None] * n if output_padding is None else list(_tuple_or_zero(output_padding, n))
    x = _to_first(x, data_format)
    if x.shape[1] != w.shape[-1]:
        raise ValueError(f"conv_transpose: the kernel's last axis ({w.shape[-1]}, kernel shape {tuple(w.shape)}) "
                         f"must equal the input channels ({x.shape[1]}).")
    weight = w.permute(n + 1, n, *range(n))  # (in, out, *spatial)
    out = _CONV_T[n](x, weight.to(x.dtype), stride=strides, dilation=dilation)
    for axis in range(n):
        effective = (w.shape[axis] - 1) * dilation[axis] + 1
        before, after = _transpose_pads(effective, strides[axis], padding, extra[axis])
        crop_left, crop_right = effective - 1 - before, effective - 1 - after
        dim = axis + 2
        if crop_left > 0:
            out = out.narrow(dim, crop_left, out.shape[dim] - crop_left)
        if crop_right > 0:
            out = out.narrow(dim, 0, out.shape[dim] - crop_right)
        grow = [0, 0] * n
        grow[2 * (n - 1 - axis)] = max(-crop_left, 0)
        grow[2 * (n - 1 - axis) + 1] = max(-crop_right, 0)
        if any(grow):
            out = F.pad(out, grow)
    return _from_first(out, data_format)


def _tuple_or_zero(value: Any, n: int) -> tuple[int, ...]:
    return (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)


def _transpose_pads(effective: int, stride: int, padding: str, output_padding: int | None) -> tuple[int, int]:
    """Padding of the dilated input in a transposed convolution (Keras's rule, as in its JAX backend)."""
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return effective - 1, effective - 1 + extra
    total = stride + effective - 2 if output_padding is None else effective + effective % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, effective - 1)
    return before, total - before


def _pool(inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: str | None, op: str) -> Tensor:
    x = convert_to_tensor(inputs)
    n = _spatial_rank(x, op)
    data_format, padding = _format(data_format), _padding(padding)
    size = _tuple(pool_size, n, "pool_size")
    step = size if strides is None else _tuple(strides, n, "strides")
    x = _to_first(x, data_format)
    pads = _same_pads(x.shape[2:], size, step, (1,) * n) if padding == "same" else [(0, 0)] * n
    if op == "max_pool":
        low = torch.finfo(x.dtype).min if x.is_floating_point() else torch.iinfo(x.dtype).min
        out = _MAX[n](_pad_spatial(x, pads, low), size, step)
    elif all(a == b for a, b in pads):
        out = _AVG[n](x, size, step, padding=[a for a, _ in pads], count_include_pad=False)
    else:
        # Asymmetric 'same' padding: average over the real elements only (sum of values / count of values).
        padded = _pad_spatial(x, pads)
        ones = _pad_spatial(torch.ones_like(x[:1, :1]), pads)
        total = _AVG[n](padded, size, step) * math.prod(size)
        count = _AVG[n](ones, size, step) * math.prod(size)
        out = total / count
    return _from_first(out, data_format)


def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> Tensor:
    """The maximum over windows of ``pool_size`` (strides default to the pool size)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max_pool")


def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> Tensor:
    """The mean over windows of ``pool_size``; with 'same' padding the padded positions do not count."""
    return _pool(inputs, pool_size, strides, padding, data_format, "average_pool")


def _adaptive(inputs: Any, output_size: Any, data_format: str | None, table: dict, op: str) -> Tensor:
    x = convert_to_tensor(inputs)
    n = _spatial_rank(x, op)
    data_format = _format(data_format)
    size = _tuple(output_size, n, "output_size")
    out = table[n](_to_first(x, data_format), size if n > 1 else size[0])
    return _from_first(out, data_format)


def adaptive_average_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> Tensor:
    """Average pooling to a fixed ``output_size`` per spatial axis."""
    return _adaptive(inputs, output_size, data_format, _ADAPTIVE_AVG, "adaptive_average_pool")


def adaptive_max_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> Tensor:
    """Max pooling to a fixed ``output_size`` per spatial axis."""
    return _adaptive(inputs, output_size, data_format, _ADAPTIVE_MAX, "adaptive_max_pool")


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding local blocks of a (B, C, H, W) tensor as (B, C * kh * kw, L), torch's ``unfold``."""
    x = convert_to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"unfold takes a 4-D (batch, channels, height, width) tensor; received shape "
                         f"{tuple(x.shape)}.")
    return F.unfold(x, kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """The inverse of ``unfold``: (B, C * kh * kw, L) blocks summed back into (B, C, H, W)."""
    x = convert_to_tensor(x)
    return F.fold(x, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Channels rearranged into ``block_size`` x ``block_size`` spatial blocks. channels_last reads the channel
    index as (row, column, channel) (TensorFlow's order); channels_first as (channel, row, column) (torch's
    ``pixel_shuffle``), as Keras does."""
    x = convert_to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"depth_to_space takes a 4-D tensor; received shape {tuple(x.shape)}.")
    last = _format(data_format) == "channels_last"
    c = x.shape[-1] if last else x.shape[1]
    if c % (block_size * block_size):
        raise ValueError(f"depth_to_space: {c} channels are not divisible by block_size**2={block_size ** 2}.")
    if not last:
        return F.pixel_shuffle(x, block_size)
    b, h, w, _ = x.shape
    out = x.reshape(b, h, w, block_size, block_size, c // block_size ** 2).permute(0, 1, 3, 2, 4, 5)
    return out.reshape(b, h * block_size, w * block_size, c // block_size ** 2)


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """``block_size`` x ``block_size`` spatial blocks moved into channels, the inverse of ``depth_to_space``."""
    x = convert_to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"space_to_depth takes a 4-D tensor; received shape {tuple(x.shape)}.")
    last = _format(data_format) == "channels_last"
    h, w = (x.shape[1], x.shape[2]) if last else (x.shape[2], x.shape[3])
    if h % block_size or w % block_size:
        raise ValueError(f"space_to_depth: spatial size ({h}, {w}) is not divisible by block_size={block_size}.")
    if not last:
        return F.pixel_unshuffle(x, block_size)
    b, _, _, c = x.shape
    out = x.reshape(b, h // block_size, block_size, w // block_size, block_size, c).permute(0, 1, 3, 2, 4, 5)
    return out.reshape(b, h // block_size, w // block_size, c * block_size ** 2)
