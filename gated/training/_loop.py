"""fit / evaluate / predict with Keras's signatures, return values and callback order."""

from __future__ import annotations

import signal
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from ..callbacks import BackupAndRestore, Callback, CallbackList, ModelCheckpoint
from ..losses import BinaryCrossentropy, SparseCategoricalCrossentropy, check_binary_targets, check_sparse_labels
from ..saving._model_file import read_file, read_section, unpack_state
from ..utils._modes import training_mode
from ..utils._progbar import resolve_verbose
from ..utils._tree import flatten_structure, map_structure
from . import _distributed, _graphs
from ._batch import batch_size_of, check_model_targets, ordered_targets, outputs_list, targets_and_weights
from ._compile import CompiledModel
from ._data import ArrayData, IterableData, _check_batch_size, is_iterable_source, make_array_data
from ._executors import choose_executor
from ._resume import FitProgress, read_progress, restore_callbacks, rng_state, set_rng_state
from ._step import NonFiniteLoss, StepExecutor, StepResult, TrainStep, keras_data, overrides_step, python_logs


def _compiled(model, what: str) -> CompiledModel:
    if model.compiled is None:
        raise ValueError(f"Model '{model.name}' must be compiled before {what}(): call "
                         "model.compile(optimizer='adam', loss=..., metrics=[...]) first.")
    return model.compiled


class _Trainer:
    """One training run: data prepared, targets checked, then epochs of steps."""

    def __init__(self, model, finite: bool = True):
        self.model = model
        self.compiled = _compiled(model, "fit")
        self.finite = finite
        self.train_step = TrainStep(model, self.compiled)
        self.executor: StepExecutor | None = None  # captured or eager, decided at the first step
        self.user_step = overrides_step(model, "train_step")  # the model writes its own train_step()
        self.prepared = False
        _distributed.setup(self.compiled)

    @property
    def ready(self) -> bool:
        """Whether the first batch has built what training needs (the compile configuration; for a model's own
        train_step, the model and the optimizer)."""
        return self.prepared if self.user_step else self.compiled.built

    @property
    def steps_taken(self) -> int:
        """Optimizer steps of this call; none means a failed call changed no weight."""
        return self.train_step.steps_taken

    def data(self, x, y, sample_weight, batch_size, shuffle, what="x"):
        compiled = self.compiled
        _distributed.check_global_batch(batch_size)
        if is_iterable_source(x):
            _refuse_iterable_when_distributed(what)
            if y is not None:
                raise ValueError(f"When {what} is a Dataset, DataLoader or generator, it must yield the targets "
                                 "too: pass y=None.")
            return IterableData(x, batch_size, shuffle, compiled.device, self.model._dtype, what=what)
        return make_array_data(x, y, sample_weight, batch_size, compiled.device, self.model._dtype, self.finite,
                               what="" if what == "x" else what)

    def check_arrays(self, data: ArrayData) -> None:
        """Checks over every sample of in-memory data, before training starts: labels within a sparse loss's
        classes (the per-batch check would only fire at the batch that holds a bad label, mid-epoch)."""
        compiled = self.compiled
        if data.y is None or not compiled.built:
            return
        for loss, t, units in zip(compiled.losses, ordered_targets(self.model, data.y), compiled.output_units):
            if t is None:
                continue
            if isinstance(loss, SparseCategoricalCrossentropy) and loss.axis == -1 and units is not None:
                check_sparse_labels(t, units, loss.ignore_class)
            elif isinstance(loss, BinaryCrossentropy):
                check_binary_targets(t)

    def preflight(self, data: ArrayData) -> None:
        """Run the first batch of (validation) data through the model and the loss without training, so that a
        mismatch stops fit before it changes anything. Skipped for stateful models (it would advance their
        states)."""
        model, compiled = self.model, self.compiled
        if any(getattr(layer, "stateful", False) for layer in model.modules()):
            return
        x, y, sw = next(data.batches())
        with training_mode(model, False), torch.no_grad():
            y_pred = outputs_list(model(x))
            if y is not None:
                y_true, weights = targets_and_weights(model, y, sw)
                check_model_targets(model, y_true, y_pred)
                compiled.compute_loss(y_true, y_pred, weights)

    def prepare(self, batch: tuple) -> None:
        """Build the model and the compile configuration on the first batch, and check its targets."""
        compiled, model = self.compiled, self.model
        x, y, _ = batch
        if self.user_step:  # the model's train_step reads the data its own way: build it and the optimizer only
            if not model.built:
                with torch.no_grad():
                    model(x)
            compiled.build_optimizer()
            _distributed.broadcast_parameters(model)
            self.prepared = True
            return
        if y is None and compiled.loss_spec is not None:
            raise ValueError("Training needs targets: pass y=, or data that yields (x, y) pairs.")
        if not model.built:
            with torch.no_grad():
                model(x)
        model.to(compiled.device)
        _distributed.broadcast_parameters(model)  # ranks start from rank 0's weights
        if compiled.built:
            return
        with training_mode(model, False), torch.no_grad():
            y_pred = outputs_list(model(x))
        y_true = ordered_targets(model, y)
        if len(y_true) != len(y_pred):
            raise ValueError(f"Model '{model.name}' has {len(y_pred)} outputs ({', '.join(model.output_names)}) "
                             f"but received {len(y_true)} target array(s). Pass one target per output, as a list "
                             "in output order or a dict keyed by output name.")
        compiled.build(y_true, y_pred)
        self.check_targets(y_true, y_pred)

    def check_targets(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor]) -> None:
        """Targets against outputs and losses, once per call, with messages that say what to change."""
        self.train_step.check_targets(y_true, y_pred)

    def step(self, batch: tuple, class_weight: dict | None) -> StepResult:
        """One optimizer step, run by the executor chosen at the first step: a replay of the captured step when it
        applies (CUDA, static shapes), else eager; ``model.last_step_path`` says which and why."""
        if self.executor is None:
            self.executor = choose_executor(self.train_step)
        return self.executor(batch, class_weight)


