"""The ``Callback`` base with Keras's hook names, the ``CallbackList`` the trainer drives, ``History`` and
``LambdaCallback``.

The model a callback sees needs only what each callback reads (see ``gated.callbacks``); the base itself stores
``model`` and ``params`` and does nothing else.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from ..saving._model_file import pack_state
from ..utils._processes import is_main_process


class Callback:
    """Base class for objects that hook into ``fit``, ``evaluate`` and ``predict``.

    Override the hooks you need. ``self.model`` is the model being trained and ``self.params`` a dict of training
    parameters (``{'verbose': 1, 'epochs': 10, 'steps': 32}``); ``logs`` dicts map metric names to Python floats,
    validation names prefixed with ``'val_'``.
    """

    def __init__(self):
        self.params: dict[str, Any] | None = None
        self._model = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        return self._model

    def get_state(self) -> dict[str, Any]:
        """What a resumed ``fit`` needs to continue this callback exactly: its plain attributes (numbers,
        strings, arrays and lists of them). Override for callbacks with other state."""
        state = {}
        for key, value in vars(self).items():
            if key in ("params", "_model") or callable(value):
                continue
            try:
                pack_state(value, "", {})
            except TypeError:
                continue
            state[key] = value
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    # Keras's backwards-compatible aliases: the train-batch hooks call them by default.
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Alias of ``on_train_batch_begin`` kept from Keras 2."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Alias of ``on_train_batch_end`` kept from Keras 2."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """At the start of epoch ``epoch`` (0-based) of ``fit``."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """At the end of an epoch; ``logs`` holds the epoch's training and validation (``val_``) results."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before training batch ``batch`` (0-based within the epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After a training batch; ``logs`` holds the results aggregated so far this epoch."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before a batch of ``evaluate`` or of validation inside ``fit``."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After a batch of ``evaluate`` or of validation inside ``fit``."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before a batch of ``predict``."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After a batch of ``predict``."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """At the start of ``fit``."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """At the end of ``fit``; ``logs`` are the last epoch's."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """At the start of ``evaluate`` or of a validation pass."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """At the end of ``evaluate`` or of a validation pass."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """At the start of ``predict``."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """At the end of ``predict``."""


def print_msg(message: str, line_break: bool = True) -> None:
    """Write to the current ``sys.stdout`` (looked up at call time, so redirections apply) and flush; under
    torchrun only rank 0 writes."""
    if not is_main_process():
        return
    sys.stdout.write(message + "\n" if line_break else message)
    sys.stdout.flush()


def pythonify_logs(logs: dict | None) -> dict[str, Any]:
    """A new dict with keys sorted, nested dicts flattened and scalar tensors/arrays turned into Python floats.

    Keras's rule: the keys come out sorted, which is why histories and progress bars list ``accuracy`` before
    ``loss``. Values that are not scalars (strings, arrays with several elements) are kept as they are.
    """
    result: dict[str, Any] = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        if not isinstance(value, (str, bytes)):
            try:
                value = float(value)
            except (TypeError, ValueError, RuntimeError):  # not a scalar: keep it as it is
                pass
        result[key] = value
    return result


class History(Callback):
    """Records every epoch's logs: ``history.history == {'loss': [...], 'val_loss': [...]}``, ``history.epoch``.

    ``fit`` adds one and returns it; it is also ``model.history``. Like Keras, ``history`` keeps accumulating when
    the same instance is passed to several ``fit`` calls, while ``epoch`` restarts with each.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.resumed = False  # set when a resumed fit restored history and epoch from a checkpoint

    def on_train_begin(self, logs=None):
        if not self.resumed:
            self.epoch = []
        self.resumed = False

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


_LAMBDA_HOOKS = (
    "on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
    "on_train_batch_end", "on_batch_begin", "on_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
)


class LambdaCallback(Callback):
    """A callback made of plain functions, called with the hook's positional arguments.

    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``; any other
    hook (``on_test_end=...``) may be passed by keyword.
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None, on_train_batch_end: Callable | None = None,
                 **kwargs: Callable):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_LAMBDA_HOOKS))
        if unknown:
            raise TypeError(
                f"LambdaCallback received unknown hook(s) {unknown}. Known hooks: {', '.join(_LAMBDA_HOOKS)}."
            )
        hooks = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback({name}=...) must be a function; received {type(fn).__name__}.")
            setattr(self, name, fn)
