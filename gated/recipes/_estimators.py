"""The recipes as scikit-learn estimators: ``GRUClassifier`` and ``GRUForecaster`` (need scikit-learn).

Shapes: N series, T timesteps, C channels. The recipe (``train_classifier``) takes (N, T, C) floats and class ids
0..K-1; this module turns scikit-learn's inputs (labels of any kind, 2-D tables, the (N, C, T) arrays of aeon and
sktime, lists of series of different lengths) into those and the recipe's class ids back into labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..utils import pad_sequences
from ._classify import train_classifier
from ._global import INTERVALS, train_global_forecaster

try:  # scikit-learn is optional: GRUClassifier needs it, the rest of gated does not
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted, column_or_1d
except ImportError:
    BaseEstimator = ClassifierMixin = RegressorMixin = None
try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6 validates through a method of the estimator
    validate_data = None

LAYOUTS = ("auto", "channels_first", "channels_last")
_FLOATS = (np.float64, np.float32)


class _NeedsScikitLearn:
    def __init__(self, *args: Any, **kwargs: Any):
        raise ImportError(f"gated.recipes.{type(self).__name__} is a scikit-learn estimator and needs scikit-learn: "
                          "pip install scikit-learn")


_BASES = (_NeedsScikitLearn,) if BaseEstimator is None else (ClassifierMixin, BaseEstimator)
_REGRESSOR_BASES = (_NeedsScikitLearn,) if BaseEstimator is None else (RegressorMixin, BaseEstimator)


def _validate_table(estimator: Any, x: Any, y: Any = None, *, reset: bool, multi_output: bool = False) -> Any:
    """scikit-learn's own check of a 2-D X (and y): n_features_in_, feature_names_in_, its messages."""
    kwargs = {"reset": reset, "dtype": _FLOATS}
    if y is not None and multi_output:
        kwargs.update(multi_output=True, y_numeric=True)
    if validate_data is not None:
        return validate_data(estimator, x, **kwargs) if y is None else validate_data(estimator, x, y, **kwargs)
    return estimator._validate_data(x, **kwargs) if y is None else estimator._validate_data(x, y, **kwargs)


def _forget_table(estimator: Any) -> None:
    """Drop what a fit on a 2-D table recorded, before a fit on input that is not one."""
    for name in ("n_features_in_", "feature_names_in_"):
        if hasattr(estimator, name):
            delattr(estimator, name)


def _is_ragged(x: Any) -> bool:
    """A list (or tuple) of series whose shapes differ: series of different lengths."""
    if not isinstance(x, (list, tuple)) or len(x) == 0:
        return False
    try:
        shapes = {np.shape(series) for series in x}
    except ValueError:  # an element that is itself ragged
        return True
    return len(shapes) > 1


def _ndim(x: Any) -> int:
    """How many axes X has, without asking numpy to treat a table-like object as an array function argument."""
    return x.ndim if hasattr(x, "ndim") else np.asarray(x).ndim


def _resolve_layout(layout: str, shapes: list[tuple[int, int]], equal: bool) -> str:
    """'channels_first' or 'channels_last' for series of 2-D ``shapes``, as GRUClassifier's docstring says."""
    if layout != "auto":
        return layout
    firsts, seconds = {s[0] for s in shapes}, {s[1] for s in shapes}
    if not equal:
        if len(firsts) == 1 and len(seconds) > 1:
            return "channels_first"
        if len(seconds) == 1 and len(firsts) > 1:
            return "channels_last"
        raise ValueError(f"GRUClassifier: the series have shapes that differ on both axes (e.g. {shapes[0]} and "
                         f"{shapes[-1]}); every series needs the same channels. Pass series of shape (channels, "
                         "timesteps) or (timesteps, channels) with the same channels.")
    a, b = shapes[0]
    if a == b:
        raise ValueError(f"GRUClassifier(input_layout='auto') cannot tell channels from timesteps in series of shape "
                         f"({a}, {b}): both axes have {a} entries. Pass input_layout='channels_first' for (n_series, "
                         "channels, timesteps) arrays (aeon, sktime) or 'channels_last' for (n, timesteps, channels).")
    return "channels_first" if a < b else "channels_last"


