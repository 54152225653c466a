"""``keras.ops.image`` on torch: resizing, colour spaces, crops and pads, patches, geometric warps and blurs of
images, batched (B, H, W, C) or single (H, W, C) (channels first: (B, C, H, W) / (C, H, W)).

``data_format`` defaults to ``gated.utils._config.image_data_format()``. Results follow Keras on its torch
backend: resizing uses ``torch.nn.functional.interpolate`` (half-pixel centres), integer images are resized in
float32 and rounded back, and warps sample with ``map_coordinates`` (order 0 nearest, 1 linear).
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from ..utils import _config
from ._conv import conv
from ._convert import Tensor, convert_to_tensor
from ._dtypes import result_type, to_torch

__all__ = [
    "affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d", "gaussian_blur",
    "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform", "resize", "rgb_to_grayscale",
    "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim",
]

_RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_WARP_ORDERS = {"nearest": 0, "bilinear": 1}
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _data_format(data_format: str | None) -> str:
    data_format = _config.image_data_format() if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first'; received {data_format!r}.")
    return data_format


def _images(images: Any, op: str) -> Tensor:
    x = convert_to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op} takes a batch of images (rank 4) or a single image (rank 3); received an array of "
                         f"shape {tuple(x.shape)}. Add a batch axis with x[None] or drop extra axes.")
    return x


def _float_images(images: Any, op: str) -> Tensor:
    x = _images(images, op)
    if not x.is_floating_point():
        raise ValueError(f"{op} takes float images; received dtype {str(x.dtype).split('.')[-1]}. Cast first, e.g. "
                         "ops.cast(images, 'float32') / 255.")
    return x


def _channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else -3


def _batched_first(x: Tensor, data_format: str) -> tuple[Tensor, bool]:
    """(B, C, H, W) from any accepted layout, and whether a batch axis was added."""
    single = x.ndim == 3
    if single:
        x = x[None]
    if data_format == "channels_last":
        x = x.permute(0, 3, 1, 2)
    return x, single


def _restore(x: Tensor, data_format: str, single: bool) -> Tensor:
    if data_format == "channels_last":
        x = x.permute(0, 2, 3, 1)
    return x[0] if single else x


def _check_choice(value: Any, allowed: Sequence[str], name: str, op: str) -> None:
    if value not in allowed:
        raise ValueError(f"{op}: {name} must be one of {tuple(allowed)}; received {name}={value!r}.")


# --- colour spaces -----------------------------------------------------------------------------------------------

def rgb_to_grayscale(images: Any, data_format: str | None = None) -> Tensor:
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` with the channel axis kept (size 1); grayscale input is copied."""
    x, data_format = _images(images, "rgb_to_grayscale"), _data_format(data_format)
    axis = _channel_axis(data_format)
    if x.shape[axis] not in (1, 3):
        raise ValueError(f"rgb_to_grayscale takes 3 (RGB) or 1 (grayscale) channels; received images of shape "
                         f"{tuple(x.shape)} with {x.shape[axis]} channels on axis {axis} ({data_format}).")
    if x.shape[axis] == 1:
        return x.clone()
    red, green, blue = x.unbind(axis)
    return (0.2989 * red + 0.587 * green + 0.114 * blue).to(x.dtype).unsqueeze(axis)


def _split_planes(x: Tensor, axis: int, op: str) -> tuple[Tensor, Tensor, Tensor]:
    if x.shape[axis] != 3:
        raise ValueError(f"{op} takes 3 channels; received images of shape {tuple(x.shape)}.")
    return tuple(x.unbind(axis))


def rgb_to_hsv(images: Any, data_format: str | None = None) -> Tensor:
    """RGB in [0, 1] to hue, saturation, value, each in [0, 1]."""
    x, data_format = _float_images(images, "rgb_to_hsv"), _data_format(data_format)
    axis = _channel_axis(data_format)
    x = torch.where(x.abs() < torch.finfo(x.dtype).eps, 0.0, x)
    red, green, blue = _split_planes(x, axis, "rgb_to_hsv")
    value = torch.maximum(torch.maximum(red, green), blue)
    spread = value - torch.minimum(torch.minimum(red, green), blue)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(value == green, norm * (blue - red) + 2.0 / 6.0, norm * (red - green) + 4.0 / 6.0)
    hue = torch.where(value == red, norm * (green - blue), hue)
    hue = torch.where(spread > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=axis)


