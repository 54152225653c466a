"""What each ``gated`` subcommand does, built on the public API (datasets, recipes, models, plots)."""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np

from .. import datasets, plot, recipes
from .._version import __version__
from ._progress import RecipeProgress
from ..data import fill_missing
from ..data._panel import HORIZONS, SEASONS, infer_frequency, read_panel
from ._sources import SERIES, align_lengths, as_float_list, describe_sources, load_labeled, load_series


def _say(args, text: str = "") -> None:
    if not args.json or args.verbose:
        print(text, flush=True)


def _emit(args, result: dict[str, Any]) -> dict[str, Any]:
    if args.json:
        print(json.dumps(result, sort_keys=True), flush=True)
    return result


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(header, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(f"{str(c):<{w}}" for c, w in zip(row, widths)) for row in rows]
    return "\n".join(out)


def _fit_verbose(args) -> int:
    if args.json and not args.verbose:
        return 0
    return 1 if sys.stdout.isatty() else (2 if args.verbose else 0)


def _plot_module(args):
    if not args.plot:
        return None
    plot._matplotlib()  # fail before training, with the install hint, when matplotlib is missing
    os.makedirs(args.plot, exist_ok=True)
    return plot


# ---------------------------------------------------------------------------------------------- classification
def _classification_data(args):
    train = load_labeled(args.train, "train", label_column=args.label_column)
    if train.y is None:
        raise ValueError(f"{train.name} has no labels; training needs a class label for every series.")
    if len(np.unique(train.y)) < 2:
        label = train.class_names[int(train.y[0])] if train.class_names else train.y[0]
        raise ValueError(f"{train.name} holds one class only (every series is labelled '{label}'); a classifier "
                         "needs series of at least two classes to learn anything. Check the label column "
                         "(--label-column) or add series of the other classes.")
    test = None
    if args.test:
        test = load_labeled(args.test, "test", class_names=train.class_names, label_column=args.label_column)
        if test.x.shape[2] != train.x.shape[2]:
            raise ValueError(f"{train.name} has {train.x.shape[2]} channels but {test.name} has {test.x.shape[2]}; "
                             "the test series need the same channels (dimensions), in the same order, as the "
                             "training series.")
        train.x, test.x = align_lengths(train.x, test.x)
    return train, test


def _classify(args, cell: str, train, test, seed: int, progress=None):
    # gated compare has no --ensemble: one model per cell, the same budget for each
    options = {"ensemble": getattr(args, "ensemble", 1), "time_budget": getattr(args, "time_budget", 480.0),
               "architecture": getattr(args, "architecture", "gru_fcn")}
    return recipes.train_classifier(train.x, train.y, None if test is None else test.x,
                                    None if test is None else test.y, lengths=train.lengths,
                                    test_lengths=None if test is None else test.lengths, cell=cell, units=args.units,
                                    epochs=args.epochs, batch_size=args.batch_size, seed=seed,
                                    verbose=_fit_verbose(args), progress=progress, **options)


def _progress(args, what: str):
    """The progress line on stderr, unless --no-progress or --verbose (per-epoch lines) asks otherwise."""
    if getattr(args, "no_progress", False) or args.verbose:
        return None
    return RecipeProgress(what)


def cmd_train(args) -> dict[str, Any]:
    plot = _plot_module(args)
    train, test = _classification_data(args)
    classes = len(train.class_names or np.unique(train.y))
    _say(args, f"Training a {args.model.upper()} classifier on {train.name}: {len(train.x)} series of "
               f"{train.x.shape[1]} steps x {train.x.shape[2]} channels, {classes} classes.")
    result = _classify(args, args.model, train, test, args.seed, _progress(args, train.name))
    out: dict[str, Any] = {"command": "train", "model": args.model, "architecture": args.architecture,
                           "parameters": result.parameters, "epochs": result.best_epoch,
                           "ensemble": len(result.members), "batch_size": result.budget.batch_size,
                           "train_seconds": round(result.train_seconds, 3)}
    rows = []
    if test is not None and test.y is not None:
        nearest = recipes.one_nn_euclidean(train.x, train.y, test.x)
        baseline = float(np.mean(nearest == test.y))
        out.update(test_accuracy=result.test_accuracy, test_balanced_accuracy=result.test_balanced_accuracy,
                   baseline_1nn_euclidean_accuracy=baseline)
        name = f"gated {args.model.upper()}" + (f" (ensemble of {len(result.members)})" if len(result.members) > 1
                                               else "")
        rows = [[name, f"{result.test_accuracy:.4f}", f"{result.test_balanced_accuracy:.4f}"],
                ["1-NN Euclidean", f"{baseline:.4f}",
                 f"{recipes.balanced_accuracy(test.y, nearest):.4f}"]]
        _say(args, "\n" + _table(rows, ["model", "test accuracy", "balanced accuracy"]))
    if args.save:
        recipes.save_classifier(result, args.save, train.class_names)
        out["saved"] = args.save
        _say(args, f"Saved to {args.save} (use: gated evaluate --model {args.save} --test ...).")
    if plot is not None:
        paths = [plot.training_curves(result.history, os.path.join(args.plot, "training_curves.png"),
                                      title=f"{args.model.upper()} on {train.name}")]
        if test is not None and test.y is not None:
            paths.append(plot.confusion_matrix(test.y, result.test_predictions, class_names=test.class_names,
                                               path=os.path.join(args.plot, "confusion_matrix.png")))
        out["plots"] = paths
        _say(args, "Plots: " + ", ".join(paths))
    return _emit(args, out)


