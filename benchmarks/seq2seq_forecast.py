"""Multi-step forecasting: a seq2seq encoder-decoder against the direct multi-step recipe, same data and budget.

Both see the same training windows (each window relative to its last observed value and divided by the training
series' mean absolute step, as in gated.recipes), the same validation windows for early stopping (patience 20, at
most 200 epochs, Adam 2e-3 with clipnorm 1, batch 32), the same refit on every window for the best number of epochs,
and GRUs of 64 units. The direct recipe (gated.recipes.train_forecaster) maps a window to all H values at once with
two stacked GRUs and a Dense(H); the seq2seq model (gated.seq2seq.Seq2Seq, real-valued) encodes the window with a
GRU and decodes the H values one at a time with a GRU decoder and Luong attention, feeding back its own predictions
at test time.

Test: every window whose forecast starts in the last 15% of the series (rolling origins, the model never sees
them), MAE and RMSE over all forecast values, and MASE (MAE over the in-sample seasonal-naive MAE).

    python benchmarks/seq2seq_forecast.py --json benchmarks/measured/seq2seq_forecast.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import gated
from gated import callbacks, optimizers
from gated.data import fill_missing
from gated.recipes import train_forecaster
from gated.recipes._forecast import MAX_WINDOWS, _relative_windows, default_lookback
from gated.seq2seq import Seq2Seq

SERIES = {
    "sunspots": dict(horizon=11, season=11, stride=1),
    "co2": dict(horizon=52, season=52, stride=4),
}


def load(name: str) -> np.ndarray:
    data = getattr(gated.datasets, name).load_data()
    values = np.asarray(data[1], dtype=np.float64).reshape(-1)  # (timestamps, values)
    return fill_missing(values, "interpolate") if np.isnan(values).any() else values


def train_seq2seq(train: np.ndarray, horizon: int, season: int, seed: int, epochs: int = 200, patience: int = 20):
    """The recipe's protocol (windows, scale, validation gap, early stopping, refit) with a Seq2Seq model."""
    lookback = default_lookback(len(train), horizon, season)
    scale = float(np.mean(np.abs(np.diff(train)))) or 1.0
    count = len(train) - lookback - horizon + 1
    stride = max(1, -(-count // MAX_WINDOWS))
    x, y = _relative_windows(train[(count - 1) % stride:], lookback, horizon, scale, stride)
    cut = int(round(len(x) * 0.8))
    fit_end = max(1, cut - -(-horizon // stride))

    def new_model() -> Seq2Seq:
        model = Seq2Seq(units=64, cell="gru", attention="luong", learning_rate=2e-3)
        model._learn_specs(x[:, :, 0], y)
        model.compile(optimizer=optimizers.Adam(2e-3, clipnorm=1.0), loss="mse", metrics=["mae"])
        return model

    start = time.perf_counter()
    gated.utils.set_random_seed(seed)
    model = new_model()
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(x[:fit_end, :, 0], y[:fit_end], validation_data=(x[cut:, :, 0], y[cut:]), epochs=epochs,
                        batch_size=32, verbose=0, callbacks=[stop])
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    gated.utils.set_random_seed(seed)
    model = new_model()
    model.fit(x[:, :, 0], y, epochs=best_epoch, batch_size=32, verbose=0)
    seconds = time.perf_counter() - start

    def forecast(observed: np.ndarray) -> np.ndarray:
        window = observed[-lookback:]
        relative = model.predict(((window - window[-1]) / scale).astype(np.float32)[None], max_length=horizon)[0]
        return window[-1] + relative.astype(np.float64) * scale

    return forecast, seconds, best_epoch, model.count_params()


def evaluate(series: np.ndarray, test_start: int, horizon: int, season: int, stride: int, forecast) -> dict:
    errors = []
    for origin in range(test_start, len(series) - horizon + 1, stride):
        errors.append(forecast(series[:origin]) - series[origin:origin + horizon])
    errors = np.concatenate(errors)
    train = series[:test_start]
    naive = np.mean(np.abs(train[season:] - train[:-season]))
    return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors ** 2))),
            "mase": float(np.mean(np.abs(errors)) / naive), "windows": int(len(errors) // horizon)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="*", default=list(SERIES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    report = {}
    for name in args.series:
        spec = SERIES[name]
        series = load(name)
        test_start = int(len(series) * 0.85)
        train = series[:test_start]
        rows = {"direct": [], "seq2seq": []}
        for seed in range(args.seeds):
            start = time.perf_counter()
            direct = train_forecaster(train, spec["horizon"], season=spec["season"], seed=seed)
            seconds = time.perf_counter() - start
            rows["direct"].append({**evaluate(series, test_start, spec["horizon"], spec["season"], spec["stride"],
                                              direct.forecast),
                                   "seconds": seconds, "best_epoch": direct.best_epoch,
                                   "parameters": direct.parameters})
            forecast, seconds, best_epoch, parameters = train_seq2seq(train, spec["horizon"], spec["season"], seed)
            rows["seq2seq"].append({**evaluate(series, test_start, spec["horizon"], spec["season"], spec["stride"],
                                               forecast),
                                    "seconds": seconds, "best_epoch": best_epoch, "parameters": parameters})
            for kind in rows:
                r = rows[kind][-1]
                print(f"{name} seed {seed} {kind:8s} MAE {r['mae']:.4f} RMSE {r['rmse']:.4f} MASE {r['mase']:.3f} "
                      f"({r['seconds']:.1f} s, best epoch {r['best_epoch']}, {r['parameters']} parameters, "
                      f"{r['windows']} test windows)")
        report[name] = {"spec": spec, "length": len(series), "test_start": test_start, "runs": rows}
        for kind, runs in rows.items():
            values = {k: np.array([r[k] for r in runs]) for k in ("mae", "rmse", "mase", "seconds")}
            print(f"{name} {kind:8s} " + "  ".join(f"{k} {v.mean():.4f} ± {v.std():.4f}" for k, v in values.items()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