class _Interrupts:
    """Ctrl-C during fit stops at the next batch boundary (weights of the last completed batch, history so far);
    a second Ctrl-C interrupts at once. Only in the main thread, where Python delivers signals."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> "_Interrupts":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class _LossMean:
    """Keras's loss tracker: the batch losses averaged with the batch sizes as weights, kept on the device."""

    def __init__(self):
        self.total: torch.Tensor | float = 0.0
        self.count = 0

    def update(self, loss: torch.Tensor, size: int) -> None:
        self.total = self.total + loss.double() * size
        self.count += size

    def result(self) -> float:
        return float(self.total / self.count) if self.count else float("nan")


class _Losses:
    """The total loss and, for several outputs, each output's loss (Keras logs them as '<output>_loss')."""

    def __init__(self, compiled: CompiledModel):
        self.total = _LossMean()
        names = compiled.output_names if len(compiled.output_names) > 1 else []
        self.outputs = {f"{name}_loss": _LossMean() for name, fn in zip(names, compiled.losses) if fn is not None}

    def update(self, total: torch.Tensor, per_output: list[torch.Tensor], size: int) -> None:
        self.total.update(total, size)
        for tracker, value in zip(self.outputs.values(), per_output):
            tracker.update(value, size)

    def get_state(self) -> list[Any]:
        return [[t.total, t.count] for t in [self.total, *self.outputs.values()]]

    def set_state(self, state: list[Any]) -> None:
        for tracker, (total, count) in zip([self.total, *self.outputs.values()], state):
            tracker.total, tracker.count = total, int(count)


def _logs(compiled: CompiledModel, loss: _Losses, prefix: str = "") -> dict[str, float]:
    with _distributed.summed_totals(compiled, loss):  # under torchrun: the totals of every rank
        logs = {"loss": loss.total.result()}
        logs.update({name: tracker.result() for name, tracker in loss.outputs.items()})
        for name, metric in compiled.metric_names():
            value = metric.result()  # a vector for per-class metrics (F1Score(average=None)), as Keras logs it
            logs[name] = float(value) if value.numel() == 1 else value.detach().cpu().numpy()
    return {prefix + k: logs[k] for k in sorted(logs)}


def _wants_batch_logs(callbacks) -> bool:
    hooks = ("on_train_batch_end", "on_test_batch_end", "on_batch_end")
    for cb in callbacks.callbacks:
        for hook in hooks:
            if hook in vars(cb) or getattr(type(cb), hook) is not getattr(Callback, hook):
                return True
    return False


