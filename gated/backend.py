"""``keras.backend`` as Keras 3 has it: gated always runs on torch.

``backend()`` is ``"torch"``; ``epsilon``/``floatx``/``image_data_format`` and their setters are the global settings
(``gated.utils._config``); ``clear_session()`` starts the automatic layer names over; the dtype helpers follow
Keras's rules (``result_type`` and ``standardize_dtype`` are ``gated.ops``'s).
"""

from __future__ import annotations

import gc
from typing import Any

import torch

from .layers._symbolic import SymbolicTensor
from .ops import result_type, standardize_dtype
from .utils._config import epsilon, floatx, image_data_format, set_epsilon, set_floatx, set_image_data_format
from .utils._naming import get_uid, reset_names

__all__ = [
    "backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format", "is_float_dtype",
    "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon", "set_floatx", "set_image_data_format",
    "standardize_dtype",
]


def backend() -> str:
    """The tensor library under gated: always ``"torch"``."""
    return "torch"


def clear_session(free_memory: bool = True) -> None:
    """Start the automatic names over (the next GRU is 'gru' again) and free what Python and CUDA can free."""
    reset_names()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic placeholder (from ``Input`` or a layer called on one)."""
    return isinstance(x, SymbolicTensor)


def is_float_dtype(dtype: Any) -> bool:
    name = standardize_dtype(dtype)
    return name.startswith("float") or name.startswith("bfloat")


def is_int_dtype(dtype: Any) -> bool:
    name = standardize_dtype(dtype)
    return name.startswith("int") or name.startswith("uint")
