"""Per-channel scalers, fitted on training data only, with the inverse for turning predictions back into units.

The channel axis is the last one: a (T, C) series, (N, T, C) windows or (N, C) rows all have C channels, and the
statistics are taken over every other axis. A 1-D series is one channel. A scaler fitted on one channel applies to
an array of any shape (e.g. (N, horizon) forecasts); with several channels, ``channel=k`` applies channel k's
statistics to an array holding that channel only (e.g. forecasts from ``make_windows(..., targets=k)``).
Missing values (NaN) are left out of the statistics and stay NaN, as in scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _Scaler:
    _fitted_attributes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.n_channels_: int | None = None

    # ------------------------------------------------------------------ fitting
    def fit(self, data: Any) -> "_Scaler":
        """Learn the per-channel statistics from ``data`` (the TRAINING part only); returns the scaler."""
        array = np.asarray(data, dtype=np.float64)
        if array.ndim == 0 or array.size == 0:
            raise ValueError(f"{type(self).__name__}.fit expects a non-empty array; received shape {array.shape}.")
        columns = array.reshape(-1, 1) if array.ndim == 1 else array.reshape(-1, array.shape[-1])  # (samples, C)
        empty = np.flatnonzero(np.isnan(columns).all(axis=0))
        if len(empty):
            raise ValueError(f"{type(self).__name__}.fit: channel {int(empty[0])} has no values (all NaN).")
        self.n_channels_ = columns.shape[1]
        self._fit_columns(columns)
        return self

    def fit_transform(self, data: Any) -> np.ndarray:
        """``fit(data)`` then ``transform(data)``: for the training data."""
        return self.fit(data).transform(data)

    # ------------------------------------------------------------------ applying
    def transform(self, data: Any, *, channel: int | None = None) -> np.ndarray:
        """Scale ``data`` with the statistics learned in ``fit`` (never updated here). Floating dtypes are kept."""
        array, divisor, offset, dtype = self._prepare(data, channel, "transform")
        return ((array - offset) / divisor).astype(dtype, copy=False)

    def inverse_transform(self, data: Any, *, channel: int | None = None) -> np.ndarray:
        """Undo ``transform``: model outputs (e.g. forecasts) back in the data's units."""
        array, divisor, offset, dtype = self._prepare(data, channel, "inverse_transform")
        return (array * divisor + offset).astype(dtype, copy=False)

    def _prepare(self, data: Any, channel: int | None, method: str):
        name = type(self).__name__
        if self.n_channels_ is None:
            raise ValueError(f"{name} is not fitted yet: call fit(train) on the training data first, then "
                             f"{method}(...).")
        array = np.asarray(data)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name}.{method} expects numbers; received an array of dtype {array.dtype}.")
        dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)  # floating dtypes are kept
        array = array.astype(np.float64)
        divisor, offset = self._divisor_offset()  # (C,), (C,): transform(x) = (x - offset) / divisor
        if channel is not None:
            if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or \
                    not -self.n_channels_ <= channel < self.n_channels_:
                raise ValueError(f"{name}.{method}: channel must be an int in 0..{self.n_channels_ - 1}; received "
                                 f"{channel!r}.")
            return array, divisor[channel], offset[channel], dtype
        if self.n_channels_ == 1:
            return array, divisor[0], offset[0], dtype
        if array.ndim == 0 or array.shape[-1] != self.n_channels_:
            raise ValueError(f"{name} was fitted on {self.n_channels_} channels (the last axis), but {method} "
                             f"received shape {array.shape}. Pass an array whose last axis has {self.n_channels_} "
                             f"channels, or channel=k to use channel k's statistics on values of that channel only.")
        return array, divisor, offset, dtype

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """Settings and fitted statistics as plain Python values (JSON-serialisable)."""
        config = self._settings()
        if self.n_channels_ is not None:
            config.update({key: getattr(self, key).tolist() for key in self._fitted_attributes})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "_Scaler":
        fitted = {key: config[key] for key in cls._fitted_attributes if key in config}
        scaler = cls(**{key: value for key, value in config.items() if key not in cls._fitted_attributes})
        if fitted:
            for key, value in fitted.items():
                setattr(scaler, key, np.asarray(value, dtype=np.float64))
            scaler.n_channels_ = len(next(iter(fitted.values())))
        return scaler

    def _settings(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in self._settings().items())
        state = "not fitted" if self.n_channels_ is None else f"fitted on {self.n_channels_} channel(s)"
        return f"{type(self).__name__}({settings}) [{state}]"


class StandardScaler(_Scaler):
    """Per channel: ``(x - mean_) / scale_`` with the training data's mean and standard deviation (ddof=0).

    A constant channel gets ``scale_ = 1``. Attributes after ``fit``: ``mean_``, ``var_``, ``scale_`` (C,).
    """

    _fitted_attributes = ("mean_", "var_", "scale_")

    def _fit_columns(self, columns: np.ndarray) -> None:
        self.mean_ = np.nanmean(columns, axis=0)
        self.var_ = np.nanvar(columns, axis=0)
        scale = np.sqrt(self.var_)
        self.scale_ = np.where(scale > 0, scale, 1.0)

    def _divisor_offset(self):
        return self.scale_, self.mean_


class MinMaxScaler(_Scaler):
    """Per channel: maps the training data's [min, max] onto ``feature_range`` (default (0, 1)).

    Later data may fall outside the range (it is not clipped). A constant channel maps to ``feature_range[0]``.
    Attributes after ``fit``: ``data_min_``, ``data_max_``, ``data_range_`` (C,).
    """

    _fitted_attributes = ("data_min_", "data_max_", "data_range_")

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)):
        super().__init__()
        low, high = (float(v) for v in feature_range)
        if not low < high:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high; received "
                             f"{feature_range!r}.")
        self.feature_range = (low, high)

    def _fit_columns(self, columns: np.ndarray) -> None:
        self.data_min_ = np.nanmin(columns, axis=0)
        self.data_max_ = np.nanmax(columns, axis=0)
        self.data_range_ = self.data_max_ - self.data_min_

    def _divisor_offset(self):
        low, high = self.feature_range
        divisor = np.where(self.data_range_ > 0, self.data_range_, 1.0) / (high - low)
        return divisor, self.data_min_ - low * divisor  # (x - offset) / divisor = (x - data_min) / divisor + low

    def _settings(self) -> dict[str, Any]:
        return {"feature_range": self.feature_range}