def hsv_to_rgb(images: Any, data_format: str | None = None) -> Tensor:
    """Hue, saturation, value in [0, 1] to RGB."""
    x, data_format = _float_images(images, "hsv_to_rgb"), _data_format(data_format)
    axis = _channel_axis(data_format)
    hue, saturation, value = _split_planes(x, axis, "hsv_to_rgb")
    sixths = torch.remainder(hue, 1.0) * 6.0
    red = torch.clip((sixths - 3.0).abs() - 1.0, 0.0, 1.0)
    green = torch.clip(2.0 - (sixths - 2.0).abs(), 0.0, 1.0)
    blue = torch.clip(2.0 - (sixths - 4.0).abs(), 0.0, 1.0)
    grey = 1.0 - saturation
    planes = [value * (grey + saturation * plane) for plane in (red, green, blue)]
    return torch.stack(planes, dim=axis)


# --- resizing ----------------------------------------------------------------------------------------------------

def _aspect_box(height: int, width: int, size: tuple[int, int]) -> tuple[int, int]:
    """The (height, width) of the box of ``size``'s aspect ratio that fits ``height`` x ``width``."""
    return int(float(width * size[0]) / size[1]), int(float(height * size[1]) / size[0])


def resize(images: Any, size: Sequence[int], interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format: str | None = None) -> Tensor:
    """``images`` resized to ``size`` = (height, width); keeps the dtype (integers rounded).

    ``crop_to_aspect_ratio`` first takes the largest centred crop of the target aspect ratio,
    ``pad_to_aspect_ratio`` instead pads both sides evenly with ``fill_value``.
    """
    data_format = _data_format(data_format)
    if interpolation in ("lanczos3", "lanczos5"):
        raise ValueError(f"resize: Lanczos interpolation is not available on torch (as in Keras's torch backend); "
                         f"received interpolation={interpolation!r}. Use 'bicubic' with antialias=True instead.")
    _check_choice(interpolation, tuple(_RESIZE_MODES), "interpolation", "resize")
    if fill_mode != "constant":
        raise ValueError(f"resize: only fill_mode='constant' is supported; received fill_mode={fill_mode!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: pass at most one of crop_to_aspect_ratio=True and pad_to_aspect_ratio=True.")
    if len(size) != 2:
        raise ValueError(f"resize: size must be (height, width); received size={tuple(size)}.")
    size = (int(size[0]), int(size[1]))
    x = _images(images, "resize")
    dtype = x.dtype
    if dtype not in (torch.float32, torch.float64):
        x = x.float()
    x, single = _batched_first(x, data_format)                    # (B, C, H, W)
    height, width = x.shape[-2:]
    if crop_to_aspect_ratio:
        crop_h, crop_w = _aspect_box(height, width, size)
        crop_h, crop_w = max(min(height, crop_h), 1), max(min(width, crop_w), 1)
        top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
        x = x[:, :, top:top + crop_h, left:left + crop_w]
    elif pad_to_aspect_ratio:
        pad_h, pad_w = _aspect_box(height, width, size)
        top, left = int(float(max(height, pad_h) - height) / 2), int(float(max(width, pad_w) - width) / 2)
        x = F.pad(x, (left, left, top, top), value=float(fill_value))
    if interpolation not in ("bilinear", "bicubic"):
        antialias = False
    corners = False if interpolation in ("bilinear", "bicubic") else None
    out = F.interpolate(x, size=size, mode=_RESIZE_MODES[interpolation], align_corners=corners,
                        antialias=bool(antialias))
    if interpolation == "bicubic" and dtype == torch.uint8:
        out = out.clamp(0, 255)
    out = _restore(out, data_format, single)
    if out.dtype != dtype:
        if not (dtype.is_floating_point or dtype.is_complex or dtype == torch.bool):
            out = torch.round(out)
        out = out.to(dtype)
    return out


# --- crops, pads, patches ----------------------------------------------------------------------------------------

def _two_of_three(first: int | None, second: int | None, target: int | None, names: tuple[str, str, str],
                  op: str) -> None:
    if [first, second, target].count(None) != 1:
        raise ValueError(f"{op}: give exactly two of {', '.join(names)}; received {names[0]}={first}, "
                         f"{names[1]}={second}, {names[2]}={target}.")
    for value, name in zip((first, second, target), names):
        if value is not None and value < 0:
            raise ValueError(f"{op}: {name} must be >= 0; received {name}={value}.")


