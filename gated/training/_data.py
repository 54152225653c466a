"""Data for fit / evaluate / predict: in-memory arrays, torch datasets and loaders, Python generators.

In-memory data (numpy arrays, tensors, lists or dicts of them for several inputs or outputs) is converted and
placed on the training device once; each batch is then an index into those tensors. Everything else is
converted batch by batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch

from ..utils._tree import flatten_structure, map_structure
from . import _distributed

Batch = tuple[Any, Any, Any]  # (x, y, sample_weight) structures of tensors (y and sample_weight may be None)


def _check_batch_size(batch_size: Any, default: int = 32) -> int:
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}. The usual choices are "
                         "16 to 256; the default is 32.")
    return int(batch_size)


def to_tensor(value: Any, device: torch.device, float_dtype: torch.dtype, what: str) -> torch.Tensor:
    """One array-like as a tensor on ``device``: floats in the model's dtype, integers and booleans kept."""
    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        try:
            array = np.asarray(value)
        except ValueError:
            lengths = [len(item) if hasattr(item, "__len__") else 1 for item in list(value)[:5]]
            raise ValueError(
                f"{what} is a ragged nested list: its sequences have different lengths (the first ones: "
                f"{', '.join(map(str, lengths))}), so it cannot become one array of shape (samples, timesteps, "
                "...). Pad the sequences to one length first, e.g. gated.utils.pad_sequences(sequences, "
                "padding='post', dtype='float32'), and add a Masking layer (or mask_zero=True) to skip the padding."
            ) from None
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(
                f"{what} has dtype {array.dtype} (shape {array.shape}); expected numbers. Encode strings as numbers "
                "first (integer class ids for labels, token ids for text)."
            )
        tensor = torch.as_tensor(array)
    if tensor.is_floating_point() and tensor.dtype != float_dtype:
        tensor = tensor.to(float_dtype)
    return tensor.to(device, non_blocking=True)


def _nested_numbers(value: Any) -> bool:
    """A (possibly ragged) nested Python list of numbers: one array, not a list of inputs."""
    if not isinstance(value, (list, tuple)) or not value:
        return False
    return all(isinstance(leaf, (int, float, bool, np.number)) for leaf in flatten_structure(value))


def check_finite(name: str, tensor: torch.Tensor) -> None:
    """Raise ValueError naming the position of the first NaN or infinite value of a floating-point array."""
    if not tensor.is_floating_point() and not tensor.is_complex():
        return
    bad = ~torch.isfinite(tensor)
    if not bool(bad.any()):
        return
    count = int(bad.sum())
    position = tuple(int(i) for i in bad.nonzero()[0].tolist())
    value = float(tensor[position])
    axes = {1: ("sample",), 2: ("sample", "column"), 3: ("sample", "timestep", "feature")}.get(
        tensor.ndim, ("sample",) + tuple(f"axis {i}" for i in range(1, tensor.ndim)))
    where = ", ".join(f"{axis} {i}" for axis, i in zip(axes, position))
    raise ValueError(
        f"{name} holds {value} at index {position} ({where}); {count} of its {tensor.numel()} values "
        f"{'is' if count == 1 else 'are'} NaN or "
        "infinite, which make the loss and outputs NaN. Fill or drop them first (for one series: "
        "gated.data.fill_missing(series, 'interpolate')), or pass check_finite=False if your model or loss handles "
        "them."
    )


def _num_samples(structure: Any) -> int:
    return int(flatten_structure(structure)[0].shape[0])


@dataclass
class ArrayData:
    """In-memory samples, already on the device."""

    x: Any
    y: Any
    sample_weight: Any
    batch_size: int

    @property
    def num_samples(self) -> int:
        return _num_samples(self.x)

    @property
    def steps(self) -> int:
        return math.ceil(self.num_samples / self.batch_size)

    def batches(self, shuffle: bool = False, steps: int | None = None) -> Iterator[Batch]:
        """The epoch's batches; the shuffle is drawn now, from torch's global generator (not at the first batch).

        Under torchrun each batch is this rank's contiguous slice of the global batch, in rank 0's order."""
        n = self.num_samples
        order = torch.randperm(n).to(flatten_structure(self.x)[0].device) if shuffle else None
        return self._iterate(_distributed.broadcast_order(order), steps)

    def _iterate(self, order: torch.Tensor | None, steps: int | None) -> Iterator[Batch]:
        n = self.num_samples
        for i, start in enumerate(range(0, n, self.batch_size)):
            if steps is not None and i >= steps:
                return
            start, stop = _distributed.shard_bounds(start, min(start + self.batch_size, n))
            if order is None:
                take = lambda t: t[start:stop]  # noqa: E731
            else:
                index = order[start:stop]
                take = lambda t: t.index_select(0, index)  # noqa: E731
            yield (map_structure(take, self.x), None if self.y is None else map_structure(take, self.y),
                   None if self.sample_weight is None else map_structure(take, self.sample_weight))

    def split(self, validation_split: float) -> tuple["ArrayData", "ArrayData"]:
        """Keras's split: the last fraction of the samples (before any shuffling) becomes validation data."""
        n = self.num_samples
        cut = int(math.floor(n * (1.0 - validation_split)))
        if cut == 0 or cut == n:
            raise ValueError(
                f"validation_split={validation_split} of {n} samples leaves "
                f"{'no training' if cut == 0 else 'no validation'} samples. Use a split that leaves at least one "
                "sample on each side, or pass validation_data=(x_val, y_val)."
            )
        head = lambda t: t[:cut]  # noqa: E731
        tail = lambda t: t[cut:]  # noqa: E731
        parts = []
        for fn in (head, tail):
            parts.append(ArrayData(map_structure(fn, self.x), None if self.y is None else map_structure(fn, self.y),
                                   None if self.sample_weight is None else map_structure(fn, self.sample_weight),
                                   self.batch_size))
        return parts[0], parts[1]