@dataclass(frozen=True)
class FitConfig:
    """The arguments of ``Model.fit`` for one call (Keras's names and defaults), checked when made: a bad value
    raises here, before any data is read. ``batch_size`` and ``verbose`` hold the resolved values (32 for None;
    0, 1 or 2 for 'auto')."""

    x: Any = field(default=None, repr=False, compare=False)
    y: Any = field(default=None, repr=False, compare=False)
    batch_size: int | None = None
    epochs: int = 1
    verbose: int | str = "auto"
    callbacks: Sequence[Callback] | None = None
    validation_split: float = 0.0
    validation_data: Any = field(default=None, repr=False, compare=False)
    shuffle: bool = True
    class_weight: dict | None = None
    sample_weight: Any = field(default=None, repr=False, compare=False)
    initial_epoch: int = 0
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    validation_batch_size: int | None = None
    validation_freq: int = 1
    resume_from: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "batch_size", _check_batch_size(self.batch_size))
        epochs = self.epochs
        if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, received {epochs!r}.")
        split = self.validation_split
        if not (isinstance(split, (int, float)) and 0.0 <= split < 1.0):
            raise ValueError(f"validation_split must be a fraction in [0, 1), received {split!r}. "
                             "For example validation_split=0.2 keeps the last 20% of the samples for validation.")
        object.__setattr__(self, "verbose", resolve_verbose(self.verbose))


def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
        steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
        resume_from=None, check_finite=True):
    """Train; a ValueError or TypeError raised before the first optimizer step (bad input) leaves the weights,
    the optimizer state and ``model.history`` as they were."""
    previous_history = model.history
    trainer = _Trainer(model, finite=check_finite)
    try:
        config = FitConfig(x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
                           class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
                           validation_batch_size, validation_freq, resume_from)
        return _fit(model, trainer, config)
    except (ValueError, TypeError):
        if trainer.steps_taken == 0:
            model.history = previous_history
        raise


