"""The global quantile forecaster: its loss, its starting point (seasonal naive), what it learns from many series
and from covariates, and the errors it gives for bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gated.recipes import forecast_errors, naive_forecast, seasonal_naive_forecast, train_global_forecaster
from gated.recipes._global import (GlobalForecaster, build_global_network, pinball_loss, seasonal_base,
                                   seasonal_beats_naive)


def test_pinball_loss_matches_a_float64_reference_and_skips_missing_targets():
    rng = np.random.default_rng(0)
    levels = (0.1, 0.5, 0.9)
    pred = rng.normal(size=(4, 3, 3))
    target = rng.normal(size=(4, 3))
    target[1, 2] = target[3, 0] = np.nan
    expected, count = 0.0, 0
    for b in range(4):
        for h in range(3):
            if np.isnan(target[b, h]):
                continue
            count += 1
            for k, q in enumerate(levels):
                e = target[b, h] - pred[b, h, k]
                expected += max(q * e, (q - 1) * e)
    expected /= count * len(levels)
    tiled = np.repeat(target[:, :, None], 3, axis=2)
    got = pinball_loss(levels)(torch.tensor(tiled, dtype=torch.float32), torch.tensor(pred, dtype=torch.float32))
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_seasonal_base_repeats_the_last_season_and_falls_back_to_the_last_value():
    z = np.arange(10.0)
    np.testing.assert_array_equal(seasonal_base(z, 10, 5, 4), [6, 7, 8, 9, 6])
    np.testing.assert_array_equal(seasonal_base(z, 2, 3, 4), [1, 1, 0])  # the last value until a season back exists
    t = np.arange(240)
    assert seasonal_beats_naive(np.sin(2 * np.pi * t / 12), 12, 6)
    walk = np.cumsum(np.random.default_rng(1).normal(size=240))
    assert not seasonal_beats_naive(walk, 12, 6)


@pytest.mark.parametrize("positive", [True, False])
def test_an_untrained_network_forecasts_the_seasonal_naive_or_naive_baseline(positive):
    t = np.arange(120)
    seasonal = 10 + np.sin(2 * np.pi * t / 12) * 3 + (0 if positive else -20)
    walk = 50 + np.cumsum(np.random.default_rng(2).normal(size=120))
    network = build_global_network(36, 2, 6, 5)
    forecaster = GlobalForecaster([network], 30, 6, 12, (0.025, 0.1, 0.5, 0.9, 0.975), 0, None)
    quantiles = forecaster.forecast([seasonal, walk])
    assert quantiles.shape == (2, 6, 5)
    np.testing.assert_allclose(quantiles[0, :, 2], seasonal_naive_forecast(seasonal, 6, 12), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(quantiles[1, :, 2], naive_forecast(walk, 6), rtol=1e-9)


def _panel(seed: int, count: int = 6, length: int = 96):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    out = []
    for i in range(count):
        level, amplitude = 10.0 ** rng.uniform(0, 3), rng.uniform(0.2, 0.5)
        phase = rng.uniform(0, 2 * np.pi)
        trend = 1 + 0.004 * rng.uniform(-1, 1) * t
        out.append(level * trend * (1 + amplitude * np.sin(2 * np.pi * t / 12 + phase))
                   * (1 + 0.03 * rng.normal(size=length)))
    return out


def test_one_model_for_many_series_beats_seasonal_naive_and_its_intervals_cover():
    series = _panel(0)
    horizon = 12
    histories = [s[:-horizon] for s in series]
    model = train_global_forecaster(histories, horizon, season=12, steps=400, ensemble=1, seed=0)
    quantiles = model.forecast(histories)
    assert np.all(np.diff(quantiles, axis=-1) >= 0)
    ours, baseline, inside = [], [], []
    for s, h, q in zip(series, histories, quantiles):
        actual = s[-horizon:]
        ours.append(forecast_errors(actual, q[:, 2], h, 12)["mase"])
        baseline.append(forecast_errors(actual, seasonal_naive_forecast(h, horizon, 12), h, 12)["mase"])
        low, high = model.interval(q, 95)
        inside.append(np.mean((actual >= low) & (actual <= high)))
    assert np.mean(ours) < np.mean(baseline)
    assert np.mean(inside) >= 0.7


def test_known_future_covariates_are_used():
    rng = np.random.default_rng(3)
    series, covariates = [], []
    for _ in range(4):
        driver = rng.normal(size=150)
        covariates.append(driver[:, None])
        series.append(100 + 5 * driver + 0.2 * rng.normal(size=150))
    horizon = 6
    histories = [s[:-horizon] for s in series]
    cov = [c for c in covariates]  # history + horizon: (150, 1) each
    with_cov = train_global_forecaster(histories, horizon, covariates=cov, steps=500, ensemble=1, log=False)
    without = train_global_forecaster(histories, horizon, steps=500, ensemble=1, log=False)
    err_with = np.mean([forecast_errors(s[-horizon:], p, h, 1)["mase"]
                        for s, p, h in zip(series, with_cov.point(histories, cov), histories)])
    err_without = np.mean([forecast_errors(s[-horizon:], p, h, 1)["mase"]
                           for s, p, h in zip(series, without.point(histories), histories)])
    assert err_with < 0.5 * err_without


def test_bad_input_says_what_was_received_and_what_is_expected():
    series = _panel(1, count=2)
    with pytest.raises(ValueError, match=r"too few to learn a horizon of 12"):
        train_global_forecaster([series[0][:10]], 12)
    with pytest.raises(ValueError, match=r"Covariates of series 1 have shape \(96, 1\); expected \(108, 1\)"):
        train_global_forecaster(series, 12, covariates=[np.zeros((108, 1)), np.zeros((96, 1))], steps=1)
    with pytest.raises(ValueError, match=r"missing or infinite values"):
        train_global_forecaster([np.r_[series[0][:50], np.nan, series[0][51:]]], 6)
    with pytest.raises(ValueError, match=r"include 0.5"):
        train_global_forecaster(series, 6, quantiles=(0.1, 0.9))
    with pytest.raises(ValueError, match=r"steps or as epochs, not both; received steps=5, epochs=2"):
        train_global_forecaster(series, 6, steps=5, epochs=2)
    with pytest.raises(ValueError, match=r"epochs must be a positive integer; received 0"):
        train_global_forecaster(series, 6, epochs=0)


def test_epochs_and_batch_size_set_the_step_budget():
    series = _panel(2, count=2)
    model = train_global_forecaster(series, 6, epochs=2, batch_size=64, ensemble=1, validate=False)
    assert model.steps == 2 * -(-model.windows // 64)


def test_smape_counts_an_exact_zero_forecast_as_exact_and_means_compare_like_for_like():
    errors = forecast_errors(np.zeros(3), np.zeros(3), np.array([0.0, 1.0, 0.0, 2.0]), 1)
    assert errors["smape"] == 0.0 and errors["mase"] == 0.0
    half = forecast_errors(np.array([0.0, 2.0]), np.array([0.0, 1.0]), np.array([1.0, 2.0, 3.0]), 1)
    assert half["smape"] == pytest.approx((0.0 + 2 * 1 / 3) / 2)
