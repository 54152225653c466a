"""The default forecasting recipe: what ``gated forecast`` runs.

Direct multi-step forecasting of a univariate series: windows of ``lookback`` values predict the next ``horizon``
values at once (at most ``MAX_WINDOWS`` training windows: longer series are windowed with a stride). Each window is expressed relative to its last observed value and divided by the typical
step-to-step change of the training series, so the model learns the shape of what comes next, whatever the level
(a trending series such as CO2 keeps working past the range it was trained on). The last part of the training
windows (in time order) is the validation data for early stopping; the model is then refit on every window for
the chosen number of epochs. Nothing after the training series is seen before the forecast.

Intervals: the early-stopped model's errors on the validation windows (forecasts of values it was not trained on),
per horizon step, give empirical quantiles (``INTERVAL_QUANTILES``) that are added to the refit model's forecast;
the 80% interval spans the 0.1 to 0.9 quantiles of those errors and the 95% interval 0.025 to 0.975.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import callbacks as _callbacks
from .. import layers as L
from .. import optimizers as _optimizers
from ..data import make_windows
from ..models import Sequential
from ..utils import set_random_seed
from ._global import INTERVALS


def default_lookback(length: int, horizon: int, season: int | None) -> int:
    """One season plus the horizon (at least twice the horizon, at least 12), at most a third of the series."""
    want = max((season or 0) + horizon, 2 * horizon, 12)
    return max(2, min(want, (length - horizon) // 3))


INTERVAL_QUANTILES = tuple(sorted(q for pair in INTERVALS.values() for q in pair))  # the error quantiles kept
MIN_WINDOWS = 10  # fewer training windows than this and the direct recipe refuses (the global one takes over)
MAX_WINDOWS = 512  # more overlapping windows than this add time, not information: they are strided


@dataclass
class ForecastResult:
    model: Sequential
    lookback: int
    horizon: int
    scale: float
    history: dict[str, list[float]]
    best_epoch: int
    train_seconds: float
    parameters: int
    error_quantiles: np.ndarray | None = None  # (len(INTERVAL_QUANTILES), horizon), in units of ``scale``

    def forecast(self, observed: Any) -> np.ndarray:
        """The next ``horizon`` values after ``observed`` (at least ``lookback`` values, in the data's units)."""
        observed = np.asarray(observed, dtype=np.float64)
        if observed.ndim != 1 or len(observed) < self.lookback:
            raise ValueError(f"forecast needs a 1-D series of at least lookback={self.lookback} values; received "
                             f"shape {observed.shape}.")
        window = observed[-self.lookback:]
        x = ((window - window[-1]) / self.scale).astype(np.float32)[None, :, None]
        relative = self.model.predict(x, verbose=0)[0].astype(np.float64)
        return window[-1] + relative * self.scale

    def interval(self, observed: Any, level: int, forecast: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) of the ``level``% interval (80 or 95) around the forecast after ``observed``."""
        if self.error_quantiles is None:
            raise ValueError("This forecaster has no interval estimates (it was loaded from a file written before "
                             "intervals were kept, or trained without validation windows).")
        if level not in INTERVALS:
            raise ValueError(f"level must be 80 or 95; received {level!r}.")
        point = self.forecast(observed) if forecast is None else np.asarray(forecast, dtype=np.float64)
        low, high = (self.error_quantiles[INTERVAL_QUANTILES.index(q)] * self.scale for q in INTERVALS[level])
        return point + low, point + high


def windows_available(length: int, horizon: int, season: int | None = None, lookback: int | None = None) -> int:
    """How many training windows the direct recipe gets from a series of ``length`` values."""
    lookback = lookback or default_lookback(length, horizon, season)
    return max(0, length - lookback - horizon + 1)


def _relative_windows(series: np.ndarray, lookback: int, horizon: int, scale: float, stride: int = 1):
    x, y = make_windows(series, lookback, horizon, stride)  # (N, L, 1), (N, H)
    last = x[:, -1:, 0]  # (N, 1)
    return ((x - last[:, :, None]) / scale).astype(np.float32), ((y - last) / scale).astype(np.float32)


def build_forecaster(lookback: int, horizon: int, *, cell: str = "gru", units: int = 64) -> Sequential:
    layer = {"gru": L.GRU, "lstm": L.LSTM, "simple_rnn": L.SimpleRNN, "mingru": L.MinGRU}.get(cell)
    if layer is None:
        raise ValueError(f"cell must be 'gru', 'lstm', 'simple_rnn' or 'mingru'; received {cell!r}.")
    return Sequential([L.Input((lookback, 1)), layer(units, return_sequences=True), layer(units), L.Dense(horizon)])


def train_forecaster(series: Any, horizon: int, *, season: int | None = None, lookback: int | None = None,
                     cell: str = "gru", units: int = 64, epochs: int = 200, batch_size: int = 32,
                     learning_rate: float = 2e-3, validation_fraction: float = 0.2, patience: int = 20,
                     refit: bool = True, seed: int = 0, verbose: int = 0) -> ForecastResult:
    """Fit the default forecaster on ``series`` (the training part only: no NaN, oldest first)."""
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"train_forecaster expects a 1-D series; received shape {series.shape}.")
    if np.isnan(series).any():
        raise ValueError("The series has missing values; choose gated.data.fill_missing(series, 'interpolate' or "
                         "'drop') first.")
    lookback = lookback or default_lookback(len(series), horizon, season)
    steps = np.abs(np.diff(series))
    scale = float(np.mean(steps)) or 1.0
    count = windows_available(len(series), horizon, lookback=lookback)
    stride = max(1, -(-count // MAX_WINDOWS))
    # Stride from the end so that the most recent window is always among the training windows.
    x, y = _relative_windows(series[(count - 1) % stride:], lookback, horizon, scale, stride)
    if len(x) < MIN_WINDOWS:
        raise ValueError(f"A series of {len(series)} values gives only {len(x)} training windows of lookback "
                         f"{lookback} + horizon {horizon}; use a shorter lookback or horizon, or more data.")
    cut = int(round(len(x) * (1 - validation_fraction)))
    # The validation windows must not overlap the training windows' targets: leave a gap of one horizon.
    fit_end = max(1, cut - -(-horizon // stride))

    def new_model() -> Sequential:
        model = build_forecaster(lookback, horizon, cell=cell, units=units)
        model.compile(optimizer=_optimizers.Adam(learning_rate, clipnorm=1.0), loss="mse", metrics=["mae"])
        return model

    set_random_seed(seed)
    start = time.perf_counter()
    model = new_model()
    stop = _callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(x[:fit_end], y[:fit_end], validation_data=(x[cut:], y[cut:]), epochs=epochs,
                        batch_size=batch_size, verbose=verbose, callbacks=[stop])
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    errors = y[cut:] - model.predict(x[cut:], verbose=0).astype(np.float64)  # (windows, horizon), scaled units
    error_quantiles = np.quantile(errors, INTERVAL_QUANTILES, axis=0)
    if refit:
        set_random_seed(seed)
        model = new_model()
        model.fit(x, y, epochs=best_epoch, batch_size=batch_size, verbose=verbose)
    return ForecastResult(model, lookback, horizon, scale, history.history, best_epoch, time.perf_counter() - start,
                          model.count_params(), error_quantiles)
