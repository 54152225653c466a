"""Callbacks that set the optimizer's learning rate: ``ReduceLROnPlateau`` and ``LearningRateScheduler``.

Both read and write ``model.optimizer.learning_rate`` (a float) and, like Keras 3, add the learning rate the
epoch ran with to the epoch's logs as ``'learning_rate'``, so it shows up in ``History`` and ``CSVLogger``.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Callable

import numpy as np
import torch

from ._callback import Callback, print_msg
from ._monitor import MonitorCallback, warn_missing


def _optimizer(owner: str, model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(f"{owner} sets the learning rate of model.optimizer, but the model has no optimizer. "
                         "Call model.compile(optimizer=...) before fit().")
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{owner} sets the learning rate of model.optimizer, but {type(optimizer).__name__} has no "
                         "learning_rate attribute. Use an optimizer from gated.optimizers.")
    return optimizer


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    An improvement must beat the best value by more than ``min_delta``. After a reduction, ``cooldown`` epochs
    pass without counting towards ``patience``; the rate never goes below ``min_lr``, and once it is there no more
    reductions (nor cooldowns) happen.

    Model interface: ``optimizer.learning_rate`` (a float, read and assigned).
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0 (it would never reduce the "
                             f"learning rate); received factor={factor}. Use a factor such as 0.1 or 0.5.")
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        optimizer = _optimizer("ReduceLROnPlateau", self.model)
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warn_missing("ReduceLROnPlateau", self.monitor, logs, "the learning rate is left unchanged this epoch")
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, optimizer, epoch: int) -> bool:
        old_lr = float(optimizer.learning_rate)
        # Compared in float32, as Keras (which stores the rate in float32) compares: a rate within float32
        # rounding of min_lr is at the floor, so no reduction and no cooldown start.
        if not np.float32(old_lr) > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True


def _takes_learning_rate(schedule: Callable) -> bool:
    """Whether ``schedule`` accepts ``(epoch, lr)``; functions of ``epoch`` alone are Keras's older API."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # no introspectable signature (some builtins): use the current API
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in parameters)


def _as_learning_rate(value) -> float | None:
    """``value`` as a float when it is a real number (a one-element float array or tensor too), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and np.issubdtype(value.dtype, np.floating):
        return float(value.item())
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.item())
    return None


class LearningRateScheduler(Callback):
    """At the start of each epoch, set the learning rate to ``schedule(epoch, lr)`` (or ``schedule(epoch)``).

    ``epoch`` is 0-based and ``lr`` the current rate as a float; the schedule returns the new rate as a number.

    Model interface: ``optimizer.learning_rate`` (a float, read and assigned).
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler expects a function schedule(epoch, lr) -> float; received "
                            f"{type(schedule).__name__} {schedule!r}.")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer("LearningRateScheduler", self.model)
        if _takes_learning_rate(self.schedule):
            value = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            value = self.schedule(epoch)
        learning_rate = _as_learning_rate(value)
        if learning_rate is None:
            raise ValueError(f"The schedule of LearningRateScheduler must return a float; at epoch {epoch} it "
                             f"returned {type(value).__name__} {value!r}. Return a Python float, e.g. float(lr).")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(_optimizer("LearningRateScheduler", self.model).learning_rate)