def _height_width(x: Tensor, data_format: str) -> tuple[int, int]:
    return (x.shape[-3], x.shape[-2]) if data_format == "channels_last" else (x.shape[-2], x.shape[-1])


def _spatial_slices(x: Tensor, data_format: str, rows: slice, cols: slice) -> tuple:
    spatial = (rows, cols, slice(None)) if data_format == "channels_last" else (slice(None), rows, cols)
    return (slice(None),) * (x.ndim - 3) + spatial


def pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
               bottom_padding: int | None = None, right_padding: int | None = None, target_height: int | None = None,
               target_width: int | None = None, data_format: str | None = None) -> Tensor:
    """``images`` padded with zeros; per axis give two of (top, bottom, target_height) / (left, right, target_width)."""
    data_format, x = _data_format(data_format), _images(images, "pad_images")
    names_h = ("top_padding", "bottom_padding", "target_height")
    names_w = ("left_padding", "right_padding", "target_width")
    _two_of_three(top_padding, bottom_padding, target_height, names_h, "pad_images")
    _two_of_three(left_padding, right_padding, target_width, names_w, "pad_images")
    height, width = _height_width(x, data_format)
    top = target_height - bottom_padding - height if top_padding is None else top_padding
    bottom = target_height - top - height if bottom_padding is None else bottom_padding
    left = target_width - right_padding - width if left_padding is None else left_padding
    right = target_width - left - width if right_padding is None else right_padding
    for value, name in ((top, "top_padding"), (left, "left_padding"), (right, "right_padding"),
                        (bottom, "bottom_padding")):
        if value < 0:
            raise ValueError(f"pad_images: the target size is smaller than the images of shape {tuple(x.shape)}, "
                             f"which gives {name}={value}; pick a target of at least the image size.")
    pads = (0, 0, left, right, top, bottom) if data_format == "channels_last" else (left, right, top, bottom)
    return F.pad(x, pads)


def crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                bottom_cropping: int | None = None, right_cropping: int | None = None,
                target_height: int | None = None, target_width: int | None = None,
                data_format: str | None = None) -> Tensor:
    """A window of ``images``; per axis give two of (top, bottom, target_height) / (left, right, target_width)."""
    data_format, x = _data_format(data_format), _images(images, "crop_images")
    names_h = ("top_cropping", "bottom_cropping", "target_height")
    names_w = ("left_cropping", "right_cropping", "target_width")
    _two_of_three(top_cropping, bottom_cropping, target_height, names_h, "crop_images")
    _two_of_three(left_cropping, right_cropping, target_width, names_w, "crop_images")
    height, width = _height_width(x, data_format)
    top = height - target_height - bottom_cropping if top_cropping is None else top_cropping
    rows = height - bottom_cropping - top if target_height is None else target_height
    left = width - target_width - right_cropping if left_cropping is None else left_cropping
    cols = width - right_cropping - left if target_width is None else target_width
    for value, name in ((top, "top_cropping"), (rows, "target_height"), (left, "left_cropping"),
                        (cols, "target_width")):
        if value < 0:
            raise ValueError(f"crop_images: the cropping does not fit images of shape {tuple(x.shape)}; it gives "
                             f"{name}={value}. Crop at most the image size.")
    if top + rows > height or left + cols > width:
        raise ValueError(f"crop_images: the window (top={top}, left={left}, height={rows}, width={cols}) does not "
                         f"fit images of shape {tuple(x.shape)}.")
    return x[_spatial_slices(x, data_format, slice(top, top + rows), slice(left, left + cols))]


def _patches(x: Tensor, size: tuple[int, ...], strides: Any, dilation_rate: Any, padding: str,
             data_format: str) -> Tensor:
    """Patches of ``size`` (2 or 3 spatial axes) flattened into channels, by a convolution with an identity kernel
    (exact: each output channel copies one input value)."""
    rank = len(size)
    if x.ndim not in (rank + 1, rank + 2):
        what = "images" if rank == 2 else "volumes"
        raise ValueError(f"Patches of {what} need a batch (rank {rank + 2}) or a single one (rank {rank + 1}); "
                         f"received an array of shape {tuple(x.shape)}.")
    channels = x.shape[-1] if data_format == "channels_last" else x.shape[-rank - 1]
    depth = channels * functools.reduce(operator.mul, size)
    kernel = torch.eye(depth, dtype=x.dtype, device=x.device).reshape(*size, channels, depth)
    single = x.ndim == rank + 1
    patches = conv(x[None] if single else x, kernel, strides=size if strides is None else strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate)
    return patches[0] if single else patches