def _fit(model, trainer: _Trainer, config: FitConfig):
    batch_size, epochs, verbose, shuffle = config.batch_size, config.epochs, config.verbose, config.shuffle
    class_weight, steps_per_epoch = config.class_weight, config.steps_per_epoch
    train = trainer.data(config.x, config.y, config.sample_weight, batch_size, shuffle)
    val = None
    if config.validation_data is not None:
        val = _validation_source(trainer, config.validation_data, config.validation_batch_size or batch_size)
    elif config.validation_split:
        if not isinstance(train, ArrayData):
            raise ValueError("validation_split works with in-memory arrays only; for a Dataset, DataLoader or "
                             "generator pass validation_data= instead.")
        train, val = train.split(config.validation_split)

    if isinstance(train, IterableData):  # a one-shot generator cannot feed several epochs: say so now
        train.check_passes(epochs - config.initial_epoch, steps_per_epoch, "steps_per_epoch")
    if isinstance(val, IterableData):
        runs = sum((epoch + 1) % config.validation_freq == 0 for epoch in range(config.initial_epoch, epochs))
        val.check_passes(runs, config.validation_steps, "validation_steps")
    compiled = trainer.compiled
    if isinstance(train, ArrayData) and not trainer.ready:
        trainer.prepare(next(train.batches()))  # check targets against outputs before anything is printed or run
    if isinstance(train, ArrayData):
        trainer.check_arrays(train)
    if isinstance(val, ArrayData) and compiled.built and not trainer.user_step:
        trainer.check_arrays(val)
        trainer.preflight(val)  # a bad validation set stops fit now, not after the first epoch
    steps = steps_per_epoch or train.steps
    # Resumable checkpoints go last, so the state they record includes every other callback's epoch-end update.
    callbacks = list(config.callbacks or [])
    callbacks.sort(key=lambda cb: isinstance(cb, ModelCheckpoint) and cb.save_training_state)
    callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                             verbose=verbose, epochs=epochs, steps=steps)
    resume_from = config.resume_from
    if resume_from is None:  # a BackupAndRestore that holds the backup of an interrupted run
        resume_from = next((cb.resume_path() for cb in callbacks.user_callbacks()
                            if isinstance(cb, BackupAndRestore) and cb.resume_path()), None)
    resume = None if resume_from is None else _resume(model, trainer, train, resume_from, callbacks)
    initial_epoch = config.initial_epoch
    if resume is not None:
        initial_epoch = resume["epoch"] + (1 if resume["step"] is None else 0)
    batch_logs = _wants_batch_logs(callbacks)
    model.stop_training = False
    progress = FitProgress(callbacks, compiled=compiled)
    model._fit_progress = progress
    with training_mode(model, None):  # fit switches modes epoch by epoch; the caller's mode comes back after
        callbacks.on_train_begin()
        epoch_logs: dict[str, float] = {}
        interrupts = _Interrupts()
        try:
            interrupts.__enter__()
            for epoch in range(initial_epoch, epochs):
                if trainer.user_step:
                    model.reset_metrics()  # Keras resets every metric of model.metrics each epoch
                elif compiled.built:
                    compiled.reset_metrics()
                loss = _Losses(compiled) if compiled.built else None
                step_logs: dict[str, Any] | None = None
                progress.epoch, progress.step, progress.losses = epoch, None, loss
                if resume is not None and resume["step"] is None and epoch == initial_epoch:
                    set_rng_state(resume["rng"])  # after an epoch-end checkpoint: draw on as the run would have
                progress.epoch_rng = rng_state()
                callbacks.on_epoch_begin(epoch)
                model.train()
                skip = 0
                if resume is not None and resume["step"] is not None and epoch == resume["epoch"]:
                    set_rng_state(resume["epoch_rng"])  # redraw this epoch's shuffle ...
                    progress.epoch_rng = resume["epoch_rng"]
                batches = train.batches(shuffle=shuffle, steps=steps_per_epoch)
                if resume is not None and resume["step"] is not None and epoch == initial_epoch:
                    set_rng_state(resume["rng"])  # ... then continue the random stream where the checkpoint was
                    skip = resume["step"] + 1
                    if _distributed.rank() == 0:  # the totals were rank 0's; the others start from zero
                        loss.set_state(resume["losses"])
                        for metric, state in zip(compiled.all_metrics(), resume["metrics"]):
                            metric._state = dict(state)
                for step, batch in enumerate(batches):
                    if step < skip:
                        continue
                    if step == 0 and not trainer.ready:
                        trainer.prepare(batch)
                        model.train()
                    loss = loss or _Losses(compiled)
                    progress.losses = loss
                    callbacks.on_train_batch_begin(step)
                    try:
                        result = trainer.step(batch, class_weight)
                    except NonFiniteLoss as bad:
                        _stop_message(model, f"the loss became {bad.value} at epoch {epoch + 1}, batch {step + 1}. "
                                      "The weights are those before that batch. Common causes: a learning rate too "
                                      "high (try a lower one, or clipnorm=1.0), inputs far from unit scale "
                                      "(standardise them), NaN in the data, or a custom loss taking the log of zero.")
                        break
                    if result.logs is not None:  # the model's own train_step: its logs, as it returned them
                        step_logs = result.logs
                    else:
                        loss.update(result.loss, result.per_output, result.size)
                    progress.step = step
                    if batch_logs:
                        callbacks.on_train_batch_end(step, dict(step_logs) if step_logs is not None else
                                                     _logs(compiled, loss))
                    else:
                        callbacks.on_train_batch_end(step, None)
                    if interrupts.requested:
                        _stop_message(model, f"interrupted (Ctrl-C) at epoch {epoch + 1}, after batch {step + 1}. "
                                      "The weights are those after that batch; the history holds the completed "
                                      "epochs.")
                    if model.stop_training:
                        break
                if model.stop_training and (interrupts.requested or getattr(model, "_stopped_on_fault", False)):
                    break
                if loss is None and step_logs is None:
                    raise ValueError("The training data produced no batches; check x (or steps_per_epoch).")
                epoch_logs = dict(step_logs) if step_logs is not None else _logs(compiled, loss)
                if val is not None and (epoch + 1) % config.validation_freq == 0:
                    model.eval()
                    epoch_logs.update(_evaluate_source(model, val, config.validation_steps, prefix="val_"))
                progress.step, progress.epoch_logs = None, epoch_logs
                callbacks.on_epoch_end(epoch, epoch_logs)
                model.stop_training = _distributed.any_rank(model.stop_training)
                if model.stop_training:
                    break
        finally:
            interrupts.__exit__(None, None, None)
            model._fit_progress = None
            model._stopped_on_fault = False
    callbacks.on_train_end(epoch_logs)
    return model.history


