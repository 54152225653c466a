"""Forecasting tools: sliding windows for direct multi-step output, chronological splits, explicit missing values.

Shapes: T time steps, C channels, N windows, L lookback, H horizon.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ._containers import TimeSeries

_METHODS = ("raise", "interpolate", "drop")


def _positive_int(value: Any, argument: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{argument} must be an int >= {minimum}; received {value!r}.")
    return int(value)


def _series_array(series: Any, function: str) -> np.ndarray:
    array = np.asarray(series)
    if array.ndim not in (1, 2):
        raise ValueError(f"{function} expects a series of shape (timesteps,) or (timesteps, channels); received "
                         f"an array of shape {array.shape}.")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{function} expects numbers; received an array of dtype {array.dtype}.")
    return array


def _first_missing(values: np.ndarray) -> tuple[int, int | None]:
    flat = np.flatnonzero(np.isnan(values).reshape(len(values), -1).any(axis=1))
    row = int(flat[0])
    channel = None if values.ndim == 1 else int(np.flatnonzero(np.isnan(values[row]))[0])
    return row, channel


def make_windows(series: Any, lookback: int, horizon: int, stride: int = 1, *,
                 targets: int | Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into (inputs, targets) windows for direct multi-step forecasting.

    Window i starts at s = i * stride: ``x[i] = series[s : s + lookback]`` and
    ``y[i] = series[s + lookback : s + lookback + horizon]`` (the ``horizon`` values right after the inputs).
    N = (T - lookback - horizon) // stride + 1 windows, in time order, copies (not views) of the series.

    Shapes: a series (T,) gives x (N, lookback, 1) and y (N, horizon), ready for a recurrent layer and a
    ``Dense(horizon)`` output. A series (T, C) gives x (N, lookback, C) and y (N, horizon, C); ``targets`` picks the
    channel(s) to forecast: an int gives y (N, horizon), a list y (N, horizon, len(targets)).
    The dtype is kept. Missing values (NaN) are refused: decide first with ``fill_missing``.

    To forecast the first values of a later segment (validation, test), window it together with the last
    ``lookback`` values before it: ``make_windows(np.concatenate([train[-lookback:], test]), lookback, horizon)``.
    """
    values = _series_array(series, "make_windows")
    lookback = _positive_int(lookback, "lookback")
    horizon = _positive_int(horizon, "horizon")
    stride = _positive_int(stride, "stride")
    if values.dtype.kind == "f" and np.isnan(values).any():
        row, channel = _first_missing(values)
        where = f"index {row}" + ("" if channel is None else f", channel {channel}")
        raise ValueError(f"make_windows: the series has missing values (NaN), the first at {where}. Choose how to "
                         f"handle them first: gated.data.fill_missing(series, method='interpolate' or 'drop').")
    span = lookback + horizon
    if len(values) < span:
        raise ValueError(f"make_windows: a series of {len(values)} timesteps is too short for one window of "
                         f"lookback={lookback} + horizon={horizon} = {span} timesteps; lower lookback or horizon.")
    frames = values[:, None] if values.ndim == 1 else values  # (T, C)
    windows = np.lib.stride_tricks.sliding_window_view(frames, span, axis=0)[::stride]  # (N, C, L+H)
    windows = np.moveaxis(windows, -1, 1)  # (N, L+H, C)
    x = np.ascontiguousarray(windows[:, :lookback])  # (N, L, C)
    future = windows[:, lookback:]  # (N, H, C)
    if values.ndim == 1:
        if targets is not None:
            raise ValueError("make_windows: targets picks channels of a (timesteps, channels) series; this series "
                             "is 1-D, so leave targets out.")
        return x, np.ascontiguousarray(future[..., 0])  # (N, H)
    if targets is None:
        return x, np.ascontiguousarray(future)  # (N, H, C)
    channels = frames.shape[1]
    picked = [targets] if isinstance(targets, (int, np.integer)) and not isinstance(targets, bool) else list(targets)
    for channel in picked:
        is_index = isinstance(channel, (int, np.integer)) and not isinstance(channel, bool)
        if not is_index or not -channels <= channel < channels:
            raise ValueError(f"make_windows: targets must be channel indices in 0..{channels - 1}; received "
                             f"{targets!r}.")
    y = future[..., targets] if isinstance(targets, (int, np.integer)) else future[..., picked]
    return x, np.ascontiguousarray(y)


def _split_size(value: Any, total: int, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"chronological_split: {argument} must be a fraction (float in [0, 1)) or a count (int); "
                        f"received {value!r}.")
    if isinstance(value, (float, np.floating)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"chronological_split: {argument}={value} as a fraction must lie in [0, 1); pass an int "
                             f"for a number of timesteps.")
        return math.ceil(value * total)
    if value < 0:
        raise ValueError(f"chronological_split: {argument}={value} must be >= 0.")
    return int(value)