def extract_patches(images: Any, size: int | Sequence[int], strides: int | Sequence[int] | None = None,
                    dilation_rate: int | Sequence[int] = 1, padding: str = "valid",
                    data_format: str | None = None) -> Tensor:
    """Patches of ``size`` = (ph, pw) flattened into the channel axis: (B, H', W', ph * pw * C) channels last;
    ``strides`` default to ``size``. Three sizes take patches of volumes, as ``extract_patches_3d``."""
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    if isinstance(size, int):
        size = (size, size)
    if len(size) != 2:
        raise TypeError(f"extract_patches takes size as an int, (height, width) for images or (depth, height, "
                        f"width) for volumes; received size={tuple(size)}.")
    return _patches(convert_to_tensor(images), tuple(int(v) for v in size), strides or None, dilation_rate, padding,
                    _data_format(data_format))


def extract_patches_3d(volumes: Any, size: int | Sequence[int], strides: int | Sequence[int] | None = None,
                       dilation_rate: int | Sequence[int] = 1, padding: str = "valid",
                       data_format: str | None = None) -> Tensor:
    """Patches of ``size`` = (pd, ph, pw) of volumes (B, D, H, W, C) flattened into the channel axis:
    (B, D', H', W', pd * ph * pw * C) channels last; ``strides`` default to ``size``."""
    size = (size,) * 3 if isinstance(size, int) else tuple(size)
    if len(size) != 3:
        raise TypeError(f"extract_patches_3d takes size as an int or (depth, height, width); received size={size}.")
    if isinstance(strides, int):
        strides = (strides,) * 3
    if strides is not None and len(strides) != 3:
        raise ValueError(f"extract_patches_3d takes strides as an int or 3 numbers; received strides={strides}.")
    return _patches(convert_to_tensor(volumes), tuple(int(v) for v in size), strides, dilation_rate, padding,
                    _data_format(data_format))


# --- sampling and warps ------------------------------------------------------------------------------------------

def _mirror(index: Tensor, size: int) -> Tensor:
    half = size - 1
    return torch.abs((index + half) % (2 * half) - half) if half > 0 else torch.zeros_like(index)


def _reflect(index: Tensor, size: int) -> Tensor:
    return torch.floor_divide(_mirror(2 * index + 1, 2 * size + 1) - 1, 2)


_INDEX_FIXERS: dict[str, Callable[[Tensor, int], Tensor]] = {
    "constant": lambda index, size: index.clamp(0, size - 1),
    "nearest": lambda index, size: index.clamp(0, size - 1),
    "wrap": lambda index, size: index % size,
    "mirror": _mirror,
    "reflect": _reflect,
}


def _nodes(coordinate: Tensor, order: int) -> list[tuple[Tensor, Any]]:
    """The integer sample positions along one axis and their weights."""
    if order == 0:
        rounded = coordinate if not coordinate.is_floating_point() else torch.round(coordinate)
        return [(rounded.to(torch.int64), 1)]
    lower = torch.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.to(torch.int64)
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0) -> Tensor:
    """``inputs`` sampled at ``coordinates`` (one array of positions per input axis), by nearest (order 0) or
    linear (order 1) interpolation; positions outside follow ``fill_mode`` ('constant' gives ``fill_value``)."""
    x = convert_to_tensor(inputs)
    coords = [convert_to_tensor(c) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(f"map_coordinates needs one coordinate array per input axis: inputs of shape "
                         f"{tuple(x.shape)} need {x.ndim}, received {len(coords)}.")
    if coords[0].ndim < 1:
        raise ValueError(f"map_coordinates takes coordinates of rank at least 2, (rank, ...); received shape "
                         f"{(len(coords),) + tuple(coords[0].shape)}.")
    _check_choice(fill_mode, _FILL_MODES, "fill_mode", "map_coordinates")
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates supports order 0 (nearest) and 1 (linear); received "
                                  f"order={order}.")
    integer = not (x.is_floating_point() or x.is_complex())
    if integer and isinstance(fill_value, (int, float)):
        fill_value = int(fill_value)
    fixer = _INDEX_FIXERS[fill_mode]
    per_axis = []
    for coordinate, size in zip(coords, x.shape):
        per_axis.append([(fixer(index, size), (index >= 0) & (index < size) if fill_mode == "constant" else None,
                          weight) for index, weight in _nodes(coordinate, order)])
    terms = []
    for corner in itertools.product(*per_axis):
        indices, valid, weights = zip(*corner)
        values = x[indices]
        masks = [v for v in valid if v is not None]
        if masks:
            values = torch.where(functools.reduce(operator.and_, masks), values, fill_value)
        terms.append(functools.reduce(operator.mul, weights) * values)
    result = functools.reduce(operator.add, terms)
    if integer and result.is_floating_point():
        result = torch.round(result)
    return result.to(x.dtype)


