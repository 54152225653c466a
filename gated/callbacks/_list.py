"""``CallbackList``: the one endpoint through which the training loop calls every callback's hooks."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ._callback import Callback, History, pythonify_logs
from ._logging import ProgbarLogger


class CallbackList(Callback):
    """Calls every hook on each callback in order; the trainer's single endpoint.

    Each hook converts ``logs`` once (``pythonify_logs``) and hands the SAME dict to every callback, so a key
    added by one callback (``ReduceLROnPlateau`` adds ``'learning_rate'``) is seen by those after it, as in Keras.

    Args:
        callbacks: a list of ``Callback`` instances (or ``None``).
        add_history: append a ``History`` unless the list holds one; ``model.history`` is set to it.
        add_progbar: append a ``ProgbarLogger`` unless the list holds one.
        model: the model the callbacks act on.
        **params: passed to every callback's ``set_params`` (``verbose``, ``epochs``, ``steps``).
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model=None, **params):
        super().__init__()
        self.callbacks: list[Callback] = list(callbacks) if callbacks else []
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"Every callback must be an instance of gated.callbacks.Callback; received "
                    f"{type(callback).__name__} {callback!r}. Subclass Callback, or wrap plain functions in "
                    "LambdaCallback(on_epoch_end=...)."
                )
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def history_callback(self) -> "History | None":
        return self._history

    def user_callbacks(self) -> list[Callback]:
        """The callbacks other than the History and progress bar that fit adds."""
        return [c for c in self.callbacks if c is not self._history and c is not self._progbar]

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def _call(self, hook: str, *args, logs: dict | None = None) -> None:
        # Keras's calling convention: batch hooks get ``logs=`` by keyword, the others positionally.
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            if "batch" in hook:
                getattr(callback, hook)(*args, logs=logs)
            else:
                getattr(callback, hook)(*args, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)
