"""Callbacks with Keras's names, arguments, defaults and hooks.

The model a callback acts on needs only what that callback uses:

- ``stop_training`` (a bool attribute): ``EarlyStopping``, ``TerminateOnNaN`` set it; the loop checks it.
- ``get_weights()`` / ``set_weights(list)``: ``EarlyStopping(restore_best_weights=True)``.
- ``optimizer.learning_rate`` (a float, read and assigned): ``ReduceLROnPlateau``, ``LearningRateScheduler``.
- ``save(path)`` / ``save_weights(path)``: ``ModelCheckpoint``.
- ``history`` (an attribute ``CallbackList`` and ``History`` assign).
- optionally ``metrics`` (objects with ``name`` and ``direction`` 'up'/'down'): ``mode='auto'`` for a metric name.

Logs passed to the hooks hold Python floats, keyed as Keras keys them (``'loss'``, ``'accuracy'``, ``'val_loss'``).
"""

from ._backup import BackupAndRestore
from ._callback import Callback, History, LambdaCallback
from ._list import CallbackList
from ._learning_rate import LearningRateScheduler, ReduceLROnPlateau
from ._logging import CSVLogger, ProgbarLogger, TerminateOnNaN
from ._monitor import EarlyStopping, ModelCheckpoint
from ._tensorboard import TensorBoard
from ._unsupported import OrbaxCheckpoint, RemoteMonitor, SwapEMAWeights

__all__ = [
    "Callback", "CallbackList", "History", "LambdaCallback",
    "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler",
    "CSVLogger", "ProgbarLogger", "TerminateOnNaN", "BackupAndRestore", "TensorBoard",
    "RemoteMonitor", "SwapEMAWeights", "OrbaxCheckpoint",
]
