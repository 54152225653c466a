"""``split_dataset``: two torch datasets from one, with Keras's rules for the sizes (its torch backend's result).

Keras on torch turns arrays into a ``TensorDataset`` and splits it with ``torch.utils.data.random_split``, drawing
the order from ``torch.Generator().manual_seed(seed)`` when ``shuffle``; gated does the same, so the same seed
puts the same samples on each side as Keras does. Without ``shuffle`` the sides are the first and the next
samples in order, as Keras documents (its torch path shuffles even then, from torch's global generator).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset, random_split


def _as_dataset(dataset: Any) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (np.ndarray, torch.Tensor)):
        return TensorDataset(torch.as_tensor(dataset))
    if isinstance(dataset, (list, tuple)) and dataset:
        columns = [torch.as_tensor(np.asarray(column)) for column in dataset]
        lengths = [len(column) for column in columns]
        if len(set(lengths)) > 1:
            raise ValueError(f"split_dataset received a {type(dataset).__name__} of {len(columns)} arrays with "
                             f"different lengths {tuple(lengths)}; every array needs one row per sample, e.g. "
                             "(x, y) with len(x) == len(y).")
        return TensorDataset(*columns)
    raise TypeError(f"split_dataset expects a torch Dataset, an array, or a list or tuple of arrays of the same "
                    f"length (such as (x, y)); received {type(dataset).__name__}.")


def _size_kind(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return "int"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return "float"
    raise TypeError(f"split_dataset: {name} must be an int (a number of samples), a float in (0, 1) (a fraction) "
                    f"or None; received {type(value).__name__} {value!r}.")


def split_sizes(left_size: Any, right_size: Any, total: int) -> tuple[int, int]:
    """Keras's ``_rescale_dataset_split_sizes``: fractions are rounded (``round(f * total)``), a missing side is
    the complement, and neither side may be empty or the two overlap."""
    kinds = {"left_size": _size_kind(left_size, "left_size"), "right_size": _size_kind(right_size, "right_size")}
    if left_size is None and right_size is None:
        raise ValueError("split_dataset needs left_size or right_size (or both); received neither. For an 80/20 "
                         "split pass left_size=0.8.")
    sizes = {}
    for name, value in (("left_size", left_size), ("right_size", right_size)):
        kind = kinds[name]
        if kind == "int" and not 0 < value < total:
            raise ValueError(f"split_dataset: {name}={value} must be a number of samples between 1 and {total - 1} "
                             f"(the dataset holds {total}), or a fraction in (0, 1).")
        if kind == "float" and not 0 < value < 1:
            raise ValueError(f"split_dataset: {name}={value} must be a fraction strictly between 0 and 1, or a "
                             f"number of samples between 1 and {total - 1}.")
        sizes[name] = None if kind is None else int(round(value * total)) if kind == "float" else int(value)
    if kinds["left_size"] == kinds["right_size"] == "float" and left_size + right_size > 1:
        raise ValueError(f"split_dataset: left_size + right_size = {left_size + right_size} exceeds 1; the two "
                         "fractions must add up to at most 1.")
    left, right = sizes["left_size"], sizes["right_size"]
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"split_dataset: left_size and right_size give {left} + {right} = {left + right} samples, "
                         f"more than the {total} the dataset holds.")
    for side, size in (("left", left), ("right", right)):
        if size == 0:
            raise ValueError(f"split_dataset: with {total} samples, left_size={left_size!r} and "
                             f"right_size={right_size!r} leave the {side} side empty. Choose sizes that give each "
                             "side at least one sample.")
    return left, right


def split_dataset(dataset: Any, left_size: Any = None, right_size: Any = None, shuffle: bool = False,
                  seed: int | None = None, preferred_backend: str | None = None) -> tuple[Subset, Subset]:
    """Split ``dataset`` (a torch Dataset, an array, or a list or tuple of arrays such as ``(x, y)``) into a left
    and a right ``torch.utils.data.Subset``; each item is a tuple with one tensor per array.

    ``left_size`` / ``right_size``: a number of samples (int) or a fraction in (0, 1) (float); None is the
    complement of the other side. Without ``shuffle`` the left side is the first samples, in order. gated feeds
    either side straight to ``fit`` (batched by ``batch_size``). ``preferred_backend`` may only be None or
    'torch' (gated's backend).
    """
    if preferred_backend not in (None, "torch"):
        raise ValueError(f"split_dataset: gated runs on torch, so preferred_backend must be None or 'torch'; "
                         f"received {preferred_backend!r}.")
    dataset = _as_dataset(dataset)
    left, right = split_sizes(left_size, right_size, len(dataset))
    if not shuffle:  # in order (Keras documents this; its torch path draws a permutation even then)
        return Subset(dataset, range(left)), Subset(dataset, range(left, left + right))
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    rest = len(dataset) - left - right  # random_split needs sizes that add up: the rest is left out
    parts = random_split(dataset, [left, right] + ([rest] if rest else []), generator=generator)
    return parts[0], parts[1]
