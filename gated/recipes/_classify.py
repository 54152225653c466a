"""The default sequence-classification recipe: what ``gated train`` runs.

Steps: find each series' padding (all-zero trailing steps, as the .ts reader pads), standardise every channel with
statistics of the training series only, hold out a stratified validation part of the TRAINING data, train a
recurrent classifier with early stopping on that validation loss (restoring the best epoch), then refit on all the
training data for that many epochs. The test set is touched once, at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import callbacks as _callbacks
from .. import layers as L
from .. import optimizers as _optimizers
from ..data import StandardScaler
from ..models import Sequential
from ..utils import set_random_seed

CELLS = ("gru", "lstm", "simple_rnn", "mingru")


def _as_3d(x: Any, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"{what} must be (samples, timesteps) or (samples, timesteps, channels); received shape "
                         f"{x.shape}.")
    return x


def series_lengths(x: np.ndarray) -> np.ndarray:
    """Real length of each padded series: the steps before the trailing run of all-zero steps."""
    nonzero = np.any(x != 0, axis=2)  # (N, T)
    last = x.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
    return np.where(nonzero.any(axis=1), last, 0)


def _padding_mask(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return np.arange(x.shape[1])[None, :] < lengths[:, None]  # (N, T): True on real steps


@dataclass
class Preprocessor:
    """Per-channel standardisation fitted on training series; padded steps stay exactly 0 (for Masking)."""

    scaler: StandardScaler = field(default_factory=StandardScaler)
    padded: bool = False

    def fit(self, x: np.ndarray) -> "Preprocessor":
        lengths = series_lengths(x)
        self.padded = bool((lengths < x.shape[1]).any())
        real = np.where(_padding_mask(x, lengths)[..., None], x, np.nan)
        self.scaler.fit(real)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        lengths = series_lengths(x)
        scaled = self.scaler.transform(x.astype(np.float64))
        return np.where(_padding_mask(x, lengths)[..., None], scaled, 0.0).astype(np.float32)


def build_classifier(timesteps: int | None, channels: int, classes: int, *, cell: str = "gru", units: int = 64,
                     dropout: float = 0.2, masked: bool = False) -> Sequential:
    """Two stacked recurrent layers (the first bidirectional) and a softmax head."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}; received {cell!r}.")
    layer = {"gru": L.GRU, "lstm": L.LSTM, "simple_rnn": L.SimpleRNN, "mingru": L.MinGRU}[cell]
    stack: list[Any] = [L.Input((timesteps, channels))]
    if masked:
        stack.append(L.Masking(0.0))
    stack += [L.Bidirectional(layer(units, return_sequences=True)), layer(units), L.Dropout(dropout),
              L.Dense(classes, activation="softmax")]
    return Sequential(stack)


def stratified_split(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): ``fraction`` of each class held out (at least one sample of classes with 2+)."""
    train, val = [], []
    for cls in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == cls))
        take = int(round(len(members) * fraction))
        take = min(max(take, 1 if len(members) > 1 else 0), len(members) - 1)
        val.extend(members[:take])
        train.extend(members[take:])
    return np.sort(np.array(train, dtype=int)), np.sort(np.array(val, dtype=int))


def smoothed_best_epoch(val_loss: list[float], window: int = 5) -> int:
    """The epoch (1-based) where the validation loss, averaged over ``window`` epochs around it, is lowest.

    Validation sets carved from small training sets are tiny and their loss jumps from epoch to epoch; the
    running mean picks a region that is good, not a lucky single epoch.
    """
    values = np.asarray(val_loss, dtype=np.float64)
    if len(values) < window:
        return int(np.argmin(values)) + 1
    kernel = np.ones(window) / window
    smooth = np.convolve(np.pad(values, window // 2, mode="edge"), kernel, mode="valid")
    return int(np.argmin(smooth)) + 1


@dataclass
class ClassificationResult:
    model: Sequential
    preprocessor: Preprocessor
    history: dict[str, list[float]]
    best_epoch: int
    train_seconds: float
    parameters: int
    test_accuracy: float | None = None
    test_predictions: np.ndarray | None = None

    def predict(self, x: Any) -> np.ndarray:
        """Class ids for raw (unscaled) series."""
        probabilities = self.model.predict(self.preprocessor.transform(_as_3d(x, "x")), verbose=0)
        return probabilities.argmax(-1)


def train_classifier(x_train: Any, y_train: Any, x_test: Any = None, y_test: Any = None, *, cell: str = "gru",
                     units: int = 64, epochs: int = 150, batch_size: int = 16, learning_rate: float = 1e-3,
                     validation_fraction: float = 0.2, patience: int = 30, refit: bool = True, seed: int = 0,
                     verbose: int = 0, callbacks: list | None = None) -> ClassificationResult:
    """Train the default classifier on (x_train, y_train); evaluate on (x_test, y_test) when given."""
    x_train = _as_3d(x_train, "x_train")
    y_train = np.asarray(y_train).astype(np.int64)
    if len(x_train) != len(y_train):
        raise ValueError(f"x_train has {len(x_train)} series but y_train has {len(y_train)} labels.")
    classes = int(y_train.max()) + 1
    set_random_seed(seed)
    preprocessor = Preprocessor().fit(x_train)
    x = preprocessor.transform(x_train)
    rng = np.random.default_rng(seed)
    fit_idx, val_idx = stratified_split(y_train, validation_fraction, rng)

    def new_model() -> Sequential:
        model = build_classifier(x.shape[1], x.shape[2], classes, cell=cell, units=units,
                                 masked=preprocessor.padded)
        model.compile(optimizer=_optimizers.Adam(learning_rate, clipnorm=1.0),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    start = time.perf_counter()
    model = new_model()
    stop = _callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    slow = _callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(2, patience // 3))
    history = model.fit(x[fit_idx], y_train[fit_idx], validation_data=(x[val_idx], y_train[val_idx]),
                        epochs=epochs, batch_size=batch_size, verbose=verbose,
                        callbacks=[stop, slow] + list(callbacks or []))
    best_epoch = smoothed_best_epoch(history.history["val_loss"])
    record = history.history
    if refit:
        set_random_seed(seed)
        model = new_model()
        model.fit(x, y_train, epochs=best_epoch, batch_size=batch_size, verbose=verbose)
    result = ClassificationResult(model, preprocessor, record, best_epoch, time.perf_counter() - start,
                                  model.count_params())
    if x_test is not None:
        predictions = result.predict(x_test)
        result.test_predictions = predictions
        if y_test is not None:
            result.test_accuracy = float(np.mean(predictions == np.asarray(y_test)))
    return result
