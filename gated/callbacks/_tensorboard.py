"""``TensorBoard``: training curves and weight histograms for TensorBoard, written with torch's ``SummaryWriter``.

The event files hold what Keras's callback writes, under the same names: ``log_dir/train`` gets ``epoch_<name>``
for every training log of an epoch and ``epoch_learning_rate``, ``log_dir/validation`` gets ``epoch_<name>`` for
the ``val_`` logs (prefix dropped), both at step ``epoch``; with ``update_freq`` a number of batches (or
``'batch'``), ``batch_<name>`` every that many batches at the global batch count; after each ``evaluate`` and
validation run, ``evaluation_<name>_vs_iterations`` at the optimizer's step count; with ``histogram_freq``,
``<layer>/<weight>/histogram`` every that many epochs. Watch with ``tensorboard --logdir <log_dir>``.

tensorboard is an optional extra (``pip install tensorboard``), imported when the callback is created.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..saving._model_file import weight_names
from ..utils._processes import is_main_process
from ._callback import Callback

INSTALL_HINT = "pip install tensorboard"


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise ImportError(f"The TensorBoard callback writes through torch.utils.tensorboard, which needs the "
                          f"tensorboard package ({err}). Install it with: {INSTALL_HINT}") from err
    return SummaryWriter


class TensorBoard(Callback):
    """Log training to ``log_dir`` for TensorBoard (Keras's arguments; see the module docstring for what is written).

    Args:
        log_dir: the folder of the event files (``train/`` and ``validation/`` inside it).
        histogram_freq: every how many epochs to write weight histograms (0: never).
        write_graph: accepted for Keras programs; gated writes no graph (a torch graph needs example inputs:
            ``SummaryWriter.add_graph(model, x)`` draws one).
        write_images: accepted; weights are written as histograms only.
        write_steps_per_second: also write ``epoch_steps_per_second`` (and ``batch_steps_per_second``).
        update_freq: ``'epoch'``, ``'batch'``, or every how many batches to write the batch logs.
        profile_batch: must be 0 (as in Keras on torch: profiling is not available); use ``torch.profiler``.
        embeddings_freq, embeddings_metadata: must be 0 / None (embedding projections are not written).
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int = 0, embeddings_freq: int = 0, embeddings_metadata: Any = None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        if update_freq not in ("epoch", "batch") and (isinstance(update_freq, bool) or not isinstance(
                update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard received update_freq={update_freq!r}; expected 'epoch', 'batch' or a "
                             "positive number of batches.")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard received histogram_freq={histogram_freq!r}; expected a number of epochs "
                             ">= 0 (0: no histograms).")
        if profile_batch:
            raise ValueError(f"TensorBoard received profile_batch={profile_batch!r}, but profiling is not available "
                             "on torch (nor in Keras on torch); pass 0 and profile with torch.profiler.")
        if embeddings_freq or embeddings_metadata is not None:
            raise ValueError("TensorBoard's embeddings_freq / embeddings_metadata are not supported by gated; pass "
                             "embeddings_freq=0.")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph, self.write_images = histogram_freq, write_graph, write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict[str, Any] = {}
        self._global_train_batch = 0
        self._epoch_start = 0.0
        self._epoch_start_iterations = 0
        self._batch_start = 0.0
        if self.update_freq != "epoch":  # only then: batch logs cost a host sync per batch
            self.on_train_batch_begin = self._start_batch
            self.on_train_batch_end = self._write_batch

    def _writer(self, which: str):
        if which not in self._writers:
            self._writers[which] = self._writer_class(os.path.join(self.log_dir, which))
        return self._writers[which]

    def _iterations(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        return int(getattr(optimizer, "iterations", 0) or 0)

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_start_iterations = self._iterations()

    def _start_batch(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.time()

    def _write_batch(self, batch, logs=None):
        if not is_main_process() or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start
            writer.add_scalar("batch_steps_per_second", 1.0 / elapsed if elapsed > 0 else 0.0,
                              self._global_train_batch)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        if not is_main_process():
            return
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            elapsed = time.time() - self._epoch_start
            steps = self._iterations() - self._epoch_start_iterations
            train["steps_per_second"] = steps / elapsed if elapsed > 0 else 0.0
        for name, value in train.items():
            self._writer("train").add_scalar(f"epoch_{name}", float(value), epoch)
        for name, value in logs.items():
            if name.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{name[4:]}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, weights in zip(weight_names(self.model), self.model.get_weights()):
                writer.add_histogram(f"{name}/histogram", weights, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        if not is_main_process() or getattr(self.model, "optimizer", None) is None:
            return
        writer = self._writer("validation")
        for name, value in (logs or {}).items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), self._iterations())
        writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def get_state(self) -> dict[str, Any]:
        return {"_global_train_batch": self._global_train_batch}