class IterableData:
    """Batches from a torch DataLoader, a Dataset (batched here) or a Python generator / iterator."""

    def __init__(self, source: Any, batch_size: int, shuffle: bool, device: torch.device, float_dtype: torch.dtype):
        from torch.utils.data import DataLoader, Dataset, IterableDataset

        self.device, self.float_dtype = device, float_dtype
        self._reiterable = True
        if isinstance(source, DataLoader):
            self.source = source
        elif isinstance(source, (Dataset, IterableDataset)):
            self.source = DataLoader(source, batch_size=batch_size,
                                     shuffle=shuffle and not isinstance(source, IterableDataset))
        else:
            self.source = iter(source)
            self._reiterable = False
        self._iterator: Iterator | None = None

    @property
    def steps(self) -> int | None:
        try:
            return len(self.source)
        except TypeError:
            return None

    def batches(self, shuffle: bool = False, steps: int | None = None) -> Iterator[Batch]:
        if self._reiterable:
            iterator = iter(self.source)
        else:
            iterator = self.source
        for i, item in enumerate(iterator):
            yield self._convert(item)
            if steps is not None and i + 1 >= steps:
                return

    def _convert(self, item: Any) -> Batch:
        if isinstance(item, dict) or not isinstance(item, (list, tuple)):
            x, y, sw = item, None, None
        elif len(item) == 1:
            x, y, sw = item[0], None, None
        elif len(item) == 2:
            (x, y), sw = item, None
        elif len(item) == 3:
            x, y, sw = item
        else:
            raise ValueError(f"A data batch must be x, (x,), (x, y) or (x, y, sample_weight); received a "
                             f"{type(item).__name__} of {len(item)} elements.")
        convert = lambda v: to_tensor(v, self.device, self.float_dtype, "A batch")  # noqa: E731
        return (map_structure(convert, x), None if y is None else map_structure(convert, y),
                None if sw is None else map_structure(convert, sw))


def is_iterable_source(x: Any) -> bool:
    from torch.utils.data import DataLoader, Dataset, IterableDataset

    if isinstance(x, (DataLoader, Dataset, IterableDataset)):
        return True
    return hasattr(x, "__next__") or (hasattr(x, "__iter__") and not isinstance(
        x, (np.ndarray, torch.Tensor, list, tuple, dict, str)))


def make_array_data(x: Any, y: Any, sample_weight: Any, batch_size: int, device: torch.device,
                    float_dtype: torch.dtype, finite: bool = True, what: str = "") -> ArrayData:
    """Convert and check in-memory data: every array must hold the same number of samples and, unless
    ``finite`` is False, only finite numbers. ``what`` names the data in messages ('validation_data')."""
    if x is None:
        raise ValueError("No input data: pass x (an array, a list or dict of arrays, a Dataset, a DataLoader or a "
                         "generator).")

    def convert(name: str, structure: Any) -> Any:
        if _nested_numbers(structure):
            return to_tensor(structure, device, float_dtype, name)
        return map_structure(lambda v: to_tensor(v, device, float_dtype, name), structure)

    prefix = f"{what}: " if what else ""
    x = convert(prefix + "x", x)
    y = None if y is None else convert(prefix + "y", y)
    sample_weight = None if sample_weight is None else convert(prefix + "sample_weight", sample_weight)
    counts = {}
    for name, structure in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        if structure is None:
            continue
        for i, leaf in enumerate(flatten_structure(structure)):
            if leaf.ndim == 0:
                raise ValueError(f"{prefix}{name} is a scalar; expected an array with one row per sample.")
            counts[name if len(flatten_structure(structure)) == 1 else f"{name}[{i}]"] = int(leaf.shape[0])
    if len(set(counts.values())) > 1:
        listing = ", ".join(f"{k} has {v}" for k, v in counts.items())
        hint = ""
        if isinstance(x, (list, tuple)) and len(x) > 1 and len({counts.get(f"x[{i}]") for i in range(len(x))}) > 1:
            hint = (f" If x is a list of {len(x)} sequences (one array per sample) rather than one array per model "
                    "input, pad them into one array: gated.utils.pad_sequences(x, padding='post', dtype='float32').")
        raise ValueError(f"{prefix}The data arrays have different numbers of samples: {listing}. Every array needs "
                         f"one row per sample, in the same order.{hint}")
    if next(iter(counts.values())) == 0:
        raise ValueError(f"{prefix}The data is empty: x has shape {tuple(flatten_structure(x)[0].shape)}. Pass at "
                         "least one sample.")
    if finite:
        for name, structure in (("x", x), ("y", y), ("sample_weight", sample_weight)):
            leaves = [] if structure is None else flatten_structure(structure)
            for i, leaf in enumerate(leaves):
                check_finite(prefix + (name if len(leaves) == 1 else f"{name}[{i}]"), leaf)
    return ArrayData(x, y, sample_weight, batch_size)
