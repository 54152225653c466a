"""Global settings with Keras's names: the fuzz factor ``epsilon``, the float type ``floatx`` and the image data
format. gated's float type is torch's default dtype, so ``set_floatx`` sets that."""

from __future__ import annotations

import torch

_FLOATS = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}
_settings = {"epsilon": 1e-7, "image_data_format": "channels_last"}


def epsilon() -> float:
    """The fuzz factor used to avoid dividing by zero or taking the log of zero (Keras's default 1e-7)."""
    return _settings["epsilon"]


def set_epsilon(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"set_epsilon takes a positive number (Keras's default is 1e-7); received {value!r}.")
    _settings["epsilon"] = float(value)


def floatx() -> str:
    """The default float type of new layers' weights, as a string ('float32')."""
    return str(torch.get_default_dtype()).replace("torch.", "")


def set_floatx(value: str) -> None:
    """Set the default float type ('float16', 'bfloat16', 'float32' or 'float64'): torch's default dtype."""
    if value not in _FLOATS:
        raise ValueError(f"set_floatx takes one of {', '.join(map(repr, _FLOATS))}; received {value!r}.")
    torch.set_default_dtype(_FLOATS[value])


def image_data_format() -> str:
    """'channels_last' (the default) or 'channels_first': what layers with ``data_format=None`` use."""
    return _settings["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"set_image_data_format takes 'channels_last' or 'channels_first'; received "
                         f"{data_format!r}.")
    _settings["image_data_format"] = data_format
