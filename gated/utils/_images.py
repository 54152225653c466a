"""Keras's image file helpers: PIL images <-> arrays, reading and writing image files.

Pillow is optional: it is imported when one of these functions needs it, and its absence is a clear ImportError.
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings
from typing import Any

import numpy as np

from ._config import floatx, image_data_format

_RESAMPLING = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_COLOR_MODES = {"grayscale": ("L", ("L", "I;16", "I")), "rgb": ("RGB", ("RGB",)), "rgba": ("RGBA", ("RGBA",))}


def _pil(function: str) -> Any:
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(f"gated.utils.{function} needs Pillow, which is not installed: pip install pillow") \
            from error
    return Image


def _data_format(data_format: str | None) -> str:
    data_format = image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first'; received {data_format!r}.")
    return data_format


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None) -> Any:
    """A PIL image from an array of shape (H, W, C) (or (C, H, W) with channels_first), C 1, 3 or 4; with
    ``scale`` the values are stretched to 0..255 first."""
    image = _pil("array_to_img")
    x = np.asarray(x, dtype=floatx() if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError(f"array_to_img takes one image of rank 3, (height, width, channels); received an array of "
                         f"shape {x.shape}.")
    if _data_format(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - x.min()
        peak = x.max()
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if x.max() > 255:  # PIL's 32-bit integer grayscale
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img takes 1 (grayscale), 3 (RGB) or 4 (RGBA) channels; received {channels} in "
                     f"shape {x.shape}.")


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A 3-D array (H, W, C), or (C, H, W) with channels_first, from a PIL image (or anything array-like)."""
    x = np.asarray(img, dtype=floatx() if dtype is None else dtype)
    channels_first = _data_format(data_format) == "channels_first"
    if x.ndim == 2:
        return x[None] if channels_first else x[:, :, None]
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if channels_first else x
    raise ValueError(f"img_to_array takes a 2-D (grayscale) or 3-D image; received shape {x.shape}.")


def save_img(path: Any, x: Any, data_format: str | None = None, file_format: str | None = None, scale: bool = True,
             **kwargs: Any) -> None:
    """Write an image array to ``path``; the format comes from the file's suffix unless ``file_format`` says."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("JPEG holds no alpha channel: the RGBA image is saved as RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path: Any, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> Any:
    """A PIL image read from a file (or a BytesIO), converted to ``color_mode`` ('grayscale', 'rgb', 'rgba') and,
    with ``target_size=(height, width)``, resized (``keep_aspect_ratio`` first crops the centre to that ratio)."""
    image = _pil("load_img")
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"color_mode must be one of {', '.join(map(repr, _COLOR_MODES))}; received {color_mode!r}.")
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as handle:
            img = image.open(io.BytesIO(handle.read()))
    else:
        raise TypeError(f"load_img takes a path or an io.BytesIO; received {type(path).__name__} {path!r}.")
    target_mode, kept = _COLOR_MODES[color_mode]
    if img.mode not in kept:
        img = img.convert(target_mode)
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])  # PIL speaks (width, height)
    if img.size == size:
        return img
    if interpolation not in _RESAMPLING:
        raise ValueError(f"interpolation must be one of {', '.join(map(repr, _RESAMPLING))}; received "
                         f"{interpolation!r}.")
    resample = getattr(image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_height = min(height, (width * size[1]) // size[0])
    crop_width = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(size, resample, box=[left, top, left + crop_width, top + crop_height])