# ---------------------------------------------------------------------------------------------- forecasting
def _series(args):
    try:
        series = load_series(args.csv, args.column, args.missing)
    except ValueError as err:
        if "missing values" in str(err) and args.missing == "raise":
            raise ValueError(f"{err}\nOn the command line: --missing interpolate or --missing drop.") from None
        raise
    frequency = infer_frequency(series.timestamps)
    season = args.season or series.season or SEASONS.get(frequency) or 1
    if args.horizon is None:  # gated forecast leaves it to the series' frequency
        args.horizon = _default_horizon(frequency, None, series.name)
    if args.horizon >= len(series.values) // 2:
        raise ValueError(f"--horizon {args.horizon} leaves too little of the {len(series.values)} values to train on; "
                         "use a horizon below half the series.")
    return series, season


def _forecast_once(args, cell: str, series, season: int, seed: int):
    history, actual = series.values[:-args.horizon], series.values[-args.horizon:]
    result = recipes.train_forecaster(history, args.horizon, season=season, lookback=args.lookback, cell=cell,
                                      units=args.units, batch_size=args.batch_size, seed=seed,
                                      verbose=_fit_verbose(args), **({"epochs": args.epochs} if args.epochs else {}))
    predicted = result.forecast(history)
    return result, predicted, recipes.forecast_errors(actual, predicted, history, season)


def _panel_requested(args) -> bool:
    """A panel, a .tsf file or covariates go to the global forecaster; one plain series keeps the direct recipe."""
    return bool(args.id_column or args.covariates or str(args.csv).lower().endswith(".tsf"))


def _default_horizon(frequency: str | None, given: int | None, what: str) -> int:
    if given:
        return given
    if frequency in HORIZONS:
        return HORIZONS[frequency]
    raise ValueError(f"{what}: its times do not say its frequency, so there is no default horizon; pass --horizon H "
                     "(how many of its last values to forecast).")


