"""Array helpers with Keras's semantics: ``to_categorical``, ``normalize`` and ``pad_sequences``; and
``string_array``, which tells arrays of strings (kept as numpy arrays: torch has none) from numbers."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

_EPSILON = 1e-7


def to_categorical(x: Any, num_classes: int | None = None, dtype: str | np.dtype = "float32") -> np.ndarray:
    """One-hot encode integer class labels: shape ``x.shape + (num_classes,)``, a trailing 1 in ``x`` dropped.

    ``num_classes`` defaults to ``max(x) + 1``. A torch tensor gives a torch tensor (on its device), anything else a
    numpy array of ``dtype`` (float32 by default, as ``tf.keras`` returned; Keras 3 returns float64).
    """
    if isinstance(x, torch.Tensor):
        labels = x.reshape(x.shape[:-1]) if x.ndim > 1 and x.shape[-1] == 1 else x
        _check_labels(labels.detach().cpu().numpy(), num_classes)
        num_classes = num_classes or int(labels.max()) + 1
        return torch.nn.functional.one_hot(labels.long(), num_classes).to(torch.float32)
    array = np.asarray(x)
    if array.dtype.kind == "f" and not np.all(np.mod(array, 1) == 0):
        bad = array[np.mod(array, 1) != 0].flat[0]
        raise ValueError(f"to_categorical expects integer class labels; received the value {bad}.")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"to_categorical expects integer class labels; received an array of dtype {array.dtype}.")
    labels = array.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    _check_labels(labels, num_classes)
    num_classes = num_classes or int(labels.max()) + 1
    categorical = np.zeros((labels.size, num_classes), dtype=dtype)
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(shape + (num_classes,))


def _check_labels(labels: np.ndarray, num_classes: int | None) -> None:
    if labels.size == 0:
        if not num_classes:
            raise ValueError("to_categorical received no labels; pass num_classes to encode an empty array.")
        return
    low, high = labels.min(), labels.max()
    if low < 0:
        raise ValueError(f"to_categorical expects class labels >= 0; received {low}.")
    if num_classes and high >= num_classes:
        raise ValueError(f"to_categorical received the label {high}, but num_classes={num_classes} allows labels "
                         f"0 to {num_classes - 1}. Raise num_classes or leave it out to use max(label) + 1.")


def normalize(x: Any, axis: int = -1, order: int = 2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero vectors stay zero).

    Numpy arrays are divided by the norm (a zero norm counts as 1); torch tensors use Keras's
    ``ops.normalize``, ``x / max(norm, 1e-7)``.
    """
    if isinstance(x, torch.Tensor):
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"normalize needs order as an int >= 1; received {order!r}.")
        if order == 2:
            inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
            return x * torch.clamp(inv_norm, max=1.0 / _EPSILON)
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.clamp(norm, min=_EPSILON)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def pad_sequences(sequences: Sequence, maxlen: int | None = None, dtype: str | type = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pad (or cut) sequences to a common length: (num_samples, maxlen) + the shape of one timestep.

    ``padding`` and ``truncating`` ('pre' or 'post') say at which end values are added or removed; ``maxlen``
    defaults to the longest sequence. Timesteps may be vectors: ``[[v1, v2], [v1]]`` pads to (2, 2, features).
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences needs a list of sequences; received {type(sequences).__name__}.")
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post'; received {padding!r}.")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post'; received {truncating!r}.")
    lengths, sample_shape = [], None
    for index, s in enumerate(sequences):
        try:
            lengths.append(len(s))
        except TypeError as error:
            raise ValueError(f"pad_sequences needs a list of sequences; item {index} is not one: {s!r}.") from error
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"pad_sequences: dtype {dtype} cannot hold the string padding value {value!r}; pass "
                         "dtype=object for variable-length strings.")
    padded = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return padded
    for index, s in enumerate(sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: timesteps of sequence {index} have shape {kept.shape[1:]}, but earlier "
                             f"sequences have {tuple(sample_shape)}.")
        if padding == "post":
            padded[index, :len(kept)] = kept
        else:
            padded[index, -len(kept):] = kept
    return padded


def string_array(value: Any) -> np.ndarray | None:
    """``value`` as a numpy array of str when it holds strings (dtype str/bytes, or objects that are all str or
    bytes), else None. torch has no string tensors: such inputs stay numpy arrays for the text layers to read."""
    if isinstance(value, torch.Tensor) or isinstance(value, (str, bytes)):
        return None
    try:
        array = np.asarray(value)
    except ValueError:
        return None
    if array.dtype.kind in "US" and array.ndim > 0:
        return array
    if array.dtype == object and array.size and array.ndim > 0 and all(
            isinstance(item, (str, bytes)) for item in array.flat):
        return array
    return None
