"""The default sequence-classification recipe: what ``gated train`` runs.

1. Preparation, fitted on the training series only: each series' padding is found (trailing all-zero steps, as the
   .ts reader pads variable-length series); every channel is standardised with the training set's statistics, and
   beside it the same channel standardised within each series (its shape whatever its level), so the network sees
   2 x C channels. Padded steps stay exactly 0 and are masked through every layer (``_network.py``).
2. The network: GRU-FCN (``build_network``): convolution blocks with a global average beside a GRU; series longer
   than ``max_length`` steps are averaged down to it first (the cost of a convolution grows with the length). A
   long series also gets a pyramid of coarser convolutional branches (``COARSE_LENGTHS``: the series averaged to
   256, 128, 64 and 32 steps, each where the series is more than twice as long), so that the same small kernels
   see patterns that span hundreds of the original steps.
3. A budget in optimizer steps, scaled to the data (``training_budget``): small sets get many epochs, large sets
   enough passes; Adam with a linear warmup and a cosine decay over the budget.
4. Model selection on TRAINING data only: a stratified part of the training series is held out, the recipe trains
   on the rest over the whole budget and the epoch where the (smoothed) validation loss is lowest is kept, but
   never less than half the budget (``stop_epoch``). A held-out part with fewer than ``MIN_VALIDATION`` series
   or a class with fewer than 2 says too little to stop early on: the whole budget is kept (a cosine schedule
   run to its end is the safe default), and the time goes to the ensemble instead of a selection run. So does a
   set where the selection run and one refit would not both fit in ``time_budget`` (measured on the selection
   run's second epoch, ``_OneRunOnly``): the selection stops there and the one run is the refit.
5. Refit on all training series for the chosen number of epochs, its schedule decaying over exactly those epochs,
   ``ensemble`` times with different seeds; the prediction is the mean of the members' probabilities (by default
   as many members, up to 5, as fit in ``time_budget``).
The test set is touched once, at the end.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import callbacks as _callbacks
from .. import layers as L
from .. import optimizers as _optimizers
from ..data import StandardScaler
from ..models import Model, Sequential
from ..optimizers import schedules as _schedules
from ..utils import set_random_seed
from ._network import RECURRENT, average_of, build_network

CELLS = tuple(RECURRENT)
MAX_MEMBERS = 5
COARSE_LENGTHS = (256, 128, 64, 32)  # the coarser convolutional branches of a long series (``build_network``)
MIN_VALIDATION = 20  # held-out series needed before validation may stop training early


def _as_3d(x: Any, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"{what} must be (samples, timesteps) or (samples, timesteps, channels); received shape "
                         f"{x.shape}.")
    return x


def series_lengths(x: np.ndarray) -> np.ndarray:
    """Real length of each padded series: the steps before the trailing run of all-zero steps.

    A series that is zero everywhere is a real series of zeros (full length), not one made of padding only: a
    classifier must still give it a prediction.
    """
    nonzero = np.any(x != 0, axis=2)  # (N, T)
    last = x.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
    return np.where(nonzero.any(axis=1), last, x.shape[1])


def _padding_mask(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return np.arange(x.shape[1])[None, :] < lengths[:, None]  # (N, T): True on real steps


def _lengths(x: np.ndarray, lengths: Any) -> np.ndarray:
    """The real length of each series: ``lengths`` as given (checked), or inferred from trailing all-zero steps."""
    if lengths is None:
        return series_lengths(x)
    lengths = np.asarray(lengths)
    if lengths.shape != (len(x),) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be one integer length per series, shape ({len(x)},); received dtype "
                         f"{lengths.dtype}, shape {lengths.shape}.")
    if len(lengths) and (lengths.min() < 1 or lengths.max() > x.shape[1]):
        raise ValueError(f"lengths must lie between 1 and the {x.shape[1]} timesteps of the array; received "
                         f"{int(lengths.min())}..{int(lengths.max())}.")
    return lengths.astype(np.int64)


@dataclass
class Preprocessor:
    """Per-channel standardisation fitted on training series; padded steps stay exactly 0 (for masking).

    With ``series_channels`` each channel is also standardised within each series (over its real steps), appended
    after the globally standardised channels: (N, T, C) -> (N, T, 2C).
    """

    scaler: StandardScaler = field(default_factory=StandardScaler)
    padded: bool = False
    series_channels: bool = False

    def fit(self, x: np.ndarray, lengths: Any = None) -> "Preprocessor":
        """``lengths``: each series' real length (the steps after it are padding); None infers it from the
        trailing all-zero steps, as the .ts reader pads variable-length series."""
        lengths = _lengths(x, lengths)
        self.padded = bool((lengths < x.shape[1]).any())
        real = np.where(_padding_mask(x, lengths)[..., None], x, np.nan)
        self.scaler.fit(real)
        return self

    def transform(self, x: np.ndarray, lengths: Any = None) -> np.ndarray:
        lengths = _lengths(x, lengths)
        keep = _padding_mask(x, lengths)[..., None]  # (N, T, 1)
        parts = [self.scaler.transform(x.astype(np.float64))]
        if self.series_channels:
            real = np.where(keep, x.astype(np.float64), np.nan)
            with warnings.catch_warnings():  # 'mean of empty slice' for an all-padding series: replaced below
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(real, axis=1, keepdims=True)
                std = np.nanstd(real, axis=1, keepdims=True)
            parts.append((x - np.nan_to_num(mean)) / np.where(np.nan_to_num(std) > 1e-8, std, 1.0))
        scaled = np.concatenate(parts, axis=2)
        out = np.where(keep, scaled, 0.0).astype(np.float32)
        # A real step whose every value scales to exactly 0 would read as padding; nudge it off 0.
        collide = keep[..., 0] & ~np.any(out != 0, axis=2)
        out[collide, 0] = np.float32(1e-6)
        return out


def build_classifier(timesteps: int | None, channels: int, classes: int, *, cell: str = "gru", units: int = 64,
                     dropout: float = 0.2, masked: bool = False) -> Sequential:
    """The recurrent-only alternative: two stacked recurrent layers (the first bidirectional) and a softmax head."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}; received {cell!r}.")
    layer = RECURRENT[cell]
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