class GRUClassifier(*_BASES):
    """gated's sequence-classification recipe (``gated.recipes.train_classifier``) as a scikit-learn classifier.

    It fits, predicts, scores and clones like any scikit-learn classifier and works in ``Pipeline``,
    ``cross_val_score`` and ``GridSearchCV``. Labels may be of any kind (strings, integers, floats): ``classes_``
    holds them sorted (``np.unique``) and ``predict`` returns them.

    Input X, one of:

    - a 2-D array (n_series, timesteps): univariate series (scikit-learn's tables are read this way, one column a
      timestep), whatever ``input_layout`` says;
    - a 3-D array, read by ``input_layout``: ``'channels_first'`` is (n_series, channels, timesteps), the layout of
      aeon and sktime; ``'channels_last'`` is (n_series, timesteps, channels), gated's and Keras's own (and
      tslearn's); ``'auto'`` (the default) takes the SHORTER of the two last axes as the channels (series usually
      have more steps than channels) and refuses an array where both have the same size;
    - a list of series of different lengths, each (timesteps,) or 2-D as above; with ``'auto'`` the axis whose
      size is the same in every series is the channel axis. The series are padded with zeros at the end to the
      longest, and the recipe masks those steps.

    The layout is decided once, in ``fit`` (``input_layout_``), and used again by ``predict``. Only the padding of
    a list is masked: a series in an array is as long as the array (one that really ends in zeros keeps them).
    Series given to ``predict`` may be shorter than in ``fit`` (they are padded), never longer; they need the same
    channels.

    Parameters: ``units``, ``cell`` ('gru', 'lstm', 'simple_rnn', 'mingru'), ``epochs`` and ``batch_size``
    (None: the recipe's budget, scaled to the data), ``learning_rate``, ``ensemble`` (the number of models
    averaged; None: as many, up to 5, as the recipe's time budget allows, which depends on the machine's speed, so
    fix it for reproducible fits), ``input_layout``, ``random_state`` (an int seeds the recipe exactly as
    ``train_classifier(..., seed=random_state)``; None or a ``numpy.random.RandomState`` draws a seed),
    ``verbose`` (Keras's per-epoch progress).

    Attributes after ``fit``: ``classes_`` (K,), ``n_channels_``, ``n_timesteps_`` (the longest series),
    ``input_layout_`` ('channels_first' or 'channels_last'; None for univariate input), ``result_`` (the
    recipe's ``ClassificationResult``) and, for 2-D input only, ``n_features_in_`` (its columns: the timesteps)
    and ``feature_names_in_`` (for a table with string column names).
    """

    def __init__(self, units: int = 64, cell: str = "gru", epochs: int | None = None, batch_size: int | None = None,
                 learning_rate: float = 1e-3, ensemble: int | None = None, input_layout: str = "auto",
                 random_state: Any = None, verbose: int = 0):
        self.units = units
        self.cell = cell
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.ensemble = ensemble
        self.input_layout = input_layout
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # ---------------------------------------------------------------------------------------------- input
    def _series(self, x: Any, layout: str | None, *, fitting: bool,
                y: Any = None) -> tuple[np.ndarray, Any, str | None, np.ndarray]:
        """(N, T, C) float32 from any accepted X (and y checked beside it when ``fitting``), with the layout found
        and each series' real length (a list's series as given; an array's rows full length)."""
        if _is_ragged(x):
            series = [check_array(s, ensure_2d=False, dtype=_FLOATS, input_name="X") for s in x]
            if any(s.ndim not in (1, 2) for s in series):
                bad = next(s.shape for s in series if s.ndim not in (1, 2))
                raise ValueError(f"GRUClassifier: each series in a list must be (timesteps,) or 2-D; received a "
                                 f"series of shape {bad}.")
            if fitting:
                _forget_table(self)
            if all(s.ndim == 1 for s in series):
                steps = [s[:, None] for s in series]
                found = None
            else:
                series = [s[:, None] if s.ndim == 1 else s for s in series]
                found = layout or _resolve_layout(self.input_layout, [s.shape for s in series], equal=False)
                steps = [s.T if found == "channels_first" else s for s in series]
            if len({s.shape[1] for s in steps}) > 1:
                raise ValueError(f"GRUClassifier: every series needs the same channels; received series with "
                                 f"{sorted({s.shape[1] for s in steps})} channels.")
            padded = pad_sequences(steps, dtype="float32", padding="post")  # (N, T, C), zeros at the end
            lengths = np.array([len(s) for s in steps], dtype=np.int64)
            return padded, (None if y is None else column_or_1d(y, warn=True)), found, lengths
        if _ndim(x) == 2:
            if fitting:
                x, y = _validate_table(self, x, y, reset=True)
            else:
                x = _validate_table(self, x, reset=False)
            x = np.asarray(x, dtype=np.float32)[:, :, None]
            return x, y, None, np.full(len(x), x.shape[1], dtype=np.int64)
        x = check_array(x, allow_nd=True, dtype=_FLOATS, input_name="X")
        if x.ndim != 3:
            raise ValueError(f"GRUClassifier expects X of shape (n_series, timesteps), (n_series, channels, "
                             f"timesteps) or (n_series, timesteps, channels), or a list of series; received a "
                             f"{x.ndim}-D array of shape {x.shape}.")
        if fitting:
            _forget_table(self)
            y = column_or_1d(y, warn=True)
        found = layout or _resolve_layout(self.input_layout, [x.shape[1:]], equal=True)
        x = np.transpose(x, (0, 2, 1)) if found == "channels_first" else x
        return np.ascontiguousarray(x, dtype=np.float32), y, found, np.full(len(x), x.shape[1], dtype=np.int64)

    # ---------------------------------------------------------------------------------------------- fit / predict
    def fit(self, X: Any, y: Any) -> "GRUClassifier":
        """Train the recipe on series X and labels y (any kind); returns self."""
        if self.input_layout not in LAYOUTS:
            raise ValueError(f"GRUClassifier: input_layout must be one of {LAYOUTS}; received {self.input_layout!r}.")
        if y is None:
            raise ValueError("This GRUClassifier estimator requires y to be passed, but the target y is None.")
        x, y, layout, lengths = self._series(X, None, fitting=True, y=y)
        check_consistent_length(x, y)
        check_classification_targets(y)
        classes, ids = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"GRUClassifier needs series of at least 2 classes; y holds one class only "
                             f"({classes[0]!r}), so there is nothing to tell apart.")
        self.result_ = train_classifier(x, ids.astype(np.int64), seed=_seed(self.random_state), lengths=lengths, verbose=self.verbose,
                                        epochs=self.epochs, batch_size=self.batch_size, units=self.units,
                                        learning_rate=self.learning_rate, ensemble=self.ensemble, cell=self.cell)
        self.classes_ = classes
        self.n_channels_ = int(x.shape[2])
        self.n_timesteps_ = int(x.shape[1])
        self.input_layout_ = layout
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """(n_series, K) class probabilities, columns in the order of ``classes_`` (the ensemble's mean)."""
        check_is_fitted(self)
        x, _, _, lengths = self._series(X, self.input_layout_, fitting=False)
        if x.shape[2] != self.n_channels_:
            raise ValueError(f"GRUClassifier was fitted on series with {self.n_channels_} channel(s), but X has "
                             f"{x.shape[2]} (read as {self.input_layout_ or 'univariate'}); pass the same channels.")
        if x.shape[1] > self.n_timesteps_:
            raise ValueError(f"GRUClassifier was fitted on series of at most {self.n_timesteps_} timesteps, but X has "
                             f"{x.shape[1]}; cut them or fit on series as long.")
        if x.shape[1] < self.n_timesteps_:
            x = np.pad(x, ((0, 0), (0, self.n_timesteps_ - x.shape[1]), (0, 0)))  # zeros at the end: padding
        return np.asarray(self.result_.predict_proba(x, lengths), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Labels from ``classes_``, one per series."""
        probabilities = self.predict_proba(X)
        return self.classes_[probabilities.argmax(axis=1)]


def _seed(random_state: Any) -> int:
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return int(random_state)


class GRUForecaster(*_REGRESSOR_BASES):
    """gated's global forecaster (``gated.recipes.train_global_forecaster``) as a scikit-learn regressor.

    Each row of X is one series' history (oldest value first); each row of y the ``horizon`` values that follow
    it. ``fit`` trains one model on every window of every series (the history followed by its y), so the last
    window of each series is exactly the task ``predict`` is asked: the next ``horizon`` values after a history.
    ``predict(X)`` returns the median forecasts, (n_series, horizon), or (n_series,) when y was fitted 1-D;
    ``predict_quantiles`` the quantiles, ``predict_interval`` the 80% or 95% interval. ``score`` is scikit-learn's
    R² of ``predict(X)`` against y (averaged over the horizon's steps), so ``cross_val_score`` and ``GridSearchCV``
    compare settings on series they were not fitted on.

    ``fit(X)`` without y trains on the windows inside the histories alone; ``horizon`` is then required.

    Input X, one of: a 2-D array (n_series, timesteps); a 3-D array with one channel, (n_series, 1, timesteps) as
    aeon and sktime write it, or (n_series, timesteps, 1), gated's and Keras's layout (the axis of size 1 is the
    channel, so no ``input_layout`` is needed); a list of 1-D series of different lengths. Series with more than
    one channel (covariates) go through ``train_global_forecaster(covariates=...)``, which takes their future too.

    Parameters: ``horizon`` (None: y's columns), ``season`` (the seasonal period, 1 for none), ``lookback`` (None:
    the recipe's), ``units``, ``cell``, ``steps`` (the optimizer-step budget; None: the recipe's, chosen by its
    backtest), ``ensemble`` (networks averaged), ``random_state`` (an int seeds the recipe exactly as
    ``train_global_forecaster(..., seed=random_state)``; None or a ``RandomState`` draws a seed), ``verbose``.

    Attributes after ``fit``: ``horizon_``, ``forecaster_`` (the ``GlobalForecaster``) and, for 2-D input,
    ``n_features_in_`` (the columns: timesteps of the histories).
    """

    def __init__(self, horizon: int | None = None, season: int = 1, lookback: int | None = None, units: int = 64,
                 cell: str = "gru", steps: int | None = None, ensemble: int = 3, random_state: Any = None,
                 verbose: int = 0):
        self.horizon = horizon
        self.season = season
        self.lookback = lookback
        self.units = units
        self.cell = cell
        self.steps = steps
        self.ensemble = ensemble
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        # A forecaster of what follows a series, not a regressor of arbitrary tabular targets: scikit-learn's
        # generic accuracy checks (a linear target of 10 independent columns) do not describe its task.
        tags.regressor_tags.poor_score = True
        return tags

    def _histories(self, x: Any, *, fitting: bool, y: Any = None):
        """A list of 1-D float64 histories from any accepted X (and y checked beside it when ``fitting``)."""
        if _is_ragged(x):
            series = [check_array(s, ensure_2d=False, dtype=_FLOATS, input_name="X") for s in x]
            if any(s.ndim != 1 for s in series):
                bad = next(s.shape for s in series if s.ndim != 1)
                raise ValueError(f"GRUForecaster: each series in a list must be 1-D (timesteps,); received a series "
                                 f"of shape {bad}.")
            if fitting:
                _forget_table(self)
            return [np.asarray(s, dtype=np.float64) for s in series], y
        if _ndim(x) == 2:
            if fitting and y is not None:
                x, y = _validate_table(self, x, y, reset=True, multi_output=True)
            else:
                x = _validate_table(self, x, reset=fitting)
            return list(np.asarray(x, dtype=np.float64)), y
        x = check_array(x, allow_nd=True, dtype=_FLOATS, input_name="X")
        if x.ndim != 3 or 1 not in x.shape[1:]:
            raise ValueError(f"GRUForecaster expects X of shape (n_series, timesteps), (n_series, 1, timesteps) or "
                             f"(n_series, timesteps, 1), or a list of 1-D series; received shape {x.shape}. Series "
                             "with covariates: gated.recipes.train_global_forecaster(covariates=...).")
        if fitting:
            _forget_table(self)
        return list(x.reshape(len(x), -1).astype(np.float64)), y

    def fit(self, X: Any, y: Any = None) -> "GRUForecaster":
        """Train on the histories X and (optionally) the values y that follow each; returns self."""
        histories, y = self._histories(X, fitting=True, y=y)
        if y is None:
            if self.horizon is None:
                raise ValueError("GRUForecaster requires y to be passed, but the target y is None: pass y, the "
                                 "values that follow each series (the horizon is its columns), or set horizon=H to "
                                 "train on the histories alone.")
            horizon, series, self._one_d = int(self.horizon), histories, False
        else:
            y = np.asarray(y, dtype=np.float64)
            self._one_d = y.ndim == 1
            y = y.reshape(len(y), -1)
            check_consistent_length(histories, y)
            horizon = y.shape[1]
            if self.horizon is not None and int(self.horizon) != horizon:
                raise ValueError(f"GRUForecaster(horizon={self.horizon}) but y has {horizon} column(s); y holds the "
                                 "horizon values after each series: pass horizon=None or y of that many columns.")
            if not np.isfinite(y).all():
                raise ValueError("GRUForecaster: y has missing or infinite values; fill or drop them first.")
            series = [np.concatenate([h, t]) for h, t in zip(histories, y)]
        shortest = min(len(s) for s in histories)
        if min(len(s) for s in series) < 1 + horizon:
            raise ValueError(f"GRUForecaster: series of {shortest} value(s) (received {shortest} feature(s)) are too "
                             f"short to learn a horizon of {horizon} from; each series with its y needs at least "
                             f"{1 + horizon} values.")
        self.forecaster_ = train_global_forecaster(series, horizon, season=self.season, lookback=self.lookback,
                                                   cell=self.cell, units=self.units, steps=self.steps,
                                                   ensemble=self.ensemble, seed=_seed(self.random_state),
                                                   verbose=self.verbose)
        self.horizon_ = horizon
        return self

    def predict_quantiles(self, X: Any) -> np.ndarray:
        """(n_series, horizon, Q) forecasts at the quantiles ``forecaster_.quantiles``, increasing on the last axis."""
        check_is_fitted(self)
        histories, _ = self._histories(X, fitting=False)
        return self.forecaster_.forecast(histories)

    def predict(self, X: Any) -> np.ndarray:
        """The median forecasts of the ``horizon_`` values after each series: (n_series, horizon_), or (n_series,)
        when fitted with a 1-D y."""
        median = self.predict_quantiles(X)[:, :, self.forecaster_.quantiles.index(0.5)]
        return median[:, 0] if self._one_d else median

    def predict_interval(self, X: Any, level: int = 80) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper), each (n_series, horizon_), of the ``level``% interval (80 or 95)."""
        if level not in INTERVALS:
            raise ValueError(f"GRUForecaster: level must be one of {sorted(INTERVALS)}; received {level!r}.")
        return self.forecaster_.interval(self.predict_quantiles(X), level)
