"""Default recipes: the models ``gated train`` and ``gated forecast`` build, with the baselines beside them."""

from ._baselines import forecast_errors, interval_coverage, naive_forecast, one_nn_euclidean, seasonal_naive_forecast
from ._classify import ClassificationResult, balanced_accuracy, build_classifier, train_classifier
from ._estimators import GRUClassifier, GRUForecaster
from ._forecast import MIN_WINDOWS, ForecastResult, build_forecaster, train_forecaster, windows_available
from ._global import GlobalForecaster, train_global_forecaster
from ._saved import load_recipe, save_classifier, save_forecaster

__all__ = ["ClassificationResult", "ForecastResult", "GRUClassifier", "GRUForecaster", "GlobalForecaster", "MIN_WINDOWS",
           "balanced_accuracy", "build_classifier", "build_forecaster", "forecast_errors", "interval_coverage",
           "load_recipe", "naive_forecast", "one_nn_euclidean", "save_classifier", "save_forecaster",
           "seasonal_naive_forecast", "train_classifier", "train_forecaster", "train_global_forecaster",
           "windows_available"]
