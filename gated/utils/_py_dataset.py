"""``PyDataset`` (Keras 2's ``Sequence``): batches by index, with Keras's names and epoch hooks.

A subclass implements ``__getitem__(index)`` (one whole batch: ``x``, ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``) and ``__len__`` (the number of batches), or a ``num_batches`` property that returns
None for an endless dataset. ``fit`` calls ``on_epoch_begin()`` before and ``on_epoch_end()`` after every epoch,
and draws the batch order afresh each epoch when ``shuffle=True`` (Python's ``random.shuffle``, as Keras).

``workers > 1`` reads batches ahead on that many threads, at most ``max_queue_size`` in flight, always handed to
the model in index order. ``use_multiprocessing=True`` is accepted for Keras programs and also reads on threads
(worth it when ``__getitem__`` waits on files or releases the GIL, as numpy and torch do).
"""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator


class PyDataset:
    """Base class of index-addressed datasets; see the module docstring.

    Args:
        workers: threads that read batches ahead (1: read in the training thread).
        use_multiprocessing: accepted for Keras programs; batches are read on threads either way.
        max_queue_size: how many batches may be read ahead of training (with ``workers > 1``).
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        for name, value, low in (("workers", workers, 0), ("max_queue_size", max_queue_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{type(self).__name__}: {name} must be an integer >= {low}; received {value!r}.")
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    # Keras reads these through properties that fall back to the defaults when a subclass skipped
    # super().__init__(); a skipped call is common in ported code and harmless here.
    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index), returning batch "
                                  "number index as x, (x, y) or (x, y, sample_weight).")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ (the number of batches) or a "
                                  "num_batches property (None for an endless dataset).")

    def on_epoch_begin(self) -> None:
        """Called before every epoch of fit."""

    def on_epoch_end(self) -> None:
        """Called after every epoch of fit (reshuffle or augment here)."""

    def __iter__(self) -> Iterator[Any]:
        """Every batch in index order, read in this thread (as Keras: no workers outside fit)."""
        count = self.num_batches
        for index in (itertools.count() if count is None else range(count)):
            yield self[index]


Sequence = PyDataset  # Keras 2's name (keras.utils.Sequence is the same class in Keras 3)


def epoch_indices(dataset: PyDataset, shuffle: bool) -> Iterable[int]:
    """The batch indices of one epoch: all of them (drawn in a new order when ``shuffle``), or endless."""
    count = dataset.num_batches
    if count is None:
        return itertools.count()
    order = list(range(count))
    if shuffle:
        random.shuffle(order)
    return order


def read_batches(dataset: PyDataset, indices: Iterable[int]) -> Iterator[Any]:
    """``dataset[i]`` for each index in order; with ``workers > 1`` read ahead on threads, at most
    ``max_queue_size`` batches in flight. Stopping the iteration early cancels the reads not started."""
    workers = dataset.workers
    if workers <= 1:
        for index in indices:
            yield dataset[index]
        return
    window = max(1, dataset.max_queue_size)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{type(dataset).__name__}-reader")
    pending = []
    indices = iter(indices)
    try:
        for index in itertools.islice(indices, window):
            pending.append(pool.submit(dataset.__getitem__, index))
        while pending:
            batch = pending.pop(0).result()  # an exception in __getitem__ surfaces here, at its batch
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(dataset.__getitem__, index))
            yield batch
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
