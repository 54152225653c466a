"""The default forecasters on the development series: MASE, sMAPE, interval coverage and time per series and seed.

Each run is a ``gated forecast ... --seed S --json`` command line in a fresh process with one thread, so the figures
are what a user gets; naive and seasonal naive come from the same run, and AutoETS / AutoARIMA (statsforecast, when
installed) are fitted here on the same histories.

    python benchmarks/forecasting.py                      # every task, seeds 0 1 2 -> forecasting.json
    python benchmarks/forecasting.py --tasks sunspots shampoo --seeds 0
    python benchmarks/forecasting.py --table              # the table of docs/RESULTS.md from the JSON

Data come from ../shared/datasets (see its README for their sources).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "datasets"))
PANEL = ["--data", os.path.join(DATA, "classic_panel", "panel.csv"), "--id-column", "series_id", "--time-column",
         "timestamp", "--column", "value"]
USCHANGE = os.path.join(DATA, "uschange", "Uschange.csv")
TASKS = {  # name: (gated forecast options, season, horizon) of each development task
    "classic_panel": (PANEL, None, None),
    "sunspots": (["--data", "sunspots", "--horizon", "11"], 11, 11),
    "co2": (["--data", "co2", "--horizon", "52", "--missing", "interpolate"], 52, 52),
    "shampoo": (["--data", os.path.join(DATA, "shampoo_sales", "ShampooSales.csv"), "--horizon", "12"], 12, 12),
    "uschange": (["--data", USCHANGE, "--time-column", "Quarter", "--column", "Consumption", "--covariates",
                  "Income,Production,Savings,Unemployment", "--horizon", "8"], 4, 8),
    "uschange_alone": (["--data", USCHANGE, "--column", "Consumption", "--season", "4", "--horizon", "8"], 4, 8),
}


def command(task: str, seed: int) -> list[str]:
    return [sys.executable, "-m", "gated", "forecast", *TASKS[task][0], "--seed", str(seed), "--json"]


def run(task: str, seed: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    started = time.perf_counter()
    done = subprocess.run(command(task, seed), capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"task": task, "seed": seed, "error": done.stderr[-2000:]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(task=task, seed=seed, wall_seconds=round(time.perf_counter() - started, 1))
    print(f"{task:15s} seed {seed}: MASE {result['test_mase']:.4f} (seasonal naive {result['seasonal_naive_mase']:.4f}) "
          f"80% {result['test_coverage_80']:.3f} {result['wall_seconds']:.0f} s", flush=True)
    return result


def statistical_baselines(task: str) -> dict | None:
    """Mean MASE of statsforecast's AutoETS and AutoARIMA on the task's histories; None without statsforecast."""
    try:
        from statsforecast.models import AutoARIMA, AutoETS
    except ImportError:
        return None
    sys.path.insert(0, os.path.dirname(HERE))
    from gated.cli._sources import load_series
    from gated.data import read_panel
    from gated.recipes import forecast_errors

    if task == "classic_panel":
        panel = read_panel(PANEL[1], id_column="series_id", time_column="timestamp", value_column="value")
        items = [(v, panel.horizon or {"yearly": 6, "quarterly": 8, "monthly": 18}[panel.frequency[i]],
                  panel.season(i) or 1) for i, v in enumerate(panel.values)]
    elif task.startswith("uschange"):
        values = read_panel(USCHANGE, time_column="Quarter", value_column="Consumption",
                            covariates=["Income", "Production", "Savings", "Unemployment"]).values[0]
        items = [(values, 8, 4)]
    else:
        options = TASKS[task][0]
        source = options[1]
        missing = "interpolate" if "interpolate" in options else "raise"
        items = [(load_series(source, None, missing).values, TASKS[task][2], TASKS[task][1])]
    out = {}
    for name, make in (("auto_ets", lambda m: AutoETS(season_length=m)),
                       ("auto_arima", lambda m: AutoARIMA(season_length=m))):
        scores = []
        for values, horizon, season in items:
            history, actual = values[:-horizon], values[-horizon:]
            forecast = make(season).forecast(y=history.astype(np.float64), h=horizon)["mean"]
            scores.append(forecast_errors(actual, forecast, history, season)["mase"])
        out[f"{name}_mase"] = float(np.mean(scores))
    return out


def table(results: list[dict], baselines: dict) -> str:
    rows = ["| task | recipe | gated MASE (mean ± sd) | seeds | sMAPE | 80% / 95% coverage | seasonal naive | naive | "
            "AutoETS | AutoARIMA | time (s) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for task in TASKS:
        runs = [r for r in results if r.get("task") == task and "error" not in r]
        if not runs:
            continue
        mase = [r["test_mase"] for r in runs]
        sd = statistics.stdev(mase) if len(mase) > 1 else 0.0
        extra = baselines.get(task) or {}
        ets, arima = (f"{extra[k]:.3f}" if k in extra else "–" for k in ("auto_ets_mase", "auto_arima_mase"))
        rows.append(f"| {task} | {runs[0].get('recipe', '?')} | **{statistics.mean(mase):.3f} ± {sd:.3f}** | "
                    f"{', '.join(f'{m:.3f}' for m in mase)} | {statistics.mean(r['test_smape'] for r in runs):.3f} | "
                    f"{statistics.mean(r['test_coverage_80'] for r in runs):.3f} / "
                    f"{statistics.mean(r['test_coverage_95'] for r in runs):.3f} | "
                    f"{runs[0]['seasonal_naive_mase']:.3f} | {runs[0]['naive_mase']:.3f} | {ets} | {arima} | "
                    f"{statistics.mean(r['train_seconds'] for r in runs):.0f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one thread each; default 2)")
    parser.add_argument("--output", default=os.path.join(HERE, "forecasting.json"))
    parser.add_argument("--table", action="store_true", help="print the table from --output and stop")
    args = parser.parse_args()
    if args.table:
        with open(args.output) as handle:
            saved = json.load(handle)
        print(table(saved["runs"], saved.get("baselines", {})))
        return
    jobs = [(task, seed) for seed in args.seeds for task in args.tasks]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: run(*job), jobs))
    baselines = {}
    for task in args.tasks:
        started = time.perf_counter()
        baselines[task] = statistical_baselines(task)
        if baselines[task] is not None:
            print(f"{task:15s} AutoETS {baselines[task]['auto_ets_mase']:.4f}, AutoARIMA "
                  f"{baselines[task]['auto_arima_mase']:.4f} ({time.perf_counter() - started:.0f} s)", flush=True)
    if all(b is None for b in baselines.values()):
        print("AutoETS / AutoARIMA skipped: statsforecast is not installed (pip install statsforecast).",
              file=sys.stderr)
    for failed in (r for r in results if "error" in r):
        print(f"{failed['task']} seed {failed['seed']} failed:\n{failed['error']}", file=sys.stderr)
    with open(args.output, "w") as handle:
        json.dump({"runs": results, "baselines": baselines}, handle, indent=1)
    print(table(results, baselines))


if __name__ == "__main__":
    main()
