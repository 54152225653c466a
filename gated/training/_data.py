"""Data for fit / evaluate / predict: in-memory arrays, PyDatasets, torch datasets and loaders, Python generators.

In-memory data (numpy arrays, tensors, lists or dicts of them for several inputs or outputs) is converted and
placed on the training device once; each batch is then an index into those tensors. Everything else is
converted batch by batch.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from ..utils._arrays import string_array
from ..utils._py_dataset import PyDataset, epoch_indices, read_batches
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


def to_tensor(value: Any, device: torch.device, float_dtype: torch.dtype, what: str,
              strings: bool = False) -> torch.Tensor | np.ndarray:
    """One array-like as a tensor on ``device``: floats in the model's dtype, integers and booleans kept. With
    ``strings`` (model inputs), an array of strings is returned as it is, a numpy array (see ``string_array``)."""
    if strings and (text := string_array(value)) is not None:
        return text
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
            where = ("Only model inputs (x) may be strings, for a model that starts with TextVectorization or "
                     "StringLookup; encode string targets as numbers (integer class ids, e.g. with StringLookup)."
                     if not strings else "Encode them as numbers first, or start the model with TextVectorization "
                     "or StringLookup, which read arrays of str.")
            raise TypeError(f"{what} has dtype {array.dtype} (shape {array.shape}); expected numbers. {where}")
        tensor = torch.as_tensor(array)
    if tensor.is_floating_point() and tensor.dtype != float_dtype:
        tensor = tensor.to(float_dtype)
    return tensor.to(device, non_blocking=True)


def _nested_numbers(value: Any) -> bool:
    """A (possibly ragged) nested Python list of numbers: one array, not a list of inputs."""
    if not isinstance(value, (list, tuple)) or not value:
        return False
    return all(isinstance(leaf, (int, float, bool, np.number)) for leaf in flatten_structure(value))


def check_finite(name: str, tensor: torch.Tensor | np.ndarray) -> None:
    """Raise ValueError naming the position of the first NaN or infinite value of a floating-point array."""
    if not isinstance(tensor, torch.Tensor) or (not tensor.is_floating_point() and not tensor.is_complex()):
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


def _take(array: torch.Tensor | np.ndarray, index: torch.Tensor) -> torch.Tensor | np.ndarray:
    """The rows ``index`` of a tensor, or of a numpy array of strings."""
    if isinstance(array, np.ndarray):
        return array[index.cpu().numpy()]
    return array.index_select(0, index)


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
        tensors = [t for t in flatten_structure(self.x) if isinstance(t, torch.Tensor)]
        order = torch.randperm(n).to(tensors[0].device if tensors else "cpu") if shuffle else None
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
                take = lambda t: _take(t, index)  # noqa: E731
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


_EXHAUSTED_HINT = ("pass a re-iterable (a PyDataset, a torch DataLoader or Dataset, or an object whose __iter__ "
                   "starts a new pass, such as timeseries_dataset_from_array's result) or steps_per_epoch")


class IterableData:
    """Batches from a ``PyDataset``, a torch DataLoader, a Dataset (batched here), anything re-iterable, or a
    one-shot generator / iterator.

    Without ``steps`` every epoch is a whole new pass over a re-iterable source (``iter(source)`` again); a one-shot
    iterator is used up by its first pass. With ``steps`` (``steps_per_epoch``, ``validation_steps``), as in Keras,
    one stream runs on across epochs, ``steps`` batches each: when a re-iterable source ends inside an epoch, that
    epoch ends early (with a warning) and the next starts a new pass; a one-shot iterator that ends stays ended.
    An epoch that yields no batch at all raises ValueError saying why, never a ``nan`` loss.
    """

    def __init__(self, source: Any, batch_size: int, shuffle: bool, device: torch.device, float_dtype: torch.dtype,
                 what: str = "x"):
        self.device, self.float_dtype, self.what = device, float_dtype, what
        self.shuffle = shuffle
        self._py_dataset = source if isinstance(source, PyDataset) else None
        if self._py_dataset is not None:
            self.source = source
        elif isinstance(source, DataLoader):
            self.source = source
        elif isinstance(source, (Dataset, IterableDataset)):
            self.source = DataLoader(source, batch_size=batch_size,
                                     shuffle=shuffle and not isinstance(source, IterableDataset))
        else:
            self.source = source
        self.one_shot = self._py_dataset is None and _is_one_shot(self.source)
        self._stream: Iterator | None = None  # the iterator that runs on across epochs when steps are given
        self._batches_seen = 0  # by the stream since its pass began

    @property
    def steps(self) -> int | None:
        """Batches per pass, when the source knows it (``len``, a PyDataset's ``num_batches``), else None."""
        if self._py_dataset is not None:
            return self._py_dataset.num_batches
        try:
            return len(self.source)
        except TypeError:
            return None

    def check_passes(self, passes: int, steps: int | None, steps_name: str) -> None:
        """Refuse, before training, a one-shot iterator that ``passes`` epochs would each read to its end."""
        if self.one_shot and steps is None and passes > 1:
            raise ValueError(
                f"{self.what} is a one-shot {type(self.source).__name__}: the first of {passes} passes would use it "
                f"up and leave the later ones no data (the generator is exhausted after one pass). To read data "
                f"every epoch, {_EXHAUSTED_HINT} ({steps_name}=N: each epoch reads the next N batches)."
            )

    def _new_pass(self) -> Iterator:
        if self._py_dataset is not None:
            return read_batches(self._py_dataset, epoch_indices(self._py_dataset, self.shuffle))
        return iter(self.source)

    def batches(self, shuffle: bool = False, steps: int | None = None) -> Iterator[Batch]:
        """One epoch's batches. ``shuffle`` was fixed when the data was made (a PyDataset draws its order per pass);
        a PyDataset's ``on_epoch_begin()`` runs before the first batch and ``on_epoch_end()`` after the last."""
        del shuffle
        if self._py_dataset is not None:
            self._py_dataset.on_epoch_begin()
        try:
            yielded = yield from (self._pass() if steps is None else self._steps(steps))
        finally:
            if self._py_dataset is not None:
                self._py_dataset.on_epoch_end()
        if yielded == 0:
            raise ValueError(self._empty_message())

    def _pass(self) -> Iterator[Batch]:
        self._stream = None
        yielded = 0
        for item in self._new_pass():
            yielded += 1
            yield self._convert(item)
        return yielded

    def _steps(self, steps: int) -> Iterator[Batch]:
        """``steps`` batches read on from where the previous epoch stopped."""
        restarted = self._stream is None
        if self._stream is None:
            self._stream, self._batches_seen = self._new_pass(), 0
        yielded = 0
        while yielded < steps:
            try:
                item = next(self._stream)
            except StopIteration:
                if not self.one_shot and yielded == 0 and not restarted:  # the last pass ended with an epoch
                    self._stream, self._batches_seen, restarted = self._new_pass(), 0, True
                    continue
                if not self.one_shot:
                    self._stream = None  # the next epoch starts a new pass
                break
            yielded += 1
            self._batches_seen += 1
            yield self._convert(item)
        if 0 < yielded < steps:
            then = ("The next epoch starts a new pass." if not self.one_shot else
                    f"It is a one-shot iterator, so the next epoch has no data: make it yield at least steps * "
                    f"epochs batches, or {_EXHAUSTED_HINT}.")
            warnings.warn(f"{self.what} ran out of data after {yielded} of the {steps} batches of this epoch "
                          f"({self._batches_seen} batches in this pass). {then}", RuntimeWarning, stacklevel=3)
        return yielded

    def _empty_message(self) -> str:
        name = type(self.source).__name__
        if self.one_shot:
            return (f"{self.what} produced no batches: the generator is exhausted ({name} is a one-shot iterator, "
                    f"used up by an earlier pass). To read the data every epoch, {_EXHAUSTED_HINT}.")
        return (f"{self.what} produced no batches: a new pass over the {name} yielded nothing. Check that it holds "
                "data (a PyDataset's __len__, a Dataset's length, what __iter__ returns).")

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
            raise ValueError(f"A batch of {self.what} must be x, (x,), (x, y) or (x, y, sample_weight); received a "
                             f"{type(item).__name__} of {len(item)} elements.")
        convert = lambda v: to_tensor(v, self.device, self.float_dtype, f"A batch of {self.what}")  # noqa: E731
        inputs = lambda v: to_tensor(v, self.device, self.float_dtype, f"A batch of {self.what}",  # noqa: E731
                                     strings=True)
        return (map_structure(inputs, x), None if y is None else map_structure(convert, y),
                None if sw is None else map_structure(convert, sw))


def _is_one_shot(source: Any) -> bool:
    """An iterator whose ``__iter__`` returns itself (a generator): it yields its data once."""
    if not hasattr(source, "__next__"):
        return False
    try:
        return iter(source) is source
    except TypeError:
        return True


def is_iterable_source(x: Any) -> bool:
    if isinstance(x, (PyDataset, DataLoader, Dataset, IterableDataset)):
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

    def convert(name: str, structure: Any, strings: bool = False) -> Any:
        if _nested_numbers(structure) or (strings and string_array(structure) is not None):
            return to_tensor(structure, device, float_dtype, name, strings)
        return map_structure(lambda v: to_tensor(v, device, float_dtype, name, strings), structure)

    prefix = f"{what}: " if what else ""
    x = convert(prefix + "x", x, strings=True)
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