def stop_epoch(val_loss: list[float], epochs: int) -> int:
    """The refit's number of epochs: the smoothed best validation epoch, but at least half of ``epochs``.

    The refit's schedule is compressed to the epochs it runs, so a stop in the first half would anneal a model
    that validation saw only at a high learning rate; on small sets the loss there is mostly noise.
    """
    return max(smoothed_best_epoch(val_loss), math.ceil(epochs / 2))


def validation_is_informative(y_val: np.ndarray) -> bool:
    """Whether a held-out part can decide when to stop: ``MIN_VALIDATION`` series and 2 of every class."""
    counts = np.bincount(y_val) if len(y_val) else np.zeros(1, dtype=int)
    return len(y_val) >= MIN_VALIDATION and int(counts[counts > 0].min()) >= 2


@dataclass(frozen=True)
class Budget:
    """How long the recipe trains: ``steps`` optimizer steps of ``batch_size`` series (``epochs`` passes)."""

    batch_size: int
    steps_per_epoch: int
    epochs: int

    @property
    def steps(self) -> int:
        return self.steps_per_epoch * self.epochs


def training_budget(samples: int, *, batch_size: int | None = None, min_steps: int = 1500, max_steps: int = 4000,
                    min_epochs: int = 30, epochs: int | None = None) -> Budget:
    """The default budget: batches of 8-32 series (about a tenth of the set), at least ``min_epochs`` passes and
    ``min_steps`` steps, at most ``max_steps`` steps (unless ``min_epochs`` needs more). ``epochs`` overrides."""
    if batch_size is None:
        batch_size = int(min(32, max(8, 2 ** math.floor(math.log2(max(samples / 10, 1))))))
    batch_size = min(batch_size, samples)
    per_epoch = math.ceil(samples / batch_size)
    if epochs is None:
        epochs = max(min_epochs, math.ceil(min_steps / per_epoch))
        epochs = max(min(epochs, max_steps // per_epoch), min(min_epochs, epochs))
    return Budget(batch_size, per_epoch, int(epochs))


class _Progress(_callbacks.Callback):
    """Reports each epoch to ``report`` (see ``train_classifier``)."""

    def __init__(self, report: Callable[[dict], None], stage: str, member: int, members: int, epochs: int,
                 steps_per_epoch: int, started: float, estimate: Callable[[float], float]):
        super().__init__()
        self.report, self.stage, self.member, self.members = report, stage, member, members
        self.epochs, self.steps_per_epoch, self.started, self.estimate = epochs, steps_per_epoch, started, estimate

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        fraction = (epoch + 1) / self.epochs
        self.report({"stage": self.stage, "member": self.member, "members": self.members, "epoch": epoch + 1,
                     "epochs": self.epochs, "step": (epoch + 1) * self.steps_per_epoch,
                     "steps": self.epochs * self.steps_per_epoch, "loss": logs.get("loss"),
                     "val_accuracy": logs.get("val_accuracy"), "elapsed": time.perf_counter() - self.started,
                     "remaining": self.estimate(fraction)})


@dataclass
class ClassificationResult:
    """A trained recipe: its members (one or more models averaged), the preparation, and what selection chose."""

    model: Model
    preprocessor: Preprocessor
    history: dict[str, list[float]]
    best_epoch: int
    train_seconds: float
    parameters: int
    test_accuracy: float | None = None
    test_predictions: np.ndarray | None = None
    members: list = field(default_factory=list)  # the ensemble's models; ``model`` is their average as one model
    test_balanced_accuracy: float | None = None
    budget: Budget | None = None
    selected: bool = False  # whether a held-out part of the training series chose the number of epochs

    def __post_init__(self):
        if not self.members:
            self.members = [self.model]

    def predict_proba(self, x: Any, lengths: Any = None) -> np.ndarray:
        """(N, classes) probabilities for raw (unscaled) series: the mean over the ensemble's members.
        ``lengths``: each series' real length (None: trailing all-zero steps are padding)."""
        prepared = self.preprocessor.transform(_as_3d(x, "x"), lengths)
        return self.model.predict(prepared, verbose=0, batch_size=64)

    def predict(self, x: Any, lengths: Any = None) -> np.ndarray:
        """Class ids for raw (unscaled) series."""
        return self.predict_proba(x, lengths).argmax(-1)


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The mean over the classes present in ``y_true`` of each class's recall."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]))


def _class_ids(y: Any, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.number) or (y < 0).any() or (y != np.round(y)).any():
        raise ValueError(f"{what} must be a 1-D array of integer class ids 0..C-1; received dtype {y.dtype}, shape "
                         f"{y.shape}. Map labels to ids first (e.g. np.unique(labels, return_inverse=True)), or use "
                         "gated.recipes.GRUClassifier, which takes labels of any kind.")
    return y.astype(np.int64)


def train_classifier(x_train: Any, y_train: Any, x_test: Any = None, y_test: Any = None, *, cell: str = "gru",
                     architecture: str = "gru_fcn", units: int = 64, filters: tuple[int, ...] = (64, 128, 64),
                     max_length: int = 512, coarse_lengths: tuple[int, ...] = COARSE_LENGTHS,
                     epochs: int | None = None, batch_size: int | None = None,
                     learning_rate: float = 1e-3, validation_fraction: float = 0.2, ensemble: int | None = None,
                     time_budget: float = 480.0, class_weight: str | None = "balanced", refit: bool = True,
                     seed: int = 0, verbose: int = 0, callbacks: list | None = None,
                     progress: Callable[[dict], None] | None = None, lengths: Any = None,
                     test_lengths: Any = None) -> ClassificationResult:
    """Train the default classifier on (x_train, y_train); evaluate on (x_test, y_test) when given.

    x: (N, T, C) float series (variable-length series zero-padded at the end), y: (N,) integer class ids.
    ``lengths`` / ``test_lengths``: each series' real length, as a reader knows it (``SequenceData.lengths``); None
    treats a series' trailing all-zero steps as padding, which is wrong for series that really end in zeros.
    ``epochs`` / ``batch_size`` override the budget (``training_budget``); ``ensemble`` fixes the number of members
    (default: as many, up to 5, as the selection run says fit in ``time_budget`` seconds, at least one);
    ``class_weight='balanced'`` weighs each class by the inverse of its frequency (None: every series alike);
    ``architecture='rnn'`` is the recurrent-only alternative (``build_classifier``). ``progress`` receives one
    dict per epoch: stage ('selection' or 'refit'), member, members, epoch, epochs, step, steps, loss,
    val_accuracy, elapsed and remaining (estimated) seconds.
    """
    x_train = _as_3d(x_train, "x_train")
    y_train = _class_ids(y_train, "y_train")
    if len(x_train) != len(y_train):
        raise ValueError(f"x_train has {len(x_train)} series but y_train has {len(y_train)} labels.")
    if architecture not in ("gru_fcn", "rnn"):
        raise ValueError(f"architecture must be 'gru_fcn' or 'rnn'; received {architecture!r}.")
    if ensemble is not None and (isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1):
        raise ValueError(f"ensemble must be a positive number of models; received {ensemble!r}.")
    if class_weight not in ("balanced", None):
        raise ValueError(f"class_weight must be 'balanced' or None; received {class_weight!r}.")
    classes = int(y_train.max()) + 1
    started = time.perf_counter()
    set_random_seed(seed)
    preprocessor = Preprocessor(series_channels=architecture == "gru_fcn").fit(x_train, lengths)
    x = preprocessor.transform(x_train, lengths)
    rng = np.random.default_rng(seed)
    fit_idx, val_idx = stratified_split(y_train, validation_fraction, rng)
    select = validation_is_informative(y_train[val_idx]) or not refit  # without a refit the selection run is the model
    if not select:  # too few held-out series to stop on: the whole budget, on every training series
        fit_idx, val_idx = np.arange(len(x)), np.arange(0)
    budget = training_budget(len(fit_idx), batch_size=batch_size, epochs=epochs)
    full = training_budget(len(x), batch_size=budget.batch_size, epochs=budget.epochs)
    weights = _class_weights(y_train, classes) if class_weight == "balanced" else None

    def new_model(steps: int, member: int = 0) -> Model:
        if architecture == "rnn":
            model = build_classifier(x.shape[1], x.shape[2], classes, cell=cell, units=units,
                                     masked=preprocessor.padded)
        else:
            model = build_network(x.shape[1], x.shape[2], classes, filters=tuple(filters), units=units, cell=cell,
                                  masked=preprocessor.padded, max_length=max_length,
                                  coarse_lengths=tuple(coarse_lengths), name=f"member{member}")
        warmup = max(1, steps // 20)
        schedule = _schedules.CosineDecay(learning_rate / 10, decay_steps=max(1, steps - warmup),
                                          warmup_target=learning_rate, warmup_steps=warmup)
        model.compile(optimizer=_optimizers.Adam(schedule, clipnorm=1.0), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    def report(stage: str, member: int, members: int, run: Budget, estimate: Callable[[float], float]) -> list:
        if progress is None:
            return []
        return [_Progress(progress, stage, member, members, run.epochs, run.steps_per_epoch, started, estimate)]

    record: dict[str, list[float]] = {}
    best_epoch = full.epochs
    per_member = None  # seconds one refit member takes, once known
    if select:
        selection_started = time.perf_counter()
        model = new_model(budget.steps)

        def selection_left(fraction: float) -> float:  # the rest of this run, then the refit members (a guess)
            per_run = (time.perf_counter() - selection_started) / max(fraction, 1e-9)
            return per_run * (1 - fraction) + per_run * (ensemble or MAX_MEMBERS)

        refits = (ensemble or 1) * full.steps_per_epoch / budget.steps_per_epoch  # in selection epochs each
        deadline = _OneRunOnly(time_budget if refit else math.inf, budget.epochs, refits, started)
        history = model.fit(x[fit_idx], y_train[fit_idx], validation_data=(x[val_idx], y_train[val_idx]),
                            epochs=budget.epochs, batch_size=budget.batch_size, verbose=verbose,
                            class_weight=weights, callbacks=[deadline] + report("selection", 0, 0, budget,
                                                                                selection_left)
                            + list(callbacks or []))
        if deadline.stopped:  # no time for both: the one run is the refit, on every series, over the whole budget
            select, budget = False, full
        else:
            selection_seconds = time.perf_counter() - selection_started
            record = history.history
            best_epoch = stop_epoch(record["val_loss"], budget.epochs)
            per_member = selection_seconds * (best_epoch * full.steps_per_epoch) / max(budget.steps, 1)
    members: list[Model] = []
    if not refit:
        members = [model]
    else:
        # The refit sees all series: the same number of epochs means more steps; the schedule decays over them.
        run = Budget(full.batch_size, full.steps_per_epoch, best_epoch)
        count = ensemble
        member = 0
        while count is None or member < count:
            set_random_seed((seed * 1000 + member) % 2 ** 32)  # any int seed, members apart
            model = new_model(run.steps, member + 1)
            member_started = time.perf_counter()
            planned = count or (MAX_MEMBERS if per_member is None else
                                _members_that_fit(time_budget - (time.perf_counter() - started), per_member))

            def refit_left(fraction: float, member=member, member_started=member_started, planned=planned) -> float:
                spent = time.perf_counter() - member_started
                per_run = spent / max(fraction, 1e-9)
                return per_run * (1 - fraction) + per_run * (planned - member - 1)

            history = model.fit(x, y_train, epochs=run.epochs, batch_size=run.batch_size, verbose=verbose,
                                class_weight=weights, callbacks=report("refit", member + 1, planned, run, refit_left)
                                + ([] if select or member else list(callbacks or [])))
            members.append(model)
            if not record:
                record = history.history
            if count is None:  # decide the ensemble's size from the first member's time (or the selection run's)
                per_member = time.perf_counter() - member_started
                count = min(MAX_MEMBERS, 1 + _members_that_fit(time_budget - (time.perf_counter() - started),
                                                              per_member))
            member += 1
    result = ClassificationResult(average_of(members), preprocessor, record, best_epoch, time.perf_counter() - started,
                                  sum(m.count_params() for m in members), members=members, budget=budget,
                                  selected=select and refit)
    if x_test is not None:
        predictions = result.predict(x_test, test_lengths)
        result.test_predictions = predictions
        if y_test is not None:
            y_test = np.asarray(y_test)
            result.test_accuracy = float(np.mean(predictions == y_test))
            result.test_balanced_accuracy = balanced_accuracy(y_test, predictions)
    return result


class _OneRunOnly(_callbacks.Callback):
    """Stops the selection run after its second epoch (the first carries one-off costs) when, at that epoch's
    pace, the rest of it and ``refits`` full-size refits (in selection epochs each) would end after
    ``time_budget`` seconds from ``started``; ``stopped`` says so."""

    def __init__(self, time_budget: float, epochs: int, refits: float, started: float):
        super().__init__()
        self.time_budget, self.epochs, self.refits, self.started = time_budget, epochs, refits, started
        self.stopped = False
        self._epoch_started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if epoch != 1 or self.epochs <= 2:
            return
        now = time.perf_counter()
        pace = now - self._epoch_started
        finish = now - self.started + pace * ((self.epochs - 2) + self.refits * self.epochs)
        if finish > self.time_budget:
            self.stopped = True
            self.model.stop_training = True


def _members_that_fit(seconds_left: float, per_member: float) -> int:
    """How many more members of ``per_member`` seconds fit in ``seconds_left`` (none when it is spent)."""
    return int(max(0, seconds_left) // max(per_member, 1e-9))


def _class_weights(y: np.ndarray, classes: int) -> dict[int, float] | None:
    """Inverse class frequencies normalised to mean 1 over the series; None when the classes are balanced."""
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    present = counts > 0
    if counts[present].min() == counts[present].max():
        return None
    weights = np.where(present, len(y) / (present.sum() * np.maximum(counts, 1)), 0.0)
    return {int(c): float(w) for c, w in enumerate(weights) if present[c]}
