"""Windows, chronological splits, missing values and scalers: round trips, order, and explicit choices."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from gated.data import (MinMaxScaler, StandardScaler, TimeSeries, chronological_split, fill_missing,
                        make_windows)
from gated.datasets import co2, sunspots


# ------------------------------------------------------------------------------------------------ make_windows
@pytest.mark.parametrize("length, lookback, horizon, stride", [(20, 5, 3, 1), (20, 5, 3, 2), (23, 4, 1, 3),
                                                               (8, 6, 2, 1), (50, 7, 7, 7)])
def test_windows_of_a_1d_series_have_the_documented_shapes_and_contents(length, lookback, horizon, stride):
    series = np.arange(length, dtype=np.float32) * 1.5
    x, y = make_windows(series, lookback, horizon, stride)
    n = (length - lookback - horizon) // stride + 1
    assert x.shape == (n, lookback, 1) and y.shape == (n, horizon) and x.dtype == y.dtype == np.float32
    for i in range(n):
        s = i * stride
        np.testing.assert_array_equal(x[i, :, 0], series[s:s + lookback])
        np.testing.assert_array_equal(y[i], series[s + lookback:s + lookback + horizon])


def test_windows_with_stride_one_reconstruct_the_series():
    series = np.random.default_rng(0).normal(size=(40, 3))
    x, y = make_windows(series, lookback=6, horizon=4)
    assert x.shape == (31, 6, 3) and y.shape == (31, 4, 3)
    rebuilt = np.concatenate([x[:, 0], x[-1, 1:], y[-1]])  # first step of each window, then the last window
    np.testing.assert_array_equal(rebuilt, series)
    assert x.flags["C_CONTIGUOUS"] and not np.shares_memory(x, series)


def test_windows_pick_target_channels():
    series = np.arange(30.0).reshape(10, 3)
    x, y = make_windows(series, 3, 2, targets=1)
    assert x.shape == (6, 3, 3) and y.shape == (6, 2)
    np.testing.assert_array_equal(y[0], series[3:5, 1])
    _, y_two = make_windows(series, 3, 2, targets=[2, 0])
    assert y_two.shape == (6, 2, 2)
    np.testing.assert_array_equal(y_two[1], series[4:6][:, [2, 0]])


def test_windows_refuse_missing_values_short_series_and_bad_arguments():
    series = np.arange(10.0)
    series[6] = np.nan
    with pytest.raises(ValueError, match=re.escape("make_windows: the series has missing values (NaN), the first "
                                                   "at index 6. Choose how to handle them first: "
                                                   "gated.data.fill_missing")):
        make_windows(series, 3, 1)
    with pytest.raises(ValueError, match=re.escape("a series of 5 timesteps is too short for one window of "
                                                   "lookback=4 + horizon=2 = 6 timesteps")):
        make_windows(np.zeros(5), 4, 2)
    with pytest.raises(ValueError, match="lookback must be an int >= 1; received 0"):
        make_windows(np.zeros(5), 0, 2)
    with pytest.raises(ValueError, match="stride must be an int >= 1; received 1.5"):
        make_windows(np.zeros(5), 1, 2, stride=1.5)
    with pytest.raises(ValueError, match=re.escape("expects a series of shape (timesteps,) or (timesteps, "
                                                   "channels); received an array of shape (2, 3, 4)")):
        make_windows(np.zeros((2, 3, 4)), 1, 1)
    with pytest.raises(ValueError, match="this series is 1-D, so leave targets out"):
        make_windows(np.zeros(5), 1, 1, targets=0)
    with pytest.raises(ValueError, match=re.escape("targets must be channel indices in 0..2; received 3")):
        make_windows(np.zeros((5, 3)), 1, 1, targets=3)


# ------------------------------------------------------------------------------------------------ splits
def test_chronological_split_keeps_time_order_and_covers_everything():
    series = np.arange(100)
    train, val, test = chronological_split(series, val=0.15, test=0.1)
    assert (len(train), len(val), len(test)) == (75, 15, 10)
    np.testing.assert_array_equal(np.concatenate([train, val, test]), series)
    assert train.max() < val.min() and val.max() < test.min()
    train, val, test = chronological_split(series, val=0, test=7)
    assert (len(train), len(val), len(test)) == (93, 0, 7) and test[0] == 93
    _, _, rounded_up = chronological_split(np.arange(309), test=0.1)
    assert len(rounded_up) == 31


def test_chronological_split_of_timestamps_and_values_together():
    timestamps, values = sunspots.load_data()
    (t_train, v_train), (t_val, v_val), (t_test, v_test) = chronological_split(timestamps, values, val=20, test=30)
    assert len(t_test) == len(v_test) == 30 and str(t_test[0]) == "1979" and str(t_train[-1]) == "1958"
    np.testing.assert_array_equal(np.concatenate([v_train, v_val, v_test]), values)
    assert t_train[-1] < t_val[0] < t_val[-1] < t_test[0]


@pytest.mark.parametrize("options, error, message", [
    ({"val": 0.5, "test": 0.5}, ValueError, "val=0.5 (5) and test=0.5 (5) leave 0 of 10 timesteps for training"),
    ({"test": 1.0}, ValueError, "test=1.0 as a fraction must lie in [0, 1); pass an int"),
    ({"val": -1}, ValueError, "val=-1 must be >= 0"),
    ({"test": True}, TypeError, "test must be a fraction (float in [0, 1)) or a count (int); received True"),
])
def test_chronological_split_errors(options, error, message):
    with pytest.raises(error, match=re.escape(message)):
        chronological_split(np.arange(10), **options)


def test_chronological_split_needs_equal_lengths():
    with pytest.raises(ValueError, match=re.escape("the arrays have different lengths (3, 4)")):
        chronological_split(np.zeros(3), np.zeros(4))


# ------------------------------------------------------------------------------------------------ missing values
def test_fill_missing_raises_by_default_saying_where_and_what_to_do():
    timestamps, values = co2.load_data()
    message = ("The series has 59 missing values (NaN) in 59 of 2284 timesteps; the first is at index 6 (timestamp "
               "1958-05-10). Choose how to handle them: fill_missing(series, method='interpolate') fills each gap "
               "linearly between its neighbours, method='drop' removes the timesteps with a missing value")
    with pytest.raises(ValueError, match=re.escape(message)):
        fill_missing(values, timestamps=timestamps)
    with pytest.raises(ValueError, match=re.escape("the first is at index 6 (timestamp 1958-05-10)")):
        fill_missing(co2.load_data())
    with pytest.raises(ValueError, match=re.escape("the first is at index 1, channel 1")):
        fill_missing(np.array([[1.0, 2.0], [3.0, np.nan]]))
    clean = np.array([1.0, 2.0])
    result = fill_missing(clean)
    np.testing.assert_array_equal(result, clean)
    assert result is not clean


def test_interpolate_fills_gaps_linearly_and_ends_with_the_nearest_value():
    series = np.array([np.nan, 1.0, np.nan, np.nan, 4.0, 6.0, np.nan])
    filled = fill_missing(series, method="interpolate")
    np.testing.assert_array_equal(filled, [1.0, 1.0, 2.0, 3.0, 4.0, 6.0, 6.0])
    assert np.isnan(series[0])  # the input is not modified
    times = np.array([0, 1, 2, 4, 10, 11, 12])  # uneven spacing: interpolate in time
    _, in_time = fill_missing(series, method="interpolate", timestamps=times)
    np.testing.assert_allclose(in_time[2:4], [1.0 + 3.0 / 9.0, 1.0 + 9.0 / 9.0])


def test_interpolate_is_per_channel_and_keeps_observed_values():
    series = np.array([[1.0, 10.0], [np.nan, 20.0], [3.0, np.nan], [5.0, 40.0]])
    np.testing.assert_array_equal(fill_missing(series, method="interpolate"),
                                  [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [5.0, 40.0]])
    data = co2.load_data()
    filled = fill_missing(data, method="interpolate")
    assert isinstance(filled, TimeSeries) and filled.columns == ("co2",)
    observed = ~np.isnan(data.values)
    assert not np.isnan(filled.values).any()
    np.testing.assert_array_equal(filled.values[observed], data.values[observed])
    # Week 6 (1958-05-10) is a one-week gap between two observed weeks: the mean of its neighbours.
    np.testing.assert_allclose(filled.values[6], (data.values[5] + data.values[7]) / 2)


def test_drop_removes_timesteps_with_any_missing_channel_and_their_timestamps():
    series = np.array([[1.0, 10.0], [np.nan, 20.0], [3.0, np.nan], [5.0, 40.0]])
    times = np.array(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"], dtype="datetime64[D]")
    kept_times, kept = fill_missing(series, method="drop", timestamps=times)
    np.testing.assert_array_equal(kept, [[1.0, 10.0], [5.0, 40.0]])
    np.testing.assert_array_equal(kept_times, times[[0, 3]])
    dropped = fill_missing(co2.load_data(), method="drop")
    assert len(dropped.values) == 2284 - 59 == len(dropped.timestamps)


def test_fill_missing_argument_errors():
    with pytest.raises(ValueError, match=re.escape("method must be one of ('raise', 'interpolate', 'drop'); "
                                                   "received 'zero'")):
        fill_missing(np.zeros(3), method="zero")
    with pytest.raises(ValueError, match="channel 1 has no values at all"):
        fill_missing(np.array([[1.0, np.nan], [2.0, np.nan]]), method="interpolate")
    with pytest.raises(ValueError, match=re.escape("timestamps of shape (2,) do not match a series of 3 timesteps")):
        fill_missing(np.zeros(3), timestamps=np.arange(2))
    with pytest.raises(ValueError, match="a TimeSeries carries its timestamps"):
        fill_missing(co2.load_data(), method="drop", timestamps=np.arange(2284))


# ------------------------------------------------------------------------------------------------ scalers
@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler(), MinMaxScaler(feature_range=(-1, 1))])
@pytest.mark.parametrize("shape", [(50,), (50, 3), (8, 12, 3)])
def test_scaler_round_trip(scaler, shape):
    rng = np.random.default_rng(1)
    data = rng.normal(5.0, 3.0, size=shape)
    scaled = scaler.fit_transform(data)
    np.testing.assert_allclose(scaler.inverse_transform(scaled), data, rtol=0, atol=1e-12)
    as_float32 = data.astype(np.float32)
    restored = scaler.inverse_transform(scaler.transform(as_float32))
    assert restored.dtype == np.float32
    np.testing.assert_allclose(restored, as_float32, rtol=1e-6, atol=1e-5)


def test_scalers_are_per_channel_and_use_training_statistics_only():
    train = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    test = np.array([[6.0, 40.0]])
    standard = StandardScaler().fit(train)
    np.testing.assert_allclose(standard.mean_, [2.0, 20.0])
    np.testing.assert_allclose(standard.scale_, [np.sqrt(8 / 3), np.sqrt(200 / 3)])
    scaled = standard.transform(train)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0)
    np.testing.assert_allclose(standard.transform(test), [[4.0 / np.sqrt(8 / 3), 20.0 / np.sqrt(200 / 3)]])
    np.testing.assert_allclose(standard.mean_, [2.0, 20.0])  # transform never refits
    minmax = MinMaxScaler().fit(train)
    np.testing.assert_allclose(minmax.transform(train), [[0.0, 0.0], [0.5, 1.0], [1.0, 0.5]])
    np.testing.assert_allclose(minmax.transform(test), [[1.5, 1.5]])  # outside the range: not clipped


def test_scalers_refuse_to_transform_before_fit():
    for scaler in (StandardScaler(), MinMaxScaler()):
        name = type(scaler).__name__
        with pytest.raises(ValueError, match=re.escape(f"{name} is not fitted yet: call fit(train) on the training "
                                                       f"data first, then transform(...)")):
            scaler.transform(np.zeros(3))
        with pytest.raises(ValueError, match=re.escape("then inverse_transform(...)")):
            scaler.inverse_transform(np.zeros(3))


def test_inverse_transform_of_forecasts_in_the_units_of_the_series():
    timestamps, values = sunspots.load_data()
    train, _, test = chronological_split(values, val=0, test=30)
    scaler = StandardScaler().fit(train)  # the training part only
    lookback, horizon = 12, 5
    x, y = make_windows(scaler.transform(np.concatenate([train[-lookback:], test])), lookback, horizon)
    assert y.shape == (30 - horizon + 1, horizon)  # every forecast lies in the test part
    forecasts_in_units = scaler.inverse_transform(y)  # (N, horizon): a one-channel scaler takes any shape
    np.testing.assert_allclose(forecasts_in_units[0], test[:horizon], atol=1e-12)
    np.testing.assert_allclose(forecasts_in_units[-1], test[-horizon:], atol=1e-12)


def test_inverse_transform_of_one_channel_of_a_multichannel_scaler():
    data = np.random.default_rng(2).normal(size=(60, 3)) * [1.0, 10.0, 100.0]
    scaler = MinMaxScaler().fit(data[:40])
    _, y = make_windows(scaler.transform(data), 10, 4, targets=2)
    np.testing.assert_allclose(scaler.inverse_transform(y, channel=2)[0], data[10:14, 2], atol=1e-12)
    with pytest.raises(ValueError, match=re.escape("MinMaxScaler was fitted on 3 channels (the last axis), but "
                                                   "inverse_transform received shape (47, 4). Pass an array whose last "
                                                   "axis has 3 channels, or channel=k")):
        scaler.inverse_transform(y)
    with pytest.raises(ValueError, match=re.escape("channel must be an int in 0..2; received 3")):
        scaler.transform(y, channel=3)


def test_scalers_ignore_missing_values_in_fit_and_keep_them():
    data = np.array([1.0, np.nan, 3.0])
    scaler = StandardScaler().fit(data)
    assert scaler.mean_.tolist() == [2.0]
    scaled = scaler.transform(data)
    assert np.isnan(scaled[1]) and scaled[0] == -1.0
    with pytest.raises(ValueError, match="channel 0 has no values"):
        StandardScaler().fit(np.array([np.nan, np.nan]))


def test_constant_channels_and_config_round_trip():
    data = np.array([[5.0, 1.0], [5.0, 3.0]])
    standard = StandardScaler().fit(data)
    np.testing.assert_array_equal(standard.transform(data)[:, 0], [0.0, 0.0])
    minmax = MinMaxScaler(feature_range=(2, 4)).fit(data)
    np.testing.assert_array_equal(minmax.transform(data), [[2.0, 2.0], [2.0, 4.0]])
    for scaler in (standard, minmax):
        config = json.loads(json.dumps(scaler.get_config()))
        restored = type(scaler).from_config(config)
        np.testing.assert_array_equal(restored.transform(data), scaler.transform(data))
    assert MinMaxScaler.from_config(MinMaxScaler().get_config()).n_channels_ is None
    assert "fitted on 2 channel(s)" in repr(minmax) and "not fitted" in repr(MinMaxScaler())
    with pytest.raises(ValueError, match=re.escape("feature_range must be (low, high) with low < high")):
        MinMaxScaler(feature_range=(1, 1))