def _warp_args(interpolation: str, fill_mode: str, op: str) -> int:
    _check_choice(interpolation, tuple(_WARP_ORDERS), "interpolation", op)
    _check_choice(fill_mode, _FILL_MODES, "fill_mode", op)
    return _WARP_ORDERS[interpolation]


def _sample_last(image: Tensor, rows: Tensor, cols: Tensor, order: int, fill_mode: str, fill_value: float) -> Tensor:
    """One (H, W, C) image sampled at positions ``rows``, ``cols`` that broadcast to (H', W', C): (H', W', C)."""
    channels = torch.arange(image.shape[-1], device=image.device).to(rows.dtype)
    shape = torch.broadcast_shapes(rows.shape, cols.shape, channels.shape)
    coords = [rows.expand(shape), cols.expand(shape), channels.expand(shape)]
    return map_coordinates(image, coords, order, fill_mode, fill_value)


def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0, data_format: str | None = None) -> Tensor:
    """``images`` warped by ``transform`` (8 numbers ``a0..b2, c0, c1`` per image, or one row for all): the
    output pixel (x, y) takes the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, k = c0 x + c1 y + 1
    (as in Keras's torch backend, c0 and c1 scale the channel index instead of dividing)."""
    data_format = _data_format(data_format)
    order = _warp_args(interpolation, fill_mode, "affine_transform")
    x, transform = _images(images, "affine_transform"), convert_to_tensor(transform)
    if transform.ndim not in (1, 2):
        raise ValueError(f"affine_transform takes one transform (8,) or a batch (B, 8); received shape "
                         f"{tuple(transform.shape)}.")
    single = x.ndim == 3
    if single:
        x = x[None]
    if transform.ndim == 1:
        transform = transform[None]
    if data_format == "channels_first":
        x = x.permute(0, 2, 3, 1)                                  # (B, H, W, C)
    height, width = x.shape[1:3]
    transform = transform.expand(x.shape[0], -1)
    grid = dict(dtype=transform.dtype, device=transform.device)
    rows = torch.arange(height, **grid)[:, None, None]           # (H, 1, 1)
    cols = torch.arange(width, **grid)[None, :, None]            # (1, W, 1)
    chans = torch.arange(x.shape[-1], **grid)                    # (C,)
    out = []
    for image, t in zip(x, transform):
        source_rows = t[4] * rows + t[3] * cols + t[6] * chans + t[5]
        source_cols = t[1] * rows + t[0] * cols + t[7] * chans + t[2]
        out.append(_sample_last(image, source_rows, source_cols, order, fill_mode, fill_value))
    out = torch.stack(out)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out[0] if single else out


