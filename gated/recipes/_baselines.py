"""Baselines and error measures reported beside every model, computed in the same run."""

from __future__ import annotations

import numpy as np


def one_nn_euclidean(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """1-nearest-neighbour predictions under Euclidean distance over all timesteps and channels (UCR's baseline).

    Series are compared as stored (padded series with their padding), flattened to vectors.
    """
    train = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    test = np.asarray(x_test, dtype=np.float64).reshape(len(x_test), -1)
    # |a - b|^2 = |a|^2 - 2 a.b + |b|^2, in blocks to bound memory.
    train_sq = (train ** 2).sum(1)
    predictions = np.empty(len(test), dtype=np.asarray(y_train).dtype)
    for start in range(0, len(test), 1024):
        block = test[start:start + 1024]
        distances = (block ** 2).sum(1)[:, None] - 2.0 * block @ train.T + train_sq[None, :]
        predictions[start:start + 1024] = np.asarray(y_train)[np.argmin(distances, axis=1)]
    return predictions


def naive_forecast(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed value."""
    return np.full(horizon, np.asarray(history, dtype=np.float64)[-1])


def seasonal_naive_forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last observed season: y[T + h] = y[T + h - m * ceil(h / m)]."""
    history = np.asarray(history, dtype=np.float64)
    if season < 1 or season > len(history):
        raise ValueError(f"season={season} needs between 1 and {len(history)} observed values.")
    last = history[-season:]
    return np.array([last[h % season] for h in range(horizon)])


def interval_coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """The share of ``actual`` values inside [low, high] (ends included)."""
    actual = np.asarray(actual, dtype=np.float64)
    return float(np.mean((actual >= low) & (actual <= high)))


def forecast_errors(actual: np.ndarray, predicted: np.ndarray, history: np.ndarray, season: int) -> dict[str, float]:
    """MAPE and sMAPE (fractions: 0.05 is 5%), MASE (scaled by the in-sample seasonal naive MAE) and RMSE.

    sMAPE counts a step where the actual value and the forecast are both 0 as 0 (exact); MAPE is undefined
    (inf or NaN) when an actual value is 0, and stays so: means over series leave such a series out."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    history = np.asarray(history, dtype=np.float64)
    errors = actual - predicted
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = float(np.mean(np.abs(errors) / np.abs(actual)))
        denominator = np.abs(actual) + np.abs(predicted)
        # A step where both the actual value and the forecast are 0 is a perfect forecast: its term is 0, not 0/0.
        smape = float(np.mean(np.where(denominator > 0, 2.0 * np.abs(errors) / denominator, 0.0)))
    m = season if season < len(history) else 1
    scale = float(np.mean(np.abs(history[m:] - history[:-m])))
    mase = float(np.mean(np.abs(errors)) / scale) if scale > 0 else float("nan")
    return {"mape": mape, "smape": smape, "mase": mase, "rmse": float(np.sqrt(np.mean(errors ** 2)))}