def cmd_forecast(args) -> dict[str, Any]:
    if _panel_requested(args):
        return _forecast_panel(args)
    if args.output:
        raise ValueError("--output writes per-series results of the global model (a panel with --id-column, a .tsf "
                         "file or --covariates); for one series use --json.")
    plot = _plot_module(args)
    series, season = _series(args)
    history, actual = series.values[:-args.horizon], series.values[-args.horizon:]
    if recipes.windows_available(len(history), args.horizon, season, args.lookback) < recipes.MIN_WINDOWS:
        if args.save:
            raise ValueError(f"{series.name} has {len(history)} values before the horizon: too few windows for the "
                             "single-series recipe, so the global model forecasts it, and --save does not keep "
                             "global models yet. Run without --save, or use a shorter --horizon / --lookback.")
        _say(args, f"{series.name}: {len(history)} values give fewer than {recipes.MIN_WINDOWS} training windows of "
                   f"the single-series recipe; the global model (trained on every window, however short) takes it.")
        return _forecast_items(args, [{"name": series.name, "values": series.values, "covariates": None,
                                       "horizon": args.horizon, "season": season,
                                       "timestamps": series.timestamps}], series.name)
    _say(args, f"Forecasting the last {args.horizon} of {len(series.values)} values of {series.name} "
               f"(season {season}) with a {args.model.upper()}.")
    result, predicted, errors = _forecast_once(args, args.model, series, season, args.seed)
    intervals = {level: result.interval(history, level, predicted) for level in (95, 80)}
    for level, (low, high) in intervals.items():
        errors[f"coverage_{level}"] = recipes.interval_coverage(actual, low, high)
    naive = recipes.naive_forecast(history, args.horizon)
    seasonal = recipes.seasonal_naive_forecast(history, args.horizon, season)
    baselines = {"naive": recipes.forecast_errors(actual, naive, history, season),
                 "seasonal_naive": recipes.forecast_errors(actual, seasonal, history, season)}
    out: dict[str, Any] = {"command": "forecast", "recipe": "direct", "model": args.model, "horizon": args.horizon,
                           "season": season,
                           "lookback": result.lookback, "parameters": result.parameters,
                           "train_seconds": round(result.train_seconds, 3),
                           "forecast": as_float_list(predicted),
                           **{f"interval_{level}": [as_float_list(low), as_float_list(high)]
                              for level, (low, high) in intervals.items()}}
    out.update({f"test_{k}": v for k, v in errors.items()})
    for name, values in baselines.items():
        out.update({f"{name}_{k}": v for k, v in values.items()})
    rows = [[f"gated {args.model.upper()}"] + [f"{errors[k]:.4f}" for k in ("mape", "smape", "mase", "rmse")]]
    rows += [[name.replace("_", " ")] + [f"{v[k]:.4f}" for k in ("mape", "smape", "mase", "rmse")]
             for name, v in baselines.items()]
    _say(args, "\n" + _table(rows, ["model", "MAPE", "sMAPE", "MASE", "RMSE"]))
    _say(args, f"interval coverage on the held-out values: 80% -> {errors['coverage_80']:.3f}, "
               f"95% -> {errors['coverage_95']:.3f}")
    if args.save:
        recipes.save_forecaster(result, args.save, season)
        out["saved"] = args.save
    if plot is not None:
        paths = [plot.training_curves(result.history, os.path.join(args.plot, "training_curves.png")),
                 plot.forecast(series.timestamps, series.values, predicted, path=os.path.join(args.plot, "forecast.png"),
                               horizon_start=series.timestamps[-args.horizon],
                               baselines={"naive": naive, "seasonal naive": seasonal}, title=series.name,
                               intervals={f"{level}%": pair for level, pair in intervals.items()})]
        out["plots"] = paths
        _say(args, "Plots: " + ", ".join(paths))
    return _emit(args, out)


def _panel_series(args):
    """The panel's series with missing values dealt with (``--missing``), each with its horizon and season."""
    time_column = args.time_column if args.time_column is not None else (None if args.csv.lower().endswith(".tsf")
                                                                          else 0)
    if isinstance(time_column, str) and time_column.isdigit():
        time_column = int(time_column)
    panel = read_panel(args.csv, id_column=args.id_column, time_column=time_column, value_column=args.column,
                       covariates=args.covariates or ())
    horizon = args.horizon or panel.horizon
    items = []
    for i, name in enumerate(panel.names):
        values = panel.values[i]
        covariates = None if panel.covariates is None else panel.covariates[i]
        if np.isnan(values).any() or (covariates is not None and np.isnan(covariates).any()):
            if args.missing == "raise":
                first = int(np.flatnonzero(np.isnan(values))[0]) if np.isnan(values).any() else None
                raise ValueError(f"series {name!r} has {int(np.isnan(values).sum())} missing value(s)"
                                 f"{f' (the first at position {first})' if first is not None else ' in its covariates'};"
                                 " choose --missing interpolate or --missing drop.")
            if args.missing == "drop":
                keep = ~np.isnan(values) & (covariates is None or ~np.isnan(covariates).any(axis=1))
                values = values[keep]
                covariates = None if covariates is None else covariates[keep]
            else:
                values = fill_missing(values, "interpolate")
                covariates = None if covariates is None else fill_missing(covariates, "interpolate")
        h = _default_horizon(panel.frequency[i], horizon, f"series {name!r}")
        season = args.season or panel.season(i) or 1
        if len(values) < 2 * h + 3:
            raise ValueError(f"series {name!r} has {len(values)} values: too few to hold out a horizon of {h} and "
                             f"train on the rest (at least {2 * h + 3}); use a shorter --horizon.")
        items.append({"name": name, "values": values, "covariates": covariates, "horizon": h, "season": season,
                      "timestamps": panel.timestamps[i] if len(panel.timestamps[i]) == len(values) else
                      np.arange(len(values))})
    return panel, items


