"""Sliding windows over a time series as batches of (x, y) numpy arrays, with Keras's windowing."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np


class TimeseriesDataset:
    """Iterable of batches from ``timeseries_dataset_from_array``; ``len()`` is the number of batches.

    Attributes ``start_positions`` (window starts relative to ``start_index``, in the order of the first pass) and
    ``indices`` describe the windows, for inspection.
    """

    def __init__(self, data, targets, sequence_length, sequence_stride, sampling_rate, batch_size, shuffle, seed,
                 start_index, end_index):
        self.data = data
        self.targets = targets
        self.sequence_length, self.sampling_rate, self.batch_size = sequence_length, sampling_rate, batch_size
        self.start_index = start_index
        num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
        if targets is not None:
            num_seqs = min(num_seqs, len(targets) - start_index)  # Keras uses len(targets) and then fails
        self.start_positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
        self.shuffle = shuffle
        self._rng = None
        if shuffle:
            if seed is None:
                seed = np.random.randint(1_000_000)
            self._rng = np.random.RandomState(seed)
            self._rng.shuffle(self.start_positions)
        self._passes = 0

    @property
    def indices(self) -> np.ndarray:
        """(num_windows, sequence_length) row indices into ``data`` of each window, in first-pass order."""
        offsets = np.arange(0, self.sequence_length * self.sampling_rate, self.sampling_rate)
        return self.start_index + self.start_positions[:, None] + offsets

    def __len__(self) -> int:
        n = len(self.start_positions)
        return n if self.batch_size is None else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        positions = self.start_positions
        if self.shuffle and self._passes > 0:  # a new order every pass after the first, as a reshuffling dataset
            positions = positions.copy()
            self._rng.shuffle(positions)
        self._passes += 1
        offsets = np.arange(0, self.sequence_length * self.sampling_rate, self.sampling_rate)
        step = self.batch_size or 1
        for first in range(0, len(positions), step):
            starts = self.start_index + positions[first:first + step]
            x = self.data[starts[:, None] + offsets]  # (B, sequence_length, ...)
            y = None if self.targets is None else self.targets[starts]
            if self.batch_size is None:
                x, y = x[0], None if y is None else y[0]
            yield x if y is None else (x, y)


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> TimeseriesDataset:
    """Windows ``data[i, i + r, ..., i + (sequence_length - 1) * r]`` paired with ``targets[i]``, batched.

    As in Keras: windows start every ``sequence_stride`` rows from ``start_index`` and end before ``end_index``;
    the target of the window starting at row ``i`` is ``targets[i]`` (to predict the value after a window of
    ``sequence_length`` rows, pass ``targets=data[sequence_length:]``). ``targets=None`` yields windows only.
    ``shuffle`` permutes the window order with ``np.random.RandomState(seed)`` exactly as Keras permutes its start
    positions (Keras's tf.data path then shuffles once more inside a buffer); every later pass reshuffles.
    """
    data = np.asarray(data)
    targets = None if targets is None else np.asarray(targets)
    n = len(data)
    _check("sequence_length", sequence_length, 1, None)
    if start_index:
        _check("start_index", start_index, 0, n - 1, f"the length of the data ({n})")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"timeseries_dataset_from_array: end_index must be higher than start_index; received "
                             f"start_index={start_index}, end_index={end_index}.")
        _check("end_index", end_index, 1, n - 1, f"the length of the data ({n})")
    _check("sampling_rate", sampling_rate, 1, n - 1, f"the length of the data ({n})")
    _check("sequence_stride", sequence_stride, 1, n - 1, f"the length of the data ({n})")
    if batch_size is not None:
        _check("batch_size", batch_size, 1, None)
    return TimeseriesDataset(data, targets, sequence_length, sequence_stride, sampling_rate, batch_size, shuffle,
                             seed, start_index or 0, end_index or n)


def _check(name: str, value: int, low: int, high: int | None, high_name: str | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"timeseries_dataset_from_array: {name} must be an integer; received {value!r}.")
    if value < low:
        raise ValueError(f"timeseries_dataset_from_array: {name} must be at least {low}; received {value}.")
    if high is not None and value > high:
        raise ValueError(f"timeseries_dataset_from_array: {name} must be lower than {high_name}; received {value}.")
