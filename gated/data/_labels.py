"""Class labels as written in a file -> integer class ids 0..K-1 and the class names, one rule for every reader."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._files import FileFormatError


def _numeric_key(label: str) -> float | None:
    try:
        return float(label)
    except ValueError:
        return None


def sorted_class_names(labels: Sequence[str]) -> tuple[str, ...]:
    """The distinct labels in class-id order: by numeric value when every label is a number ('2' < '10'),
    else alphabetically."""
    distinct = set(labels)
    keys = {label: _numeric_key(label) for label in distinct}
    if all(key is not None for key in keys.values()):
        return tuple(sorted(distinct, key=lambda label: (keys[label], label)))
    return tuple(sorted(distinct))


def encode_labels(labels: Sequence[str], line_numbers: Sequence[int], name: str,
                  class_names: Sequence[str] | None, declared: Sequence[str] | None = None,
                  declared_where: str = "") -> tuple[np.ndarray, tuple[str, ...]]:
    """(N,) int64 class ids and the class names.

    The order of the classes is, first found: ``class_names`` (the caller's, e.g. the training file's, so that a
    test file gets the same ids), the labels the file declares (``declared``), the sorted distinct labels.
    A label outside ``class_names`` or ``declared`` raises a FileFormatError naming its line.
    """
    if class_names is not None:
        names = tuple(str(label) for label in class_names)
        if len(set(names)) != len(names):
            raise ValueError(f"class_names has duplicates: {names}.")
        origin = "the class_names passed"
    elif declared is not None:
        names, origin = tuple(declared), declared_where
    else:
        names, origin = sorted_class_names(labels), ""
    index = {label: k for k, label in enumerate(names)}
    ids = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        k = index.get(label)
        if k is None:
            raise FileFormatError(name, line_numbers[i], f"class label {label!r} is not one of {origin} {names}")
        ids[i] = k
    return ids, names