def _forecast_panel(args) -> dict[str, Any]:
    if args.save:
        raise ValueError("--save keeps a single-series forecaster; saving the global model of a panel is not "
                         "supported yet. Run without --save (the --output CSV keeps every forecast).")
    _check_output_file(args.output)
    _, items = _panel_series(args)
    return _forecast_items(args, items, os.path.basename(args.csv))


def _forecast_items(args, items: list[dict], source: str) -> dict[str, Any]:
    """The global forecaster on ``items`` (``_panel_series``'s dicts): one model per season and horizon."""
    plot = _plot_module(args)
    groups: dict[tuple[int, int], list[dict]] = {}
    for item in items:
        groups.setdefault((item["season"], item["horizon"]), []).append(item)
    _say(args, f"Forecasting {len(items)} series of {source} with one global {args.model.upper()} "
               f"model per season and horizon ({len(groups)}: "
               + ", ".join(f"season {m} horizon {h}: {len(g)} series" for (m, h), g in groups.items()) + ").")
    started = time.perf_counter()
    parameters, rows, steps = 0, [], []
    for (season, horizon), members in groups.items():
        histories = [m["values"][:-horizon] for m in members]
        covariates = None if members[0]["covariates"] is None else [m["covariates"] for m in members]
        model = recipes.train_global_forecaster(histories, horizon, season=season, covariates=covariates,
                                                lookback=args.lookback, cell=args.model, units=args.units,
                                                epochs=args.epochs, batch_size=args.batch_size,
                                                ensemble=args.ensemble, seed=args.seed, verbose=_fit_verbose(args))
        parameters += model.parameters
        steps.append(model.steps)
        quantiles = model.forecast(histories, covariates)
        for m, history, q in zip(members, histories, quantiles):
            actual = m["values"][-horizon:]
            median = q[:, model.quantiles.index(0.5)]
            row = {"series": m["name"], "horizon": horizon, "season": season,
                   **recipes.forecast_errors(actual, median, history, season)}
            for level in (80, 95):
                low, high = model.interval(q, level)
                row[f"coverage_{level}"] = recipes.interval_coverage(actual, low, high)
                m[f"interval_{level}"] = (low, high)
            for name, baseline in (("naive", recipes.naive_forecast(history, horizon)),
                                   ("seasonal_naive", recipes.seasonal_naive_forecast(history, horizon, season))):
                m[name] = baseline
                row.update({f"{name}_{k}": v for k, v in
                            recipes.forecast_errors(actual, baseline, history, season).items()})
            m["forecast"] = median
            row["forecast"] = as_float_list(median)
            rows.append(row)
    seconds = time.perf_counter() - started
    means = {key: _finite_mean([r[key] for r in rows]) for key in
             ("mase", "smape", "mape", "naive_mase", "naive_smape", "naive_mape", "seasonal_naive_mase",
              "seasonal_naive_smape", "seasonal_naive_mape")}
    held_out = sum(r["horizon"] for r in rows)
    coverage = {level: sum(r[f"coverage_{level}"] * r["horizon"] for r in rows) / held_out for level in (80, 95)}
    out: dict[str, Any] = {"command": "forecast", "recipe": "global", "model": args.model, "series": len(rows),
                           "ensemble": args.ensemble, "steps": steps,  # each group's networks' optimizer steps
                           "parameters": parameters, "train_seconds": round(seconds, 3),
                           "test_mase": means["mase"], "test_smape": means["smape"], "test_mape": means["mape"],
                           "test_coverage_80": coverage[80], "test_coverage_95": coverage[95],
                           "series_beating_seasonal_naive": sum(r["mase"] < r["seasonal_naive_mase"] for r in rows)}
    for name in ("naive", "seasonal_naive"):
        out.update({f"{name}_{k}": means[f"{name}_{k}"] for k in ("mase", "smape", "mape")})
    table = [[f"gated {args.model.upper()}", f"{means['mase']:.4f}", f"{means['smape']:.4f}", f"{means['mape']:.4f}"]]
    table += [[name.replace("_", " "), f"{means[name + '_mase']:.4f}", f"{means[name + '_smape']:.4f}",
               f"{means[name + '_mape']:.4f}"] for name in ("naive", "seasonal_naive")]
    _say(args, "\n" + _table(table, ["model (mean over series)", "MASE", "sMAPE", "MAPE"]))
    _say(args, f"interval coverage on the held-out values: 80% -> {coverage[80]:.3f}, 95% -> {coverage[95]:.3f}; "
               f"{out['series_beating_seasonal_naive']} of {len(rows)} series below seasonal naive in MASE")
    if args.output:
        _write_rows(args.output, rows)
        out["output"] = args.output
        _say(args, f"Per-series errors and forecasts: {args.output}")
    if plot is not None:
        paths = []
        for item in items:
            h = item["horizon"]
            paths.append(plot.forecast(item["timestamps"], item["values"], item["forecast"],
                                       path=os.path.join(args.plot, f"forecast_{_file_safe(item['name'])}.png"),
                                       horizon_start=item["timestamps"][-h],
                                       baselines={"naive": item["naive"], "seasonal naive": item["seasonal_naive"]},
                                       intervals={"95%": item["interval_95"], "80%": item["interval_80"]},
                                       title=item["name"]))
        out["plots"] = paths
        _say(args, f"Plots: {len(paths)} forecasts in {args.plot}")
    return _emit(args, out)


