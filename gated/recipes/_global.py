"""One global forecaster for one series or many: what ``gated forecast`` runs.

A single GRU network is trained on windows of every series at once.
- Per-series preparation (``SeriesScaler``): a series whose values are all positive is modelled in logs (a season
  that grows with the level becomes additive), and every series is divided by its mean absolute step, so levels
  and units that differ by orders of magnitude share one model.
- Input of a window: ``lookback + horizon`` steps; per step, the value relative to the window's last observed
  value, and a 1/0 "observed" channel (the horizon's steps, and the left padding of a series shorter than the
  lookback, are zeros marked unobserved). Known-future covariates, standardised per series, are more channels,
  known over the horizon too.
- Output: quantiles of each of the next ``horizon`` values (pinball loss), read from the recurrent state at that
  step, as corrections to the window's seasonal naive forecast (or its last value: ``seasonal_beats_naive``). The last layer starts at zero, so an untrained network is
  seasonal naive and training moves away from it only where the windows say so. The median is the point
  forecast; the outer pairs give the 80% and 95% intervals.
- Training: a budget in optimizer steps scaled to the number of windows, Adam with warmup and cosine decay;
  ``ensemble`` networks with different seeds, their quantiles averaged. How many of those steps to run is chosen
  by a backtest: one network trained on the histories without their last ``horizon`` values, scored every epoch on
  forecasting them (a single series with a few hundred windows overfits long before the budget ends).
Only the values given as history are used; the held-out horizon is never seen.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from .. import layers as L
from .. import optimizers as _optimizers
from ..models import Sequential
from ..optimizers import schedules as _schedules
from ..utils import set_random_seed
from ._classify import smoothed_best_epoch
from ._network import RECURRENT

QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)  # the 95% and 80% intervals around the median
INTERVALS = {80: (0.1, 0.9), 95: (0.025, 0.975)}
MIN_OBSERVED = 3  # a training window sees at least this many real values (fewer only in very short series)
MIN_FRACTION = 0.25  # the least of the step budget a selection may keep


@dataclass(frozen=True)
class SeriesScaler:
    """How one series is prepared: logs (all values positive), the mean absolute step of what is modelled, and
    whether its forecasts start from the seasonal naive forecast (``seasonal``) or from the last value."""

    log: bool
    scale: float
    seasonal: bool = False

    @classmethod
    def fit(cls, history: np.ndarray, log: bool | None = None, season: int = 1,
            horizon: int = 1) -> "SeriesScaler":
        history = np.asarray(history, dtype=np.float64)
        use_log = bool(np.all(history > 0)) if log is None else bool(log and np.all(history > 0))
        z = np.log(history) if use_log else history
        steps = np.abs(np.diff(z))
        scale = float(np.mean(steps)) if len(steps) else 0.0
        return cls(use_log, scale if scale > 0 and np.isfinite(scale) else 1.0,
                   season > 1 and seasonal_beats_naive(z, season, horizon))

    def forward(self, values: np.ndarray) -> np.ndarray:
        return np.log(values) if self.log else np.asarray(values, dtype=np.float64)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.exp(np.clip(z, -700, 700)) if self.log else z


class pinball_loss:
    """Mean pinball loss over known targets; ``y_true`` (B, H, Q) repeats the target over the last axis (NaN where a
    window has none). A class, so that a compiled model pickles."""

    def __init__(self, quantiles: Sequence[float]):
        self.quantiles = tuple(float(q) for q in quantiles)
        self.__name__ = "pinball"

    def __call__(self, y_true, y_pred):  # (B, H, Q), (B, H, Q)
        target = y_true[..., :1]
        known = ~torch.isnan(target)
        error = torch.where(known, target, y_pred) - y_pred
        q = torch.tensor(self.quantiles, dtype=error.dtype, device=error.device)
        loss = torch.maximum(q * error, (q - 1) * error)
        return loss.sum() / (known.sum().clamp(min=1) * len(self.quantiles))


def seasonal_beats_naive(z: np.ndarray, season: int, horizon: int) -> bool:
    """Whether, over the history, repeating the last season forecasts 1..min(horizon, season) steps ahead better
    (mean absolute error) than repeating the last value: the series is seasonal enough to start from it."""
    if len(z) < 2 * season + 1:
        return False
    naive, seasonal = [], []
    for h in range(1, min(horizon, season) + 1):
        naive.append(np.mean(np.abs(z[season:] - z[season - h:len(z) - h])))
        seasonal.append(np.mean(np.abs(z[season:] - z[:len(z) - season])))
    return float(np.mean(seasonal)) < float(np.mean(naive))


def seasonal_base(z: np.ndarray, end: int, horizon: int, season: int) -> np.ndarray:
    """Seasonal naive forecasts of ``z[end:end + horizon]`` from ``z[:end]`` (the last value where a season is
    not yet observed)."""
    steps = np.arange(horizon)
    index = end - season + steps % season
    return np.where(index >= 0, z[np.clip(index, 0, None)], z[end - 1])


def default_lookback(lengths: Sequence[int], horizon: int, season: int) -> int:
    """Two seasons plus the horizon (at least three horizons, at least 12), at most a third of the longest series."""
    want = max(2 * season + horizon, 3 * horizon, 12)
    return max(2, min(want, (max(lengths) - horizon) // 3))


def training_steps(windows: int, batch_size: int) -> int:
    """The default budget: 40 passes over the windows, between 800 and 3000 optimizer steps."""
    return int(min(3000, max(800, 40 * math.ceil(windows / batch_size))))


@dataclass
class GlobalForecaster:
    """A trained global forecaster (``train_global_forecaster``): its networks and how they read a series."""

    models: list
    lookback: int
    horizon: int
    season: int
    quantiles: tuple[float, ...]
    covariates: int
    log: bool | None
    history: dict[str, list[float]] = field(default_factory=dict)
    steps: int = 0
    windows: int = 0
    train_seconds: float = 0.0
    budget: int | None = None  # the selection run's budget, when one chose ``steps``

    @property
    def parameters(self) -> int:
        return sum(m.count_params() for m in self.models)

    def forecast(self, histories: Sequence[Any], covariates: Sequence[Any] | None = None) -> np.ndarray:
        """Quantile forecasts ``(S, horizon, Q)`` (increasing on the last axis) of the values after each history.

        ``covariates[i]``: ``(len(histories[i]) + horizon, C)``, the covariates over the history and the horizon.
        """
        histories = [_as_series(h, f"series {i}") for i, h in enumerate(histories)]
        covariates = _check_covariates(covariates, histories, self.horizon, self.covariates)
        x, bases, scalers = _origin_inputs(histories, covariates, self.lookback, self.horizon, self.season,
                                           [self.log] * len(histories))
        out = np.mean([m.predict(x, verbose=0, batch_size=256) for m in self.models], axis=0).astype(np.float64)
        result = np.empty_like(out)
        for i, scaler in enumerate(scalers):
            result[i] = scaler.inverse(bases[i][:, None] + out[i] * scaler.scale)
        return np.sort(result, axis=-1)

    def point(self, histories: Sequence[Any], covariates: Sequence[Any] | None = None) -> np.ndarray:
        """The median forecasts ``(S, horizon)``."""
        return self.forecast(histories, covariates)[:, :, self.quantiles.index(0.5)]

    def interval(self, quantile_forecasts: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) of the ``level``% interval (80 or 95) from ``forecast``'s output."""
        low, high = INTERVALS[level]
        return (quantile_forecasts[..., self.quantiles.index(low)],
                quantile_forecasts[..., self.quantiles.index(high)])