def chronological_split(*arrays: Any, val: float | int = 0.1, test: float | int = 0.1):
    """Split along the first (time) axis into consecutive train, validation and test parts, in that order.

    ``val`` and ``test`` are fractions of the length (float in [0, 1), rounded up) or counts (int); the training
    part is what comes first, the validation part next and the test part last, so nothing from later times ever
    lands in an earlier part. Nothing is shuffled and nothing is copied (the parts are views).

    One array gives ``(train, val, test)``; several arrays of equal length (e.g. timestamps and values) give
    ``(train, val, test)`` where each part is a tuple with one slice per array.
    Fit scalers on the training part only: ``StandardScaler().fit(train)``.
    """
    if not arrays:
        raise TypeError("chronological_split expects at least one array.")
    arrays = tuple(np.asarray(array) if not hasattr(array, "shape") else array for array in arrays)
    total = len(arrays[0])
    for array in arrays[1:]:
        if len(array) != total:
            raise ValueError(f"chronological_split: the arrays have different lengths "
                             f"{tuple(len(a) for a in arrays)}; they must share the time axis.")
    n_val, n_test = _split_size(val, total, "val"), _split_size(test, total, "test")
    n_train = total - n_val - n_test
    if n_train < 1:
        raise ValueError(f"chronological_split: val={val!r} ({n_val}) and test={test!r} ({n_test}) leave "
                         f"{n_train} of {total} timesteps for training; lower them.")
    bounds = (slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, total))
    if len(arrays) == 1:
        return tuple(arrays[0][part] for part in bounds)
    return tuple(tuple(array[part] for array in arrays) for part in bounds)


def _as_numeric_time(timestamps: np.ndarray) -> np.ndarray:
    if timestamps.dtype.kind == "M":
        return timestamps.astype("datetime64[us]").astype(np.int64).astype(np.float64)
    return timestamps.astype(np.float64)


def fill_missing(series: Any, method: str = "raise", *, timestamps: Any = None):
    """Deal with missing values (NaN) in a series, the way you choose; nothing happens without a choice.

    - ``method='raise'`` (the default): return a copy if there are no NaN, else raise a ValueError saying how many
      there are, where the first is, and these options.
    - ``'interpolate'``: each gap is filled linearly between the values on either side (per channel), in time
      when ``timestamps`` are given, else by position; gaps at the start or end take the nearest observed value.
    - ``'drop'``: remove every timestep with a missing value in any channel; the series gets shorter, so pass
      ``timestamps`` to drop the same steps there.

    ``series`` is (T,) or (T, C), or a ``TimeSeries`` (e.g. ``gated.datasets.co2.load_data()``), whose timestamps
    are used. Returns the values, or ``(timestamps, values)`` when timestamps were given (a ``TimeSeries`` for a
    ``TimeSeries``). Input is never modified.
    """
    if method not in _METHODS:
        raise ValueError(f"fill_missing: method must be one of {_METHODS}; received {method!r}.")
    original = series if isinstance(series, TimeSeries) else None
    if original is not None:
        if timestamps is not None:
            raise ValueError("fill_missing: a TimeSeries carries its timestamps; leave timestamps out.")
        timestamps, series = original
    values = _series_array(series, "fill_missing")
    values = values.astype(np.float64) if values.dtype.kind != "f" else values.copy()
    if timestamps is not None:
        timestamps = np.asarray(timestamps)
        if timestamps.shape != (len(values),):
            raise ValueError(f"fill_missing: timestamps of shape {timestamps.shape} do not match a series of "
                             f"{len(values)} timesteps.")
    missing = np.isnan(values).reshape(len(values), -1)  # (T, C)

    if missing.any():
        if method == "raise":
            row, channel = _first_missing(values)
            where = f"index {row}" + ("" if timestamps is None else f" (timestamp {timestamps[row]})")
            where += "" if channel is None else f", channel {channel}"
            raise ValueError(
                f"The series has {int(missing.sum())} missing values (NaN) in {int(missing.any(axis=1).sum())} of "
                f"{len(values)} timesteps; the first is at {where}. Choose how to handle them: "
                f"fill_missing(series, method='interpolate') fills each gap linearly between its neighbours, "
                f"method='drop' removes the timesteps with a missing value (pass timestamps= to drop them there "
                f"too).")
        if method == "drop":
            keep = ~missing.any(axis=1)
            values = values[keep]
            timestamps = None if timestamps is None else timestamps[keep]
        else:
            position = np.arange(len(values), dtype=np.float64) if timestamps is None else _as_numeric_time(timestamps)
            columns = values.reshape(len(values), -1)  # (T, C), a view of the copy
            for c in range(columns.shape[1]):
                hole = missing[:, c]
                if hole.all():
                    raise ValueError(f"fill_missing: channel {c} has no values at all; there is nothing to "
                                     f"interpolate from.")
                if hole.any():
                    columns[hole, c] = np.interp(position[hole], position[~hole], columns[~hole, c])
    if original is not None:
        return TimeSeries(timestamps, values, columns=original.columns, name=original.name, source=original.source)
    return values if timestamps is None else (timestamps, values)