def _stop_message(model, text: str) -> None:
    """Stop training cleanly and say why (a warning, so scripts can catch it; printed by default)."""
    model.stop_training = True
    model._stopped_on_fault = True
    warnings.warn(f"Training stopped: {text}", RuntimeWarning, stacklevel=4)


def _resume(model, trainer: _Trainer, train, path, callbacks) -> dict[str, Any]:
    """Load weights, optimizer state and progress from a resumable checkpoint into this fit."""
    path = str(path)
    state = read_progress(path)
    if not isinstance(train, ArrayData) and state["step"] is not None:
        raise ValueError(f"{path} was written in the middle of an epoch; resuming there needs in-memory arrays "
                         "(the skipped batches are found again by index). Resume from an epoch-end checkpoint.")
    compiled = trainer.compiled
    if not compiled.built:
        trainer.prepare(next(train.batches()))
    metadata, tensor, keys = read_file(path)
    weights = [tensor(k) for k in sorted(k for k in keys if k.startswith("weights/"))]
    model.set_weights(weights)
    saved = unpack_state(read_section(metadata, "state", path), tensor) or {}
    if "optimizer" in saved:
        build_optimizer(model)
        model.optimizer.load_state_dict(saved["optimizer"])
    restore_callbacks(callbacks, state, path)
    return state


def _validation_source(trainer: _Trainer, validation_data: Any, batch_size: int):
    if is_iterable_source(validation_data):
        return trainer.data(validation_data, None, None, batch_size, False, what="validation_data")
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (1, 2, 3):
        raise ValueError("validation_data must be (x_val, y_val), (x_val, y_val, sample_weight_val), (x_val,) for "
                         "a model without targets, a Dataset, a DataLoader or a generator; received "
                         f"{type(validation_data).__name__}"
                         + (f" of length {len(validation_data)}." if isinstance(validation_data, (list, tuple))
                            else "."))
    x_val = validation_data[0]
    y_val = validation_data[1] if len(validation_data) > 1 else None
    sw_val = validation_data[2] if len(validation_data) == 3 else None
    return trainer.data(x_val, y_val, sw_val, batch_size, False, what="validation_data")


def _evaluate_source(model, data, steps, prefix: str = "", callbacks=None) -> dict[str, float]:
    if overrides_step(model, "test_step"):
        return _evaluate_user_steps(model, data, steps, prefix, callbacks)
    compiled = model.compiled
    if compiled.built:
        compiled.reset_metrics()
    loss = _Losses(compiled) if compiled.built else None
    with torch.no_grad():
        for step, (x, y, sw) in enumerate(data.batches(shuffle=False, steps=steps)):
            if not compiled.built:
                _Trainer(model).prepare((x, y, sw))
                compiled.reset_metrics()
                loss = _Losses(compiled)
            if callbacks is not None:
                callbacks.on_test_batch_begin(step)
            size = batch_size_of(x)
            if size:  # under torchrun a rank's slice of a short last batch may be empty
                y_true, weights = targets_and_weights(model, y, sw)
                y_pred = outputs_list(model(x, training=False))
                if step == 0:
                    check_model_targets(model, y_true, y_pred)
                value, per_output = compiled.compute_loss(y_true, y_pred, weights)
                loss.update(value, per_output, size)
                compiled.update_metrics(y_true, y_pred, weights)
            if callbacks is not None:
                callbacks.on_test_batch_end(step, None)
    if loss is None:
        raise ValueError("The evaluation data produced no batches.")
    return _logs(compiled, loss, prefix)


def _evaluate_user_steps(model, data, steps, prefix: str, callbacks) -> dict[str, float]:
    """Evaluation through the model's own ``test_step(data)``: its logs after the last batch, as Keras reports."""
    model.reset_metrics()
    logs = None
    with torch.no_grad():
        for step, batch in enumerate(data.batches(shuffle=False, steps=steps)):
            if not model.built:
                model(batch[0])
            if callbacks is not None:
                callbacks.on_test_batch_begin(step)
            logs = python_logs(model.test_step(keras_data(batch)), f"{type(model).__name__}.test_step()")
            if callbacks is not None:
                callbacks.on_test_batch_end(step, dict(logs))
    if logs is None:
        raise ValueError("The evaluation data produced no batches.")
    return {prefix + k: v for k, v in logs.items()}


