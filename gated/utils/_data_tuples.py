"""Keras's ``(x, y, sample_weight)`` packing, for custom ``train_step`` code and data generators."""

from __future__ import annotations

from typing import Any


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """``(x, y, sample_weight)`` without the trailing Nones; ``x`` alone stays as it is unless it is a list or
    tuple, which is wrapped in a 1-tuple so that unpacking cannot mistake it for ``(x, y)``."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from a batch: a tuple (or list) of 1 to 3 items, or ``x`` alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be x, (x,), (x, y) or (x, y, sample_weight); received a tuple of "
                     f"{len(data)} items: {data!r}.")