def _finite_mean(values) -> float:
    """The mean over series; a series whose measure is undefined (MAPE at an actual 0) is left out, and if every
    series is, the result is NaN: it is never silently 0."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name)) or "series"


def _check_output_file(path: str | None) -> None:
    if not path:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"--output {path} is a folder; pass a file name, e.g. {os.path.join(path, 'forecasts.csv')}.")
    if not os.path.isdir(folder):
        raise ValueError(f"--output {path}: the folder {folder} does not exist; create it first.")


def _write_rows(path: str, rows: list[dict]) -> None:
    keys = [k for k in rows[0] if k != "forecast"] + ["forecast"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(keys)
        for row in rows:
            writer.writerow([" ".join(repr(v) for v in row[k]) if k == "forecast" else row[k] for k in keys])


# ---------------------------------------------------------------------------------------------- saved models
def _check_channels(model_path: str, state: dict[str, Any], data) -> None:
    """A classifier's series must have the channels it was trained on (its scaler has one mean per channel)."""
    channels = len(state["scaler"]["mean_"])
    if data.x.shape[2] != channels:
        raise ValueError(f"{model_path} was trained on series with {channels} channel(s), but {data.name} has "
                         f"{data.x.shape[2]}. Pass series with the same channels (dimensions), in the same order.")


def cmd_evaluate(args) -> dict[str, Any]:
    task, predictor, state = recipes.load_recipe(args.model)
    if task == "classification":
        if not args.test:
            raise ValueError("A classifier is evaluated on labelled series: pass --test FILE (or a built-in name).")
        names = tuple(state["class_names"]) if state.get("class_names") else None
        test = load_labeled(args.test, "test", class_names=names, label_column=args.label_column)
        _check_channels(args.model, state, test)
        if test.y is None:
            raise ValueError(f"{test.name} has no labels to evaluate against.")
        accuracy = float(np.mean(predictor.predict(test.x, test.lengths) == test.y))
        _say(args, f"test accuracy on {test.name}: {accuracy:.4f} ({len(test.y)} series)")
        return _emit(args, {"command": "evaluate", "task": task, "test_accuracy": accuracy, "samples": len(test.y)})
    if not args.csv:
        raise ValueError("A forecaster is evaluated on a series: pass --csv FILE (or a built-in name) and --column.")
    series = load_series(args.csv, args.column, args.missing)
    horizon = predictor.horizon
    history, actual = series.values[:-horizon], series.values[-horizon:]
    errors = recipes.forecast_errors(actual, predictor.forecast(history), history, state.get("season") or 1)
    _say(args, "  ".join(f"test_{k}={v:.4f}" for k, v in errors.items()))
    return _emit(args, {"command": "evaluate", "task": task, **{f"test_{k}": v for k, v in errors.items()}})