def _as_series(values: Any, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{what} must be 1-D (values oldest first); received shape {values.shape}.")
    if not np.isfinite(values).all():
        raise ValueError(f"{what} has missing or infinite values; fill them first (gated.data.fill_missing, or "
                         "--missing interpolate on the command line).")
    return values


def _check_covariates(covariates, histories, horizon: int, channels: int):
    if not channels:
        if covariates is not None:
            raise ValueError("This forecaster was trained without covariates; do not pass any.")
        return None
    if covariates is None or len(covariates) != len(histories):
        raise ValueError(f"This forecaster uses {channels} covariate(s): pass them for each of the "
                         f"{len(histories)} series, each of shape (len(history) + {horizon}, {channels}).")
    out = []
    for i, (cov, values) in enumerate(zip(covariates, histories)):
        cov = np.asarray(cov, dtype=np.float64).reshape(len(cov), -1)
        if cov.shape != (len(values) + horizon, channels):
            raise ValueError(f"Covariates of series {i} have shape {cov.shape}; expected "
                             f"{(len(values) + horizon, channels)} (its history of {len(values)} values plus the "
                             f"horizon of {horizon}, {channels} column(s)).")
        if not np.isfinite(cov).all():
            raise ValueError(f"Covariates of series {i} have missing or infinite values; fill them first.")
        out.append(cov)
    return out


def _covariate_stats(covariates: np.ndarray | None, observed: int):
    if covariates is None:
        return None
    part = covariates[:observed]
    std = part.std(axis=0)
    return part.mean(axis=0), np.where(std > 0, std, 1.0)


def _window(z: np.ndarray, covariates: np.ndarray | None, end: int, lookback: int, horizon: int, scale: float,
            stats) -> np.ndarray:
    """The input of the window whose last observed value is ``z[end - 1]``: (T, F)."""
    x = np.zeros((lookback + horizon, 2 + (0 if covariates is None else covariates.shape[1])), dtype=np.float32)
    seen = z[max(0, end - lookback):end]
    x[lookback - len(seen):lookback, 0] = (seen - seen[-1]) / scale
    x[lookback - len(seen):lookback, 1] = 1.0
    if covariates is not None:
        mean, std = stats
        first = end - lookback
        lo, hi = max(0, first), min(len(covariates), end + horizon)
        x[lo - first:hi - first, 2:] = (covariates[lo:hi] - mean) / std
    return x


def _origin_inputs(histories, covariates, lookback: int, horizon: int, season: int, logs: Sequence[bool | None]):
    """The inputs that forecast the ``horizon`` values after each history (S, T, F), each series' base forecast
    (in model units) and its scaler. ``logs[i]``: series i's ``log`` choice (``SeriesScaler.fit``)."""
    x, bases, scalers = [], [], []
    for i, values in enumerate(histories):
        scaler = SeriesScaler.fit(values, logs[i], season, horizon)
        z = scaler.forward(values)
        cov = None if covariates is None else covariates[i]
        x.append(_window(z, cov, len(z), lookback, horizon, scaler.scale, _covariate_stats(cov, len(z))))
        bases.append(seasonal_base(z, len(z), horizon, season if scaler.seasonal else 1))
        scalers.append(scaler)
    return np.stack(x), bases, scalers


def _training_windows(histories, covariates, horizon: int, lookback: int, season: int,
                      logs: Sequence[bool | None]):
    """Every window of every series: inputs (N, T, F) and targets (N, H), NaN past a series' end."""
    xs, ys = [], []
    for i, values in enumerate(histories):
        scaler = SeriesScaler.fit(values, logs[i], season, horizon)
        z = scaler.forward(values)
        base_season = season if scaler.seasonal else 1
        cov = None if covariates is None else covariates[i]
        stats = _covariate_stats(cov, len(z))  # covariates are known over the horizon too: windows may use them
        for end in range(max(1, min(MIN_OBSERVED, len(z) - horizon)), len(z)):  # short series: fewer seen
            target = np.full(horizon, np.nan)
            known = z[end:end + horizon]
            target[:len(known)] = (known - seasonal_base(z, end, horizon, base_season)[:len(known)]) / scaler.scale
            xs.append(_window(z, cov, end, lookback, horizon, scaler.scale, stats))
            ys.append(target)
    return np.stack(xs), np.asarray(ys, dtype=np.float32)


def build_global_network(steps: int, features: int, horizon: int, quantiles: int, *, cell: str = "gru",
                         units: int = 64) -> Sequential:
    """Two recurrent layers over the lookback and the horizon; the quantiles of each horizon step are read from the
    state at that step (where that step's covariates have just come in) by one Dense layer that starts at zero."""
    if cell not in RECURRENT:
        raise ValueError(f"cell must be one of {tuple(RECURRENT)}; received {cell!r}.")
    layer = RECURRENT[cell]
    return Sequential([L.Input((steps, features)), layer(units, return_sequences=True),
                       layer(units, return_sequences=True), L.Cropping1D((steps - horizon, 0)),
                       L.Dense(quantiles, kernel_initializer="zeros")])


def train_global_forecaster(series: Sequence[Any], horizon: int, *, season: int = 1,
                            covariates: Sequence[Any] | None = None, lookback: int | None = None,
                            quantiles: Sequence[float] = QUANTILES, cell: str = "gru", units: int = 64,
                            steps: int | None = None, epochs: int | None = None, batch_size: int = 32,
                            learning_rate: float = 2e-3,
                            ensemble: int = 3, log: bool | None = None, validate: bool = True, seed: int = 0,
                            verbose: int = 0) -> GlobalForecaster:
    """Fit one forecaster on the histories of every series (1-D arrays, oldest first, no missing values).

    ``covariates[i]``: ``(len(series[i]) + horizon, C)``, known over the history and the horizon to forecast.
    ``steps``: the optimizer-step budget of each network (default ``training_steps``); ``epochs`` gives it as
    passes over the training windows instead (not both). ``log``: None models every
    all-positive series in logs, False none. ``ensemble``: networks with different seeds, averaged.
    ``validate``: first run the recipe on the histories without their last ``horizon`` values, scoring each epoch's
    forecast of those values (pinball loss); the networks then train for the steps where that score was best
    (smoothed, at least ``MIN_FRACTION`` of the budget). The held-out values are part of the history: the
    horizon to forecast is never seen.
    """
    histories = [_as_series(s, f"series {i}") for i, s in enumerate(series)]
    if not histories:
        raise ValueError("train_global_forecaster needs at least one series.")
    if int(horizon) < 1 or int(season) < 1 or int(ensemble) < 1:
        raise ValueError(f"horizon, season and ensemble must be positive; received {horizon}, {season}, "
                         f"{ensemble}.")
    horizon, season = int(horizon), int(season)
    if steps is not None and epochs is not None:
        raise ValueError(f"Give the budget as steps or as epochs, not both; received steps={steps}, epochs={epochs}.")
    for name, value in (("steps", steps), ("epochs", epochs), ("batch_size", batch_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive integer; received {value!r}.")
    for i, values in enumerate(histories):
        if len(values) < 1 + horizon:
            raise ValueError(f"Series {i} has {len(values)} values: too few to learn a horizon of {horizon} from "
                             f"(at least {1 + horizon}).")
    quantiles = tuple(float(q) for q in quantiles)
    if 0.5 not in quantiles or any(not 0 < q < 1 for q in quantiles):
        raise ValueError(f"quantiles must lie in (0, 1) and include 0.5 (the point forecast); received {quantiles}.")
    channels = 0
    if covariates is not None:
        channels = np.asarray(covariates[0]).reshape(len(covariates[0]), -1).shape[1]
        covariates = _check_covariates(covariates, histories, horizon, channels)
    lookback = lookback or default_lookback([len(v) for v in histories], horizon, season)
    x, y = _training_windows(histories, covariates, horizon, lookback, season, [log] * len(histories))
    if epochs is not None:
        steps = int(epochs) * math.ceil(len(x) / batch_size)
    steps = steps or training_steps(len(x), batch_size)
    loss = pinball_loss(quantiles)
    started = time.perf_counter()

    def train(x, y, total: int, member: int, validation=None):
        per_epoch = math.ceil(len(x) / batch_size)
        set_random_seed((seed * 1000 + member) % 2 ** 32)  # any int seed, members apart
        model = build_global_network(x.shape[1], x.shape[2], horizon, len(quantiles), cell=cell, units=units)
        epochs = max(1, math.ceil(total / per_epoch))
        warmup = max(1, epochs * per_epoch // 20)
        schedule = _schedules.CosineDecay(learning_rate / 10, decay_steps=max(1, epochs * per_epoch - warmup),
                                          alpha=0.05, warmup_target=learning_rate, warmup_steps=warmup)
        model.compile(optimizer=_optimizers.Adam(schedule, clipnorm=1.0), loss=loss)
        if validation is not None:
            validation = (validation[0], _repeat(validation[1], len(quantiles)))
        history = model.fit(x, _repeat(y, len(quantiles)), epochs=epochs, batch_size=batch_size, verbose=verbose,
                            check_finite=False, validation_data=validation)
        return model, history.history, epochs * per_epoch

    record: dict[str, list[float]] = {}
    selected = steps
    held_out = _backtest(histories, covariates, horizon) if validate else None
    if held_out is not None:  # the whole recipe once on the histories without their last horizon: when to stop
        cut, cut_covariates, actual = held_out
        # Logs only where the whole history allows them (the held-out values may be 0 or negative).
        logs = [log if np.all(a > 0) else False for a in actual]
        x_fit, y_fit = _training_windows(cut, cut_covariates, horizon, lookback, season, logs)
        x_val, bases, scalers = _origin_inputs(cut, cut_covariates, lookback, horizon, season, logs)
        y_val = np.stack([(s.forward(a) - b) / s.scale for a, b, s in zip(actual, bases, scalers)]).astype(np.float32)
        per_epoch = math.ceil(len(x_fit) / batch_size)
        _, record, _ = train(x_fit, y_fit, steps, ensemble, validation=(x_val, y_val))
        best = smoothed_best_epoch(record["val_loss"])
        selected = max(best * per_epoch, math.ceil(MIN_FRACTION * steps))
    models = []
    for member in range(ensemble):
        model, history, done = train(x, y, selected, member)
        record = record or history
        models.append(model)
    return GlobalForecaster(models, lookback, horizon, season, quantiles, channels, log, record, done, len(x),
                            time.perf_counter() - started, budget=steps if held_out is not None else None)


def _repeat(y: np.ndarray, quantiles: int) -> np.ndarray:
    return np.repeat(y[:, :, None], quantiles, axis=2)


def _backtest(histories, covariates, horizon: int):
    """The histories without their last ``horizon`` values (series long enough to give up that many), the matching
    covariates, and the values held out; None when no series is long enough."""
    keep = [i for i, v in enumerate(histories) if len(v) >= 2 * horizon + MIN_OBSERVED + 1]
    if not keep:
        return None
    cut = [histories[i][:-horizon] for i in keep]
    cut_covariates = None if covariates is None else [covariates[i][:len(histories[i])] for i in keep]
    return cut, cut_covariates, [histories[i][-horizon:] for i in keep]
