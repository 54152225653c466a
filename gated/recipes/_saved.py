"""Recipe results as files: the network plus what it needs around it (scaling, class names, window sizes).

A recipe file is an ordinary model file (``gated.load_model`` opens it) whose extra state says how to prepare
inputs and read outputs, so ``gated evaluate`` and ``gated predict`` can use it on raw data.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..data import StandardScaler
from ..saving._model_file import load_extra_state, load_model, save_model
from ._classify import ClassificationResult, Preprocessor
from ._forecast import ForecastResult

KIND = "gated.recipe"


def save_classifier(result: ClassificationResult, path: str | os.PathLike, class_names: Any = None) -> None:
    state = {"kind": KIND, "task": "classification", "scaler": result.preprocessor.scaler.get_config(),
             "padded": result.preprocessor.padded, "series_channels": result.preprocessor.series_channels,
             "class_names": None if class_names is None else [str(c) for c in class_names]}
    save_model(result.model, path, extra_state=state)


def save_forecaster(result: ForecastResult, path: str | os.PathLike, season: int | None = None) -> None:
    state = {"kind": KIND, "task": "forecasting", "lookback": result.lookback, "horizon": result.horizon,
             "scale": result.scale, "season": season,
             "error_quantiles": None if result.error_quantiles is None else np.asarray(result.error_quantiles).tolist()}
    save_model(result.model, path, extra_state=state)


def load_recipe(path: str | os.PathLike) -> tuple[str, Any, dict[str, Any]]:
    """(task, predictor, state) of a file written by ``gated train`` / ``gated forecast --save``."""
    state = load_extra_state(path)
    if not isinstance(state, dict) or state.get("kind") != KIND:
        raise ValueError(f"{os.fspath(path)} is a model file but not one written by 'gated train' or 'gated "
                         "forecast --save', so it carries no scaling or labels. Load it with gated.load_model().")
    model = load_model(path, compile=False)
    if state["task"] == "classification":
        preprocessor = Preprocessor(StandardScaler.from_config(state["scaler"]), bool(state["padded"]),
                                    bool(state.get("series_channels", False)))
        return "classification", ClassificationResult(model, preprocessor, {}, 0, 0.0, model.count_params()), state
    quantiles = state.get("error_quantiles")
    result = ForecastResult(model, int(state["lookback"]), int(state["horizon"]), float(state["scale"]), {}, 0, 0.0,
                            model.count_params(), None if quantiles is None else np.asarray(quantiles, np.float64))
    return "forecasting", result, state