def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
             callbacks=None, return_dict=False, check_finite=True):
    trainer = _Trainer(model, finite=check_finite)
    data = trainer.data(x, y, sample_weight, _check_batch_size(batch_size), False)
    if isinstance(data, ArrayData):
        trainer.check_arrays(data)
    verbose = resolve_verbose(verbose)
    callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1,
                             steps=steps or data.steps)
    with training_mode(model, False):
        callbacks.on_test_begin()
        logs = _evaluate_source(model, data, steps, callbacks=callbacks)
    callbacks.on_test_end(logs)
    if return_dict:
        return logs
    if overrides_step(model, "test_step"):  # Keras's list: the values in the order the step returned them
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
    return _in_keras_order(logs, model.compiled)


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None, check_finite=True):
    batch_size = _check_batch_size(batch_size)
    _distributed.setup(model.compiled)
    _distributed.check_global_batch(batch_size)
    device = model.compiled.device if model.compiled is not None else model._param_device()
    device = device or torch.device("cpu")
    if is_iterable_source(x):
        _refuse_iterable_when_distributed("x")
        data: Any = IterableData(x, batch_size, False, device, model._dtype, what="x")
    else:
        data = make_array_data(x, None, None, batch_size, device, model._dtype, check_finite)
    verbose = resolve_verbose(verbose)
    callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1,
                             steps=steps or data.steps)
    chunks: list[Any] = []
    with training_mode(model, False):
        forward = _graphs.PredictSteps(model, device)  # captured per input shape on CUDA, else model(x)
        callbacks.on_predict_begin()
        with torch.inference_mode():
            for step, (xb, _, _) in enumerate(data.batches(shuffle=False, steps=steps)):
                callbacks.on_predict_batch_begin(step)
                if batch_size_of(xb) == 0:  # an empty slice of a short last batch
                    chunks.append(None)
                else:
                    out = forward(xb)
                    chunks.append(map_structure(lambda t: t.detach().cpu(), out))
                callbacks.on_predict_batch_end(step, None)
    chunks = _distributed.gather_chunks(chunks)  # every rank's slices, in the input order
    callbacks.on_predict_end()
    if not chunks:
        raise ValueError("predict() received no samples.")
    first = chunks[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(chunks).numpy()
    if isinstance(first, dict):
        return {k: torch.cat([c[k] for c in chunks]).numpy() for k in first}
    return [torch.cat([c[i] for c in chunks]).numpy() for i in range(len(first))]


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    trainer = _Trainer(model)
    data = trainer.data(x, y, sample_weight, _batch_len(x), False)
    batch = next(data.batches())
    compiled = trainer.compiled
    if not trainer.ready:
        trainer.prepare(batch)
    if trainer.user_step:
        model.reset_metrics()
        with training_mode(model, True):
            logs = trainer.step(batch, class_weight).logs
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
    compiled.reset_metrics()
    with training_mode(model, True):
        value = trainer.step(batch, class_weight).loss
    logs = {"loss": float(value)}
    logs.update({name: float(metric.result()) for name, metric in compiled.metric_names()})
    return logs if return_dict else _in_keras_order(logs, compiled)


def _in_keras_order(logs: dict[str, float], compiled: CompiledModel) -> float | list[float]:
    """Keras's list form: the loss, each output's loss in output order, the metrics in compile order (one output),
    then the other keys sorted (Keras's own names for a multi-output model's metrics do not match its log keys)."""
    multi = len(compiled.output_names) > 1
    names = ["loss"] + ([f"{name}_loss" for name in compiled.output_names] if multi else
                        [name for name, _ in compiled.metric_names()])
    values = [logs[n] for n in names if n in logs] + [logs[k] for k in sorted(logs) if k not in names]
    return values[0] if len(values) == 1 else values


def build_optimizer(model) -> None:
    """Bind the compiled optimizer to the model's trainable parameters (before loading its saved state)."""
    _compiled(model, "loading optimizer state").build_optimizer()


def _refuse_iterable_when_distributed(what: str) -> None:
    if _distributed.active():
        raise ValueError(
            f"Under torchrun ({_distributed.world_size()} processes) {what} must be in-memory arrays, which gated "
            "cuts into per-process slices of each global batch. Datasets, DataLoaders and generators are not "
            "sharded yet: load the arrays (e.g. np.stack over the dataset) or train in one process."
        )


def _batch_len(x: Any) -> int:
    first = flatten_structure(x)[0]
    return int(first.shape[0]) if hasattr(first, "shape") else len(first)