def cmd_predict(args) -> dict[str, Any]:
    task, predictor, state = recipes.load_recipe(args.model)
    if task == "classification":
        names = tuple(state["class_names"]) if state.get("class_names") else None
        data = load_labeled(args.input, "test", class_names=names, label_column=args.label_column)
        _check_channels(args.model, state, data)
        ids = predictor.predict(data.x, data.lengths)
        labels = [names[i] if names else str(i) for i in ids]
        lines = ["index,prediction"] + [f"{i},{label}" for i, label in enumerate(labels)]
        out = {"command": "predict", "task": task, "predictions": labels}
    else:
        series = load_series(args.input, args.column, args.missing)
        values = predictor.forecast(series.values)
        lines = ["step,forecast"] + [f"{i + 1},{v!r}" for i, v in enumerate(values)]
        out = {"command": "predict", "task": task, "forecast": as_float_list(values)}
    text = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        out["output"] = args.output
        _say(args, f"Wrote {len(lines) - 1} predictions to {args.output}.")
    elif not args.json:
        sys.stdout.write(text)
    return _emit(args, out)


# ---------------------------------------------------------------------------------------------- comparison
def cmd_compare(args) -> dict[str, Any]:
    cells = [c.strip() for c in args.models.split(",")]
    rows, out = [], {"command": "compare", "results": {}}
    if args.csv:
        series, season = _series(args)
        for cell in cells:
            result, _, errors = _forecast_once(args, cell, series, season, args.seed)
            out["results"][cell] = {"parameters": result.parameters, "train_seconds": result.train_seconds, **errors}
            rows.append([cell.upper(), f"{result.parameters:,}", f"{result.train_seconds:.1f}", f"{errors['mase']:.4f}",
                         f"{errors['rmse']:.4f}"])
        _say(args, "\n" + _table(rows, ["model", "parameters", "train s", "MASE", "RMSE"]))
    else:
        train, test = _classification_data(args)
        if test is None:
            raise ValueError("gated compare needs --test as well as --train (or --csv for forecasting).")
        for cell in cells:
            result = _classify(args, cell, train, test, args.seed)
            out["results"][cell] = {"parameters": result.parameters, "train_seconds": result.train_seconds,
                                    "test_accuracy": result.test_accuracy, "epochs": result.best_epoch}
            rows.append([cell.upper(), f"{result.parameters:,}", f"{result.train_seconds:.1f}",
                         f"{result.test_accuracy:.4f}"])
        baseline = float(np.mean(recipes.one_nn_euclidean(train.x, train.y, test.x) == test.y))
        out["baseline_1nn_euclidean_accuracy"] = baseline
        rows.append(["1-NN Euclidean", "-", "-", f"{baseline:.4f}"])
        _say(args, "\n" + _table(rows, ["model", "parameters", "train s", "test accuracy"]))
    return _emit(args, out)


# ---------------------------------------------------------------------------------------------- info and demo
def cmd_info(args) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"gated": __version__, "python": platform.python_version(), "torch": torch.__version__,
                            "numpy": np.__version__, "platform": platform.platform(),
                            "cpu_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
                            "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    from importlib import metadata

    for optional in ("matplotlib", "onnx", "onnxruntime", "h5py", "keras"):
        try:
            info[optional] = metadata.version(optional)  # without importing: keras would look for a backend
        except metadata.PackageNotFoundError:
            info[optional] = None
    if not args.json:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value if value is not None else 'not installed'}")
    return _emit(args, info)


