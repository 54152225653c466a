"""``gated forecast --data`` on a long-format panel: one global model, metrics averaged over series, per-series
results in a CSV, and output paths checked before any training."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from gated.cli import main
from gated.recipes import forecast_errors, seasonal_naive_forecast


def _panel_file(path, count: int = 3, length: int = 72):
    rng = np.random.default_rng(0)
    months = np.arange("2000-01", "2100-01", dtype="datetime64[M]")[:length]
    series = {}
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("store,month,sales,promo\n")
        for i in range(count):
            promo = (rng.random(length) < 0.3).astype(float)
            values = 100 * (i + 1) + 20 * np.sin(2 * np.pi * np.arange(length) / 12) + 30 * promo
            series[f"s{i}"] = values
            for month, value, p in zip(months, values, promo):
                handle.write(f"s{i},{month}-01,{float(value)!r},{float(p)}\n")
    return series


def test_panel_forecast_reports_means_over_series_and_writes_each_series(tmp_path, capsys):
    path = tmp_path / "panel.csv"
    series = _panel_file(path)
    output = tmp_path / "per_series.csv"
    code = main(["forecast", "--data", str(path), "--id-column", "store", "--time-column", "month", "--column", "sales",
                 "--covariates", "promo", "--horizon", "6", "--ensemble", "1", "--json", "--output", str(output)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["series"] == 3
    with open(output, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["series"] for r in rows] == ["s0", "s1", "s2"]
    mase = [float(r["mase"]) for r in rows]
    assert out["test_mase"] == pytest.approx(np.mean(mase))
    # The seasonal naive figures are the baseline's own, recomputed here from the file's values.
    expected = [forecast_errors(v[-6:], seasonal_naive_forecast(v[:-6], 6, 12), v[:-6], 12)["mase"]
                for v in series.values()]
    assert out["seasonal_naive_mase"] == pytest.approx(np.mean(expected))
    forecasts = [np.array(r["forecast"].split(), dtype=float) for r in rows]
    for r, f, v in zip(rows, forecasts, series.values()):
        assert float(r["mase"]) == pytest.approx(forecast_errors(v[-6:], f, v[:-6], 12)["mase"])
    assert 0.0 <= out["test_coverage_80"] <= out["test_coverage_95"] <= 1.0


def test_epochs_and_batch_size_reach_the_global_model(tmp_path, capsys):
    path = tmp_path / "panel.csv"
    _panel_file(path, count=2, length=48)
    code = main(["forecast", "--data", str(path), "--id-column", "store", "--time-column", "month", "--column", "sales",
                 "--horizon", "6", "--ensemble", "1", "--epochs", "3", "--batch-size", "50", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out.strip().splitlines()[-1])
    # The 2 histories of 42 values give 78 windows: 2 steps an epoch at 50 a batch, a budget of 6 steps; the backtest
    # may keep fewer epochs, never more, and at least a quarter of the budget (without --epochs: at least 800 steps).
    assert len(out["steps"]) == 1 and 2 <= out["steps"][0] <= 6 and out["steps"][0] % 2 == 0


def test_panel_output_paths_are_checked_before_training(tmp_path, capsys):
    path = tmp_path / "panel.csv"
    _panel_file(path, count=2)
    code = main(["forecast", "--csv", str(path), "--id-column", "store", "--time-column", "month", "--column", "sales",
                 "--horizon", "6", "--output", str(tmp_path / "missing" / "out.csv")])
    captured = capsys.readouterr()
    assert code == 1 and "does not exist" in captured.err and "Forecasting" not in captured.out
    code = main(["forecast", "--csv", str(path), "--id-column", "store", "--time-column", "month",
                 "--horizon", "6"])
    captured = capsys.readouterr()
    assert code == 1 and "Pass --column" in captured.err


def test_a_series_too_short_for_the_single_series_recipe_goes_to_the_global_model(tmp_path, capsys):
    months = np.arange("2001-01", "2004-01", dtype="datetime64[M]")
    values = 200 + 10 * np.arange(36) + 40 * np.sin(2 * np.pi * np.arange(36) / 12)
    path = tmp_path / "short.csv"
    path.write_text("month,sales\n" + "".join(f"{m},{float(v)!r}\n" for m, v in zip(months, values)))
    code = main(["forecast", "--data", str(path), "--horizon", "12", "--ensemble", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["recipe"] == "global" and out["series"] == 1
    history = values[:-12]
    # The season comes from the monthly timestamps: the baseline is seasonal naive at 12, recomputed here.
    expected = forecast_errors(values[-12:], seasonal_naive_forecast(history, 12, 12), history, 12)["mase"]
    assert out["seasonal_naive_mase"] == pytest.approx(expected)
    assert 0.0 <= out["test_coverage_80"] <= out["test_coverage_95"] <= 1.0
    refused = main(["forecast", "--data", str(path), "--horizon", "12", "--save", str(tmp_path / "m.gated")])
    assert refused == 1 and "--save does not keep global models yet" in capsys.readouterr().err