def _homography(start: Tensor, end: Tensor) -> Tensor:
    """The 8 coefficients per batch that map ``end`` corners to ``start`` corners: (B, 8)."""
    rows = []
    for i in range(4):
        ex, ey, sx, sy = end[:, i, 0], end[:, i, 1], start[:, i, 0], start[:, i, 1]
        one, zero = torch.ones_like(ex), torch.zeros_like(ex)
        rows.append(torch.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], dim=-1))
        rows.append(torch.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], dim=-1))
    matrix = torch.stack(rows, dim=1)                              # (B, 8, 8)
    target = torch.stack([start[:, i // 2, i % 2] for i in range(8)], dim=-1)[..., None]
    compute = torch.promote_types(matrix.dtype, torch.float32)
    return torch.linalg.solve(matrix.to(compute), target.to(compute)).reshape(-1, 8).to(matrix.dtype)


def _corners(points: Any, dtype: torch.dtype, name: str) -> Tensor:
    p = convert_to_tensor(points).to(dtype)
    if p.ndim not in (2, 3) or tuple(p.shape[-2:]) != (4, 2):
        raise ValueError(f"perspective_transform takes {name} of shape (4, 2) for one image or (B, 4, 2); received "
                         f"shape {tuple(p.shape)}.")
    return p[None] if p.ndim == 2 else p


def perspective_transform(images: Any, start_points: Any, end_points: Any, interpolation: str = "bilinear",
                          fill_value: float = 0, data_format: str | None = None) -> Tensor:
    """``images`` warped so that the four (x, y) ``start_points`` land on ``end_points``; outside is
    ``fill_value``."""
    data_format = _data_format(data_format)
    order = _warp_args(interpolation, "constant", "perspective_transform")
    x = _images(images, "perspective_transform")
    start, end = _corners(start_points, x.dtype, "start_points"), _corners(end_points, x.dtype, "end_points")
    if start.shape != end.shape:
        raise ValueError(f"perspective_transform: start_points and end_points must have the same shape; received "
                         f"{tuple(start.shape)} and {tuple(end.shape)}.")
    single = x.ndim == 3
    if single:
        x = x[None]
    if data_format == "channels_first":
        x = x.permute(0, 2, 3, 1)                                  # (B, H, W, C)
    batch, height, width = x.shape[:3]
    coefficients = _homography(start, end)
    if coefficients.shape[0] == 1 and batch > 1:
        coefficients = coefficients.expand(batch, -1)
    cols, rows = torch.meshgrid(torch.arange(width, dtype=x.dtype, device=x.device),
                                torch.arange(height, dtype=x.dtype, device=x.device), indexing="xy")
    out = []
    for image, (a0, a1, a2, a3, a4, a5, a6, a7) in zip(x, coefficients):
        denominator = a6 * cols + a7 * rows + 1.0
        source_cols = (a0 * cols + a1 * rows + a2) / denominator
        source_rows = (a3 * cols + a4 * rows + a5) / denominator
        out.append(_sample_last(image, source_rows[..., None], source_cols[..., None], order, "constant",
                                fill_value))
    out = torch.stack(out)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out[0] if single else out


# --- blurs -------------------------------------------------------------------------------------------------------

def _gaussian_1d(size: int, sigma: Tensor, dtype: torch.dtype) -> Tensor:
    offsets = torch.arange(size, dtype=dtype, device=sigma.device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(images: Any, kernel_size: Sequence[int] = (3, 3), sigma: Sequence[float] = (1.0, 1.0),
                  data_format: str | None = None) -> Tensor:
    """``images`` convolved per channel with a normalized Gaussian of ``kernel_size`` (odd sizes keep the
    shape) and standard deviations ``sigma``; zero padding."""
    x, data_format = _images(images, "gaussian_blur"), _data_format(data_format)
    if len(kernel_size) != 2 or len(sigma) != 2:
        raise ValueError(f"gaussian_blur takes kernel_size and sigma as pairs; received kernel_size={kernel_size}, "
                         f"sigma={sigma}.")
    size = (int(kernel_size[0]), int(kernel_size[1]))
    sigma = convert_to_tensor(sigma)
    if not sigma.is_floating_point():
        sigma = sigma.float()
    x, single = _batched_first(x, data_format)                    # (B, C, H, W)
    return _restore(_blur_first(x, size, sigma.to(x.device)), data_format, single)


def _blur_first(x: Tensor, size: tuple[int, int], sigma: Tensor) -> Tensor:
    """(B, C, H, W) blurred per channel (the kernel's rows from ``size[1]``, ``sigma[1]``, as Keras builds it)."""
    kernel = torch.outer(_gaussian_1d(size[1], sigma[1], x.dtype), _gaussian_1d(size[0], sigma[0], x.dtype))
    channels = x.shape[1]
    kernel = kernel.reshape(1, 1, *size).expand(channels, 1, *size)
    return F.conv2d(x, kernel, padding=size[0] // 2, groups=channels)


def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0, interpolation: str = "bilinear",
                      fill_mode: str = "reflect", fill_value: float = 0.0, seed: int | None = None,
                      data_format: str | None = None) -> Tensor:
    """``images`` displaced by a random field: per image, normal noise per pixel for x and y, blurred by a
    Gaussian of ``sigma`` (kernel ``int(6 sigma) | 1``) and scaled by ``alpha``, then resampled.

    With ``seed=None`` the noise comes from torch's global generator, in the order Keras's torch backend draws it
    (so ``torch.manual_seed`` reproduces Keras); an int ``seed`` uses its own generator (Keras's torch backend
    ignores the seed there)."""
    data_format = _data_format(data_format)
    order = _warp_args(interpolation, fill_mode, "elastic_transform")
    x = _images(images, "elastic_transform")
    if seed is not None and not isinstance(seed, int):
        raise TypeError(f"elastic_transform takes seed as None or an int; received {type(seed).__name__}.")
    generator = None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
    x, single = _batched_first(x, data_format)                    # (B, C, H, W)
    batch, channels, height, width = x.shape
    sigma_t = convert_to_tensor(sigma).to(x.device)
    size = (int(6 * float(sigma)) | 1,) * 2
    field = [torch.normal(0.0, 1.0, size=(batch, 1, height, width), generator=generator, dtype=x.dtype,
                          device=x.device) * sigma_t for _ in range(2)]
    dx, dy = (_blur_first(f, size, torch.stack([sigma_t, sigma_t]))[:, 0] for f in field)   # (B, H, W)
    cols = torch.arange(width, device=x.device).to(x.dtype)[None, None, :]
    rows = torch.arange(height, device=x.device).to(x.dtype)[None, :, None]
    source_cols, source_rows = cols + alpha * dx, rows + alpha * dy
    out = torch.stack([torch.stack([map_coordinates(x[b, c], [source_rows[b], source_cols[b]], order, fill_mode,
                                                    fill_value) for c in range(channels)]) for b in range(batch)])
    return _restore(out.to(x.dtype), data_format, single)


# --- edges and similarity ----------------------------------------------------------------------------------------

def sobel_edges(images: Any, data_format: str | None = None) -> Tensor:
    """The Sobel gradients of a batch of images, ``[dy, dx]`` on a new last axis: (B, H, W, C, 2) channels last,
    (B, C, H, W, 2) channels first; zero padding keeps the size."""
    x, data_format = convert_to_tensor(images), _data_format(data_format)
    if x.ndim != 4:
        raise ValueError(f"sobel_edges takes a batch of images (rank 4); received shape {tuple(x.shape)}. Add a "
                         "batch axis with x[None].")
    x = x.permute(0, 3, 1, 2) if data_format == "channels_last" else x     # (B, C, H, W)
    channels = x.shape[1]
    dx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device)
    kernels = [k.reshape(1, 1, 3, 3).expand(channels, 1, 3, 3) for k in (dx.T, dx)]
    edges = torch.stack([F.conv2d(x, k, padding=1, groups=channels) for k in kernels], dim=-1)
    return edges.permute(0, 2, 3, 1, 4) if data_format == "channels_last" else edges


def ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, data_format: str | None = None) -> Tensor:
    """The structural similarity of two images (Wang et al., 2004) with a ``filter_size`` Gaussian window of
    ``filter_sigma`` (valid positions only), averaged over positions and channels: (B,) or a scalar."""
    data_format = _data_format(data_format)
    a, b = _images(image1, "ssim"), _images(image2, "ssim")
    if a.shape != b.shape:
        raise ValueError(f"ssim compares images of the same shape; received {tuple(a.shape)} and "
                         f"{tuple(b.shape)}.")
    dtype = a.dtype
    compute = dtype if dtype.is_floating_point else torch.float32
    a, single = _batched_first(a.to(compute), data_format)          # (B, C, H, W)
    b, _ = _batched_first(b.to(compute), data_format)
    batch, channels, height, width = a.shape
    offsets = torch.arange(filter_size, dtype=compute, device=a.device) - (filter_size - 1) / 2.0
    window = torch.exp(-(offsets ** 2) / (2.0 * filter_sigma ** 2))
    window = window / window.sum()
    window = torch.outer(window, window).reshape(1, 1, filter_size, filter_size)
    a, b = a.reshape(-1, 1, height, width), b.reshape(-1, 1, height, width)   # (B*C, 1, H, W)

    def mean(z: Tensor) -> Tensor:
        return F.conv2d(z, window)

    mu_a, mu_b = mean(a), mean(b)
    var_a, var_b, cov = mean(a * a) - mu_a * mu_a, mean(b * b) - mu_b * mu_b, mean(a * b) - mu_a * mu_b
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    index = ((2.0 * mu_a * mu_b + c1) * (2.0 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    result = index.mean(dim=(1, 2, 3)).reshape(batch, channels).mean(dim=-1)
    return (result[0] if single else result).to(dtype)


# --- scale and translate -----------------------------------------------------------------------------------------

def _triangle(x: Tensor) -> Tensor:
    return torch.clamp(1 - x.abs(), min=0)


def _keys_cubic(x: Tensor) -> Tensor:
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return torch.where(x >= 2.0, 0.0, torch.where(x >= 1.0, far, near))


def _lanczos(radius: float) -> Callable[[Tensor], Tensor]:
    def kernel(x: Tensor) -> Tensor:
        numerator = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
        value = torch.where(x > 1e-3, numerator / torch.where(x != 0, math.pi ** 2 * x ** 2, 1), 1)
        return torch.where(x > radius, 0.0, value)
    return kernel


_SCALE_KERNELS = {"linear": _triangle, "bilinear": _triangle, "trilinear": _triangle, "cubic": _keys_cubic,
                  "bicubic": _keys_cubic, "tricubic": _keys_cubic, "lanczos3": _lanczos(3.0),
                  "lanczos5": _lanczos(5.0)}


def _resample_matrix(in_size: int, out_size: int, scale: Tensor, shift: Tensor, kernel: Callable,
                     antialias: bool) -> Tensor:
    """(in_size, out_size) weights: output sample j reads input i with weight [i, j]."""
    inverse = 1.0 / scale
    stretch = torch.clamp(inverse, min=1.0) if antialias else 1.0
    centres = (torch.arange(out_size, dtype=scale.dtype, device=scale.device) + 0.5) * inverse \
        - shift * inverse - 0.5                                                     # (out,)
    inputs = torch.arange(in_size, dtype=scale.dtype, device=scale.device)[:, None]  # (in, 1)
    weights = kernel((centres[None, :] - inputs).abs() / stretch)
    total = weights.sum(dim=0, keepdim=True)
    weights = torch.where(total.abs() > 1000.0 * torch.finfo(torch.float32).eps,
                          weights / torch.where(total != 0, total, 1), 0)
    inside = (centres >= -0.5) & (centres <= in_size - 0.5)
    return torch.where(inside[None, :], weights, 0)


def scale_and_translate(images: Any, output_shape: Sequence[int], scale: Any, translation: Any,
                        spatial_dims: Sequence[int], method: str, antialias: bool = True) -> Tensor:
    """``images`` resampled along ``spatial_dims`` to ``output_shape``: output position ``o`` reads the input at
    ``(o + 0.5 - translation) / scale - 0.5`` with the ``method`` kernel (widened when downscaling if
    ``antialias``); integer images are rounded and clipped to their range."""
    _check_choice(method, tuple(_SCALE_KERNELS), "method", "scale_and_translate")
    x = convert_to_tensor(images)
    scale, translation = convert_to_tensor(scale), convert_to_tensor(translation)
    dtype = to_torch(result_type(scale.dtype, translation.dtype))
    scale, translation = scale.to(dtype), translation.to(dtype)
    if len(output_shape) != x.ndim:
        raise ValueError(f"scale_and_translate takes output_shape with one size per axis of images of shape "
                         f"{tuple(x.shape)}; received output_shape={tuple(output_shape)}.")
    if len(spatial_dims) == 0:
        return x
    integer = not (x.is_floating_point() or x.is_complex())
    out = x.float() if integer else x.clone()
    for i, axis in enumerate(spatial_dims):
        axis = axis % x.ndim
        weights = _resample_matrix(x.shape[axis], int(output_shape[axis]), scale[i], translation[i],
                                   _SCALE_KERNELS[method], antialias).to(out.dtype)
        out = torch.moveaxis(torch.tensordot(out, weights, dims=([axis], [0])), -1, axis)
    if integer:
        out = torch.clip(torch.round(out), x.min(), x.max()).to(x.dtype)
    return out
