"""The gated command end to end: real processes, exit codes, --json keys, files written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

FAST = ["--epochs", "3", "--units", "8"]


def gated(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gated", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1"})


def last_json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_help_shows_examples_and_exit_codes():
    result = gated("--help")
    assert result.returncode == 0
    assert "gated train --train Data_TRAIN.ts --test Data_TEST.ts" in result.stdout
    assert "exit codes: 0 success, 1 bad data" in result.stdout
    assert gated("forecast", "--help").stdout.count("example:") == 1


def test_info_json_reports_versions_and_threads():
    info = last_json(gated("info", "--json"))
    assert info["gated"] and info["torch"] and info["cpu_threads"] >= 1 and info["cuda"] in (True, False)


def test_train_save_evaluate_predict_round_trip(tmp_path):
    model = str(tmp_path / "italy.gated")
    plots = str(tmp_path / "plots")
    out = last_json(gated("train", "--train", "italy_power_demand", "--test", "italy_power_demand", *FAST,
                          "--save", model, "--plot", plots, "--json"))
    assert {"test_accuracy", "baseline_1nn_euclidean_accuracy", "parameters", "train_seconds", "epochs",
            "saved", "plots"} <= set(out)
    assert 0.0 <= out["test_accuracy"] <= 1.0
    assert out["baseline_1nn_euclidean_accuracy"] == pytest.approx(0.9553, abs=1e-4)  # the published figure
    for path in out["plots"]:
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 1000
    evaluated = last_json(gated("evaluate", "--model", model, "--test", "italy_power_demand", "--json"))
    assert evaluated["test_accuracy"] == pytest.approx(out["test_accuracy"])
    predictions = tmp_path / "predictions.csv"
    result = gated("predict", "--model", model, "--input", "italy_power_demand", "--output", str(predictions))
    assert result.returncode == 0, result.stderr
    lines = predictions.read_text().splitlines()
    assert lines[0] == "index,prediction" and len(lines) == 1030 and {l.split(",")[1] for l in lines[1:]} <= {"1", "2"}


def test_train_on_ts_files_with_string_labels(tmp_path):
    rng = np.random.default_rng(0)

    def write(path, n):
        rows = []
        for i in range(n):
            label = ["up", "down"][i % 2]
            series = np.cumsum(rng.normal(size=12)) + (3 if label == "up" else -3) * np.linspace(0, 1, 12)
            rows.append(",".join(f"{v:.4f}" for v in series) + f":{label}")
        path.write_text("@problemName toy\n@timeStamps false\n@missing false\n@univariate true\n@equalLength true\n"
                        "@seriesLength 12\n@classLabel true up down\n@data\n" + "\n".join(rows) + "\n")

    write(tmp_path / "toy_TRAIN.ts", 30)
    write(tmp_path / "toy_TEST.ts", 20)
    out = last_json(gated("train", "--train", str(tmp_path / "toy_TRAIN.ts"), "--test", str(tmp_path / "toy_TEST.ts"),
                          "--model", "lstm", *FAST, "--json"))
    assert out["model"] == "lstm" and 0.0 <= out["test_accuracy"] <= 1.0


def test_forecast_reports_errors_and_baselines(tmp_path):
    out = last_json(gated("forecast", "--csv", "sunspots", "--horizon", "11", *FAST, "--json",
                          "--plot", str(tmp_path)))
    for key in ("test_mape", "test_smape", "test_mase", "test_rmse", "naive_mase", "seasonal_naive_mase",
                "seasonal_naive_rmse", "naive_rmse", "forecast"):
        assert key in out
    assert out["season"] == 11 and len(out["forecast"]) == 11 and out["recipe"] == "direct"
    assert out["seasonal_naive_mase"] == pytest.approx(0.8807, abs=1e-3)  # computed in the same run
    from gated.datasets import sunspots

    actual = sunspots.load_data()[1][-11:]
    for level in (80, 95):
        low, high = (np.array(v) for v in out[f"interval_{level}"])
        assert np.all(low <= np.array(out["forecast"]) + 1e-9) and np.all(np.array(out["forecast"]) <= high + 1e-9)
        assert out[f"test_coverage_{level}"] == pytest.approx(np.mean((actual >= low) & (actual <= high)))
    assert out["test_coverage_80"] <= out["test_coverage_95"]
    assert os.path.getsize(tmp_path / "forecast.png") > 1000


def test_forecast_on_a_csv_with_gaps_needs_an_explicit_choice(tmp_path):
    csv = tmp_path / "series.csv"
    values = np.sin(np.arange(80) / 3.0) + np.arange(80) * 0.05
    rows = ["t,value"] + [f"{i},{'' if i in (10, 11) else f'{v:.5f}'}" for i, v in enumerate(values)]
    csv.write_text("\n".join(rows) + "\n")
    refused = gated("forecast", "--csv", str(csv), "--column", "value", "--horizon", "6", *FAST)
    assert refused.returncode == 1
    assert "2 missing values" in refused.stderr and "--missing interpolate or --missing drop" in refused.stderr
    out = last_json(gated("forecast", "--csv", str(csv), "--column", "value", "--horizon", "6", "--season", "19",
                          "--missing", "interpolate", *FAST, "--json"))
    assert len(out["forecast"]) == 6 and np.isfinite(out["test_rmse"])


def test_compare_trains_both_cells_on_the_same_budget():
    out = last_json(gated("compare", "--train", "basic_motions", "--test", "basic_motions", *FAST, "--json"))
    assert set(out["results"]) == {"gru", "lstm"}
    assert out["results"]["lstm"]["parameters"] > out["results"]["gru"]["parameters"]
    assert "baseline_1nn_euclidean_accuracy" in out


def test_errors_have_exit_codes_and_say_what_is_wrong(tmp_path):
    missing = gated("train", "--train", str(tmp_path / "nope.ts"))
    assert missing.returncode == 1 and "is neither a file nor a built-in dataset" in missing.stderr
    usage = gated("train", "--train", "italy_power_demand", "--epochs", "0")
    assert usage.returncode == 2 and "expected a positive integer, received 0" in usage.stderr
    broken = tmp_path / "broken_TRAIN.ts"
    broken.write_text("@problemName b\n@univariate true\n@equalLength true\n@classLabel true a b\n@data\n"
                      "1,2,3:a\n1,x,3:b\n")
    bad = gated("train", "--train", str(broken))
    assert bad.returncode == 1 and "broken_TRAIN.ts, line 7" in bad.stderr
    assert gated().returncode == 2


def test_demo_compares_with_baselines_computed_in_the_same_run():
    out = last_json(gated("demo", "--epochs", "2", "--json"))
    assert set(out) >= {"italy_power_demand", "japanese_vowels", "sunspots", "classic_panel_quarterly",
                        "total_seconds"}
    panel = out["classic_panel_quarterly"]
    assert panel["seasonal_naive_mase"] == pytest.approx(2.2154, abs=1e-3)  # the baseline, computed in the run
    assert panel["gated_GRU_mase"] > 0 and 0 <= panel["coverage_80"] <= 1
    assert out["italy_power_demand"]["baseline_1nn_euclidean"] == pytest.approx(0.9553, abs=1e-4)
    assert out["japanese_vowels"]["baseline_1nn_euclidean"] == pytest.approx(0.9162, abs=1e-4)
    assert out["sunspots"]["seasonal_naive_mase"] == pytest.approx(0.8807, abs=1e-3)
    assert 0 <= out["italy_power_demand"]["gru_test_accuracy"] <= 1
