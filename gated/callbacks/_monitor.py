"""Callbacks that watch one logged quantity: the shared ``mode`` logic, ``EarlyStopping`` and ``ModelCheckpoint``.

Decisions follow Keras 3.15 to the comparison: an improvement is ``current + min_delta < best`` in ``'min'`` mode and
``current - min_delta > best`` in ``'max'`` mode, evaluated in float32 as Keras evaluates it, with the first
monitored value always an improvement.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from .. import metrics as _metrics
from ..utils._processes import is_main_process
from ._callback import Callback, print_msg

MODES = ("auto", "min", "max")


def check_mode(owner: str, mode: str) -> str:
    if mode not in MODES:
        raise ValueError(
            f"{owner} received mode={mode!r}; expected one of {', '.join(repr(m) for m in MODES)}. Use 'min' for "
            "losses and errors, 'max' for accuracies, or 'auto' to infer it from the monitored name."
        )
    return mode


def warn_missing(owner: str, monitor: str, logs: dict, consequence: str) -> None:
    """The one ``UserWarning`` for a monitored quantity absent from the logs, naming the keys that are there."""
    available = ", ".join(repr(k) for k in logs) or "none"
    hint = (" Pass validation data to fit() to get 'val_' metrics, or" if monitor.startswith("val_") else "")
    warnings.warn(
        f"{owner} monitors {monitor!r}, which is not in the logs; {consequence}. Available metrics: {available}."
        f"{hint} Set monitor= to one of the available names.",
        UserWarning, stacklevel=3,
    )


def _metric_direction(model, name: str) -> str | None:
    """``'up'``/``'down'`` for the metric ``name``: from the model's metric objects, then from gated's registry."""
    pending = list(getattr(model, "metrics", None) or [])
    while pending:  # metric containers (Keras's CompileMetrics) expose their members as ``.metrics``
        metric = pending.pop(0)
        if getattr(metric, "name", None) == name and getattr(metric, "direction", None) in ("up", "down"):
            return metric.direction
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, (list, tuple)):
            pending.extend(inner)
    if name.lower() in ("accuracy", "acc"):  # resolved per task in compile; every variant is 'up'
        return "up"
    try:
        return _metrics.get(name).direction
    except (ValueError, TypeError):  # not a registered metric name
        return None


class MonitorCallback(Callback):
    """Base for callbacks that compare a monitored value against the best seen so far.

    ``mode='auto'`` is resolved at the first epoch end (the metrics exist by then): a name ending in ``loss``
    (after any ``val_`` prefix) is minimized; any other takes the ``direction`` (``'up'``/``'down'``) of the
    model's metric of that name, else of ``gated.metrics``' metric of that name (``'accuracy'``, ``'auc'`` and
    ``'precision'`` go up; ``'mae'`` goes down); a name neither knows is a ``ValueError`` asking for a mode.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0.0):
        super().__init__()
        self.monitor = monitor
        self.mode = check_mode(type(self).__name__, mode)
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op: str | None = None  # 'min' or 'max' once resolved (lazily: the metrics exist by then)

    def _set_monitor_op(self) -> None:
        if self.mode != "auto":
            self.monitor_op = self.mode
            return
        name = self.monitor.removeprefix("val_")
        if name == "loss" or name.endswith("_loss"):
            self.monitor_op = "min"
            return
        direction = _metric_direction(self.model, name)
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} received monitor={self.monitor!r} with mode='auto', but cannot tell whether "
                f"{name!r} should be maximized or minimized. Pass mode='max' to track its highest value or "
                "mode='min' to track its lowest."
            )
        self.monitor_op = "max" if direction == "up" else "min"

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        if reference is None:
            return True
        # In float32, as Keras's ops.less/ops.greater compare Python floats: decisions agree with Keras to the bit.
        if self.monitor_op == "min":
            return bool(np.float32(current + self.min_delta) < np.float32(reference))
        return bool(np.float32(current - self.min_delta) > np.float32(reference))


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras 3 semantics).

    Each epoch from ``start_from_epoch`` on counts one epoch of waiting; an improvement by more than ``min_delta``
    records the new best (and its weights) and resets the count, provided it also beats ``baseline`` when one is
    given. Training stops (``model.stop_training = True``, ``stopped_epoch`` set) once the count reaches
    ``patience``, never at epoch 0. With ``restore_best_weights`` the best epoch's weights are put back at the end
    of training, whether training was stopped early or ran all its epochs.

    Model interface: ``stop_training``; with ``restore_best_weights``, ``get_weights()`` and ``set_weights(list)``.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if patience < 0 or start_from_epoch < 0:
            raise ValueError(f"EarlyStopping expects patience >= 0 and start_from_epoch >= 0; received "
                             f"patience={patience}, start_from_epoch={start_from_epoch}.")
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: list | None = None

    def on_train_begin(self, logs=None):
        # Reset, so one instance can serve several fit() calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs or {}
        current = logs.get(self.monitor)
        if current is None:
            warn_missing("EarlyStopping", self.monitor, logs, "this epoch does not count towards stopping")
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # nothing better seen yet: these are the best
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save(path)``) or its weights (``model.save_weights(path)``) during training.

    ``filepath`` may hold ``str.format`` fields filled with the 1-based ``epoch``, the 1-based ``batch`` (with an
    integer ``save_freq``) and any logged value: ``'ckpt/{epoch:02d}-{val_loss:.2f}.keras'``. Missing parent
    folders are created. With ``save_best_only`` a file is written only when ``monitor`` improves on the best so
    far (starting from ``initial_value_threshold`` when given). ``save_freq`` is ``'epoch'`` or a number of
    batches. Unlike Keras, the file extension is not checked: it is the model's ``save``/``save_weights`` that
    decides what a path may be.

    ``save_training_state=True`` (gated's addition) also writes the training progress - epoch and batch, random
    number generator states, history, the other callbacks' state and the running metrics - so that
    ``model.fit(..., resume_from=path)`` continues a killed run exactly where the file was written.

    Model interface: ``save(path)`` / ``save(path, training_state=True)`` or ``save_weights(path)``.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None,
                 save_training_state: bool = False):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError(f"ModelCheckpoint received save_freq={save_freq!r}; expected 'epoch' or a positive "
                             "integer number of batches.")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        if save_training_state and save_weights_only:
            raise ValueError("ModelCheckpoint(save_training_state=True) writes whole model files; it cannot be "
                             "combined with save_weights_only=True.")
        self.save_training_state = save_training_state
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:  # a new epoch began
            new_batches = batch + 1
        else:
            new_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += new_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields: dict[str, Any] = dict(logs, epoch=epoch + 1)
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(
                f"ModelCheckpoint cannot format filepath {self.filepath!r}: field {error} is not among the logged "
                f"values {sorted(fields)}. Use only these names in the path (validation values need validation "
                "data in fit())."
            ) from None

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warn_missing("ModelCheckpoint(save_best_only=True)", self.monitor, logs, "saving anyway")
            return True
        if np.ndim(current) > 0:
            warnings.warn(f"ModelCheckpoint can only track a scalar {self.monitor!r}; received {current!r}. "
                          "Saving anyway, as with save_best_only=False.", UserWarning, stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                       f"saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if not is_main_process():  # under torchrun rank 0 writes; the others only keep the same state
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(f"ModelCheckpoint's filepath {filepath!r} is an existing folder; give a file "
                                    "path such as 'ckpt/model_{epoch:02d}.keras'.")
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        method = "save_weights" if self.save_weights_only else "save"
        save = getattr(self.model, method, None)
        if save is None:
            raise AttributeError(
                f"ModelCheckpoint(save_weights_only={self.save_weights_only}) calls model.{method}(path), which "
                f"{type(self.model).__name__} does not have."
                + ("" if self.save_weights_only else " Pass save_weights_only=True to save the weights alone.")
            )
        try:
            if self.save_training_state:
                save(filepath, training_state=True)  # resumable with fit(..., resume_from=filepath)
            else:
                save(filepath)
        except OSError as err:
            raise OSError(
                err.errno, f"ModelCheckpoint could not write {filepath}: {err.strerror or err}. Training stopped; the "
                "previous file at that path (if any) is unchanged, and the model keeps its trained weights - save "
                "it elsewhere with model.save(path)."
            ) from err
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