def cmd_demo(args) -> dict[str, Any]:
    """Built-in data, the default recipes, baselines computed beside them: about a minute on 2 CPU cores."""
    start = time.perf_counter()
    out: dict[str, Any] = {"command": "demo"}
    _say(args, f"gated {__version__} demo: the default GRU recipes on built-in real data, against baselines computed "
               "here.\n")
    rows = []
    problems = (("italy_power_demand", "ItalyPowerDemand: a day's 24 hourly electricity readings -> winter or summer"),
                ("japanese_vowels", "JapaneseVowels: 12 speech coefficients over 7-29 frames -> which of 9 speakers"))
    for step, (name, text) in enumerate(problems, 1):
        train, test = getattr(datasets, name).load_data()
        (x_train, y_train), (x_test, y_test) = train, test
        _say(args, f"{step}/4  {text} ({len(x_train)} train / {len(x_test)} test series)")
        result = recipes.train_classifier(x_train, y_train, x_test, y_test, seed=args.seed, epochs=args.epochs,
                                          ensemble=1, verbose=_fit_verbose(args), lengths=train.lengths,
                                          test_lengths=test.lengths)
        baseline = float(np.mean(recipes.one_nn_euclidean(x_train, y_train, x_test) == y_test))
        out[name] = {"gru_test_accuracy": result.test_accuracy, "baseline_1nn_euclidean": baseline,
                     "train_seconds": result.train_seconds, "parameters": result.parameters}
        rows.append([name, f"{result.test_accuracy:.4f}", f"{baseline:.4f}", f"{result.train_seconds:.1f}"])
    _say(args, "\n" + _table(rows, ["dataset", "gated GRU accuracy", "1-NN Euclidean", "train s"]) + "\n")

    timestamps, values = datasets.sunspots.load_data()
    values = np.asarray(values, dtype=np.float64)
    horizon, season = 11, 11
    history, actual = values[:-horizon], values[-horizon:]
    _say(args, f"3/4  Sunspots: forecast the last {horizon} yearly sunspot numbers (to 2008) from the "
               f"{len(history)} years before.")
    forecaster = recipes.train_forecaster(history, horizon, season=season, seed=args.seed,
                                          epochs=200, verbose=_fit_verbose(args))
    predicted = forecaster.forecast(history)
    coverage = recipes.interval_coverage(actual, *forecaster.interval(history, 80, predicted))
    rows, results = [], {}
    for name, forecast in (("gated GRU", predicted), ("naive", recipes.naive_forecast(history, horizon)),
                           ("seasonal naive", recipes.seasonal_naive_forecast(history, horizon, season))):
        errors = recipes.forecast_errors(actual, forecast, history, season)
        results[name] = errors
        rows.append([name, f"{errors['mase']:.3f}", f"{errors['rmse']:.2f}", f"{errors['smape']:.3f}"])
    out["sunspots"] = {"train_seconds": forecaster.train_seconds, "parameters": forecaster.parameters,
                       "gated_GRU_coverage_80": coverage,
                       **{f"{k.replace(' ', '_')}_{m}": v for k, e in results.items() for m, v in e.items()}}
    _say(args, "\n" + _table(rows, ["sunspots", "MASE", "RMSE", "sMAPE"]))
    _say(args, f"the 80% interval holds {int(round(coverage * horizon))} of the {horizon} held-out years\n")
    out["classic_panel_quarterly"] = _demo_panel(args)
    out["total_seconds"] = round(time.perf_counter() - start, 1)
    _say(args, f"\nDone in {out['total_seconds']:.0f} s. Your own data: gated train --train FILE_TRAIN.ts --test "
               "FILE_TEST.ts, or gated forecast --csv FILE.csv --column NAME --horizon 12 (see gated --help).")
    return _emit(args, out)


def _demo_panel(args) -> dict[str, Any]:
    """Step 4 of the demo: one global model for eight quarterly series, against the baselines on each."""
    panel = datasets.classic_panel.load_data("quarterly")
    horizon, season = 8, 4  # the M4 quarterly horizon
    _say(args, f"4/4  Eight quarterly series (gas, beer, GDP, prices, ...; levels from 0.4 to 18,000): one global "
               f"GRU forecasts the last {horizon} quarters of each.")
    histories = [values[:-horizon] for _, values in panel.values()]
    model = recipes.train_global_forecaster(histories, horizon, season=season, ensemble=1, seed=args.seed,
                                            verbose=_fit_verbose(args))
    quantiles = model.forecast(histories)
    scores: dict[str, list[float]] = {"gated GRU": [], "naive": [], "seasonal naive": []}
    inside = []
    for (_, values), history, q in zip(panel.values(), histories, quantiles):
        actual = values[-horizon:]
        for name, forecast in (("gated GRU", q[:, model.quantiles.index(0.5)]),
                               ("naive", recipes.naive_forecast(history, horizon)),
                               ("seasonal naive", recipes.seasonal_naive_forecast(history, horizon, season))):
            scores[name].append(recipes.forecast_errors(actual, forecast, history, season)["mase"])
        inside.append(recipes.interval_coverage(actual, *model.interval(q, 80)))
    rows = [[name, f"{np.mean(v):.3f}", f"{sum(a < b for a, b in zip(v, scores['seasonal naive']))} / {len(v)}"]
            for name, v in scores.items()]
    _say(args, _table(rows, ["8 series", "mean MASE", "below seasonal naive"]))
    _say(args, f"the 80% intervals hold {np.mean(inside):.0%} of the held-out quarters")
    return {"train_seconds": model.train_seconds, "parameters": model.parameters, "coverage_80": float(np.mean(inside)),
            **{f"{name.replace(' ', '_')}_mase": float(np.mean(v)) for name, v in scores.items()}}


def sources_help() -> str:
    return describe_sources()
