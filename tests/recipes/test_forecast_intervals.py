"""Intervals of the single-series recipe and the backtest that chooses how long the global forecaster trains."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gated.recipes import load_recipe, save_forecaster, train_forecaster, train_global_forecaster
from gated.recipes._classify import smoothed_best_epoch
from gated.recipes._global import MIN_FRACTION


def _noisy_season(length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return 10 + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(size=length)


def test_direct_recipe_intervals_cover_unseen_values_at_about_their_level():
    series = _noisy_season(420)
    horizon, train_end = 6, 300
    result = train_forecaster(series[:train_end], horizon, season=12, epochs=20, units=16, seed=0)
    inside = {80: [], 95: []}
    for origin in range(train_end, len(series) - horizon + 1, 3):  # rolling origins over values never trained on
        history, actual = series[:origin], series[origin:origin + horizon]
        point = result.forecast(history)
        for level in inside:
            low, high = result.interval(history, level, point)
            assert np.all(low <= point) and np.all(point <= high)
            inside[level].append(np.mean((actual >= low) & (actual <= high)))
    assert 0.65 <= np.mean(inside[80]) <= 0.93
    assert np.mean(inside[95]) >= 0.85 and np.mean(inside[95]) > np.mean(inside[80])
    with pytest.raises(ValueError, match="level must be 80 or 95"):
        result.interval(series[:train_end], 90)


def test_saved_single_series_forecaster_keeps_its_intervals(tmp_path):
    series = _noisy_season(200, seed=1)
    result = train_forecaster(series, 6, season=12, epochs=5, units=8, seed=0)
    path = tmp_path / "forecaster.gated"
    save_forecaster(result, path, 12)
    task, loaded, _ = load_recipe(path)
    assert task == "forecasting"
    for level in (80, 95):
        np.testing.assert_allclose(loaded.interval(series, level), result.interval(series, level), rtol=1e-5,
                                   atol=1e-5)


def test_global_backtest_chooses_the_steps_from_its_smoothed_best_epoch():
    series = _noisy_season(150, seed=2)
    horizon = 6
    budget = 240
    model = train_global_forecaster([series], horizon, season=12, ensemble=1, units=16, seed=0, steps=budget)
    assert model.budget == budget
    # The selection run trains on the history without its last horizon: fewer windows than the refit.
    windows = len(series) - horizon - 3
    per_epoch = math.ceil(windows / 32)
    assert len(model.history["val_loss"]) == math.ceil(budget / per_epoch)
    best = smoothed_best_epoch(model.history["val_loss"])
    refit_per_epoch = math.ceil(model.windows / 32)
    chosen = max(best * per_epoch, math.ceil(MIN_FRACTION * budget))
    assert model.steps == math.ceil(chosen / refit_per_epoch) * refit_per_epoch
    assert model.steps < budget  # on pure seasonal noise the score stops improving long before the budget ends


def test_global_forecaster_without_room_for_a_backtest_trains_for_the_whole_budget():
    series = _noisy_season(26, seed=3)
    model = train_global_forecaster([series], 12, ensemble=1, units=8, seed=0, steps=50)
    assert model.budget is None and model.steps >= 50 and "val_loss" not in model.history
    off = train_global_forecaster([_noisy_season(150)], 6, ensemble=1, units=8, steps=60, validate=False)
    assert off.budget is None and off.steps >= 60
