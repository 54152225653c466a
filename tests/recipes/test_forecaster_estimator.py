"""gated.recipes.GRUForecaster under scikit-learn's contract, and both estimators through check_estimator."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from gated.recipes import GRUClassifier, GRUForecaster, forecast_errors, seasonal_naive_forecast  # noqa: E402
from gated.recipes import train_global_forecaster  # noqa: E402

FAST = dict(steps=150, ensemble=1, units=8, random_state=0)


def _series(count=24, length=60, horizon=6, seed=0):
    """Trending seasonal series (period 12) of different levels: X the histories, y the horizon after each."""
    rng = np.random.default_rng(seed)
    t = np.arange(length + horizon)
    rows = [rng.uniform(5, 50) * np.exp(rng.uniform(0.01, 0.03) * t)
            * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6))) * (1 + 0.02 * rng.normal(size=len(t)))
            for _ in range(count)]
    rows = np.array(rows)
    return rows[:, :length], rows[:, length:]


@parametrize_with_checks([GRUClassifier(epochs=20, ensemble=1, random_state=0),
                          GRUForecaster(steps=20, ensemble=1, units=8, random_state=0)])
def test_scikit_learn_check_estimator(estimator, check):
    check(estimator)


def test_forecaster_is_the_global_recipe_on_history_plus_target_and_beats_seasonal_naive():
    x, y = _series()
    model = GRUForecaster(season=12, **{**FAST, "steps": 400}).fit(x[:18], y[:18])
    direct = train_global_forecaster([np.r_[a, b] for a, b in zip(x[:18], y[:18])], 6, season=12, steps=400,
                                     ensemble=1, units=8, seed=0)
    np.testing.assert_allclose(model.predict(x[18:]), direct.point(list(x[18:])), rtol=1e-5)
    ours = np.mean([forecast_errors(t, p, h, 12)["mase"] for t, p, h in zip(y[18:], model.predict(x[18:]), x[18:])])
    naive = np.mean([forecast_errors(t, seasonal_naive_forecast(h, 6, 12), h, 12)["mase"] for t, h in zip(y[18:], x[18:])])
    assert ours < naive
    low, high = model.predict_interval(x[18:], 95)
    assert np.all(low <= model.predict(x[18:]) + 1e-9) and np.mean((y[18:] >= low) & (y[18:] <= high)) >= 0.6
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict(x[18:]), model.predict(x[18:]), rtol=1e-6)


def test_aeon_and_gated_layouts_and_ragged_lists_give_the_same_forecasts():
    x, y = _series(count=8)
    model = GRUForecaster(**FAST).fit(x, y)
    flat = model.predict(x)
    np.testing.assert_allclose(model.predict(x[:, None, :]), flat, rtol=1e-6)   # (n, 1, T): aeon / sktime
    np.testing.assert_allclose(model.predict(x[:, :, None]), flat, rtol=1e-6)   # (n, T, 1): gated / Keras
    ragged = [x[0], x[1][10:]]
    np.testing.assert_allclose(model.predict(ragged)[0], flat[0], rtol=1e-6)
    with pytest.raises(ValueError, match="covariates"):
        model.predict(np.stack([x, x], axis=1))


def test_pipeline_cross_validation_and_grid_search_over_series():
    x, y = _series(count=12)
    pipe = Pipeline([("identity", FunctionTransformer()), ("forecast", GRUForecaster(**FAST))])
    scores = cross_val_score(pipe, x, y, cv=KFold(3))
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    search = GridSearchCV(GRUForecaster(**FAST), {"units": [4, 8]}, cv=2).fit(x, y)
    assert search.best_params_["units"] in (4, 8)
    copy = clone(GRUForecaster(horizon=6, season=12))
    assert copy.get_params()["season"] == 12 and not hasattr(copy, "forecaster_")


def test_fit_without_y_needs_a_horizon_and_mismatches_are_refused():
    x, y = _series(count=4)
    with pytest.raises(ValueError, match="requires y to be passed"):
        GRUForecaster(**FAST).fit(x)
    model = GRUForecaster(horizon=6, **FAST).fit(x)
    assert model.predict(x).shape == (4, 6)
    with pytest.raises(ValueError, match="y has 6 column"):
        GRUForecaster(horizon=3, **FAST).fit(x, y)
    one_step = GRUForecaster(**FAST).fit(x, y[:, 0])
    assert one_step.predict(x).shape == (4,)
